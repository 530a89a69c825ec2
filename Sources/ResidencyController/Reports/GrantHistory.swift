import ResidencyCore

/// Every request's grant after each filing or decision that changed it, so the grant an access was made under is
/// found from the access alone — its request and ledger index — on any thread, in any order. The streamed
/// report encodes slices of the ledger on several threads at once; `GrantWalker` gives the same grants but only
/// to lines asked about in ledger order. Built by that walker, so the two cannot disagree on what a decision
/// does. Memory follows the grant events, which the report holds anyway.
struct GrantHistory: Sendable {
    private var changes: [String: [(index: Int, grant: CrossBorderReport.Grant)]] = [:]

    /// `events` in ledger order.
    init(events: [GrantEvent]) {
        var walker = GrantWalker(events: [])
        for event in events {
            if let grant = walker.apply(event) { changes[event.request, default: []].append((event.ledgerIndex, grant)) }
        }
    }

    /// The grant as it stood just before `access` (the last change at a lower ledger index), or `.unknown`.
    func grant(for access: CrossBorderReport.Access) -> CrossBorderReport.Grant {
        guard let list = changes[access.request] else { return .unknown }
        // The first change at or after the access; the one before it is the grant.
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle].index < access.ledgerIndex { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? .unknown : list[low - 1].grant
    }
}
