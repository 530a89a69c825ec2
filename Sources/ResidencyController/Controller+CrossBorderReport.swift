import Dispatch
import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// The cross-border report, read from the ledger itself so every line is an entry an auditor can prove
/// against the signed checkpoint the report names.
///
/// Two passes. The rare entries — filings, decisions, break-glass grants, refusals — are read whole and in
/// order. The `access.used` entries, which are nearly all of a busy ledger, are read in index slices on
/// every core at once, each entry scanned in place for the fields a line needs (`JSONObjectScanner`) rather
/// than parsed into a tree. A last pass walks the lines in ledger order and attaches to each the grant as the
/// ledger stood at that point.
extension Controller {
    public func crossBorderReport(from: Int64, to: Int64, region: String?, tenant: String?) throws -> CrossBorderReport
    {
        try crossBorderReport(from: from, to: to, region: region, tenant: tenant, entriesPerSlice: 50_000)
    }

    /// `entriesPerSlice` is how small a ledger is read in one slice on one thread (tests set it low to
    /// exercise the slicing on a small ledger).
    func crossBorderReport(
        from: Int64, to: Int64, region: String?, tenant: String?, entriesPerSlice: Int
    ) throws -> CrossBorderReport {
        guard from < to else {
            throw ControllerError.invalidField(field: "from", message: "must be before \"to\"")
        }
        if let region, policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: "region",
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
        let now = clock.now()
        let checkpoint = try ledger.currentCheckpoint()
        let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: tenant)
        let rare = try rareAccessEntries(below: checkpoint.size, filter: filter)
        var accesses = try accessLines(below: checkpoint.size, filter: filter, entriesPerSlice: entriesPerSlice)
        Self.attachGrants(to: &accesses, from: rare.grantEvents)
        let breakGlass = try rare.breakGlass.map { item -> CrossBorderReport.BreakGlass in
            let current = try pool.read { try AccessRepository($0).request(id: item.request) }
            let review =
                current?.reviewedAt != nil
                ? "reviewed" : (current?.isReviewOverdue(at: now) ?? false) ? "overdue" : "due"
            return CrossBorderReport.BreakGlass(
                ledgerIndex: item.ledgerIndex, time: item.time, tenant: item.tenant, region: item.region,
                request: item.request, staff: item.staff, destination: item.destination,
                justification: item.justification, review: review)
        }
        return CrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, generatedAt: now, policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint), accesses: accesses, breakGlass: breakGlass,
            refusals: rare.refusals)
    }

    /// Filings, decisions, break-glass grants and refusals below the checkpoint, parsed whole.
    private func rareAccessEntries(below size: Int, filter: CrossBorderFilter) throws -> RareAccessEntries {
        let kinds = [
            "access.requested", "access.auto_approved", "access.break_glass", "access.approved", "access.denied",
            "access.dismissed", "access.refused", "access.use_refused",
        ]
        return try pool.read { (database: Database) throws -> RareAccessEntries in
            var rare = RareAccessEntries()
            try LedgerRepository(database).forEachEntry(kinds: kinds, below: size) { index, bytes in
                let entry = try JSONParser.parse(Array(bytes))
                let kind = entry.text("kind")
                let body = entry["body"] ?? .null
                var time: Int64 = 0
                if case .number(let n) = entry["time"], let value = n.int64Value { time = value }
                let entryTenant = entry.text("tenant")
                let entryRegion = entry.text("region")
                switch kind {
                case "access.refused", "access.use_refused", "access.break_glass": break
                default:
                    rare.grantEvents.append(
                        GrantEvent(
                            ledgerIndex: index, kind: kind, request: body.text("request"), actor: entry.text("actor"),
                            body: body))
                    return
                }
                if kind == "access.break_glass" {
                    rare.grantEvents.append(
                        GrantEvent(
                            ledgerIndex: index, kind: kind, request: body.text("request"), actor: entry.text("actor"),
                            body: body))
                }
                guard filter.admits(time: time, tenant: entryTenant, region: entryRegion) else { return }
                if kind == "access.break_glass" {
                    rare.breakGlass.append(
                        PendingBreakGlass(
                            ledgerIndex: index, time: time, tenant: entryTenant, region: entryRegion,
                            request: body.text("request"), staff: body.text("staff"),
                            destination: body.text("physical_country"), justification: body.text("justification")))
                } else {
                    rare.refusals.append(
                        CrossBorderReport.Refusal(
                            ledgerIndex: index, time: time, tenant: entryTenant, region: entryRegion,
                            stage: kind == "access.refused" ? "filing" : "use", staff: body.text("staff"),
                            destination: body.text("physical_country"),
                            code: kind == "access.refused" ? body.text("code") : body.text("refusal"),
                            rule: body.text("rule")))
                }
            }
            return rare
        }
    }

    /// Every `access.used` entry below the checkpoint that the filter admits, as report lines in ledger
    /// order, with no grant attached yet. Slices of the index range are scanned on all cores.
    private func accessLines(
        below size: Int, filter: CrossBorderFilter, entriesPerSlice: Int
    ) throws -> [CrossBorderReport.Access] {
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let sliceCount = size < entriesPerSlice ? 1 : max(workers * 4, size / max(entriesPerSlice, 1))
        let sliceLength = (size + sliceCount - 1) / max(sliceCount, 1)
        let slices = (0..<sliceCount).map { i in min(size, i * sliceLength)..<min(size, (i + 1) * sliceLength) }
        let results = Mutex<[Int: [CrossBorderReport.Access]]>([:])
        let failure = Mutex<(any Error)?>(nil)
        let next = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: min(workers, sliceCount)) { _ in
            while true {
                let slice = next.add(1, ordering: .relaxed).oldValue
                guard slice < slices.count, failure.withLock({ $0 == nil }) else { return }
                do {
                    let lines = try pool.read { database in
                        try Self.scanAccessLines(in: LedgerRepository(database), indices: slices[slice], filter: filter)
                    }
                    results.withLock { $0[slice] = lines }
                } catch {
                    failure.withLock { $0 = $0 ?? error }
                }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        return try results.withLock { parts in
            var lines: [CrossBorderReport.Access] = []
            lines.reserveCapacity(parts.values.reduce(0) { $0 + $1.count })
            for slice in slices.indices {
                guard let part = parts.removeValue(forKey: slice) else {
                    throw ControllerError.storage("a slice of the ledger was not scanned")
                }
                lines.append(contentsOf: part)
            }
            return lines
        }
    }

    private static func scanAccessLines(
        in ledger: LedgerRepository, indices: Range<Int>, filter: CrossBorderFilter
    ) throws -> [CrossBorderReport.Access] {
        var lines: [CrossBorderReport.Access] = []
        var strings = StringInterner()
        func text(_ value: JSONRawValue) throws -> String {
            if let plain = value.plainStringContents { return strings.string(plain) }
            return try value.string() ?? ""
        }
        try ledger.forEachEntry(kind: "access.used", indices: indices) { index, bytes in
            var time: Int64 = 0
            var tenant = ""
            var region = ""
            var body: UnsafeRawBufferPointer?
            try JSONObjectScanner.forEachMember(of: bytes) { key, value in
                if JSONObjectScanner.key(key, is: "time") {
                    time = value.int64 ?? 0
                } else if JSONObjectScanner.key(key, is: "tenant") {
                    tenant = try text(value)
                } else if JSONObjectScanner.key(key, is: "region") {
                    region = try text(value)
                } else if JSONObjectScanner.key(key, is: "body"), value.isObject {
                    body = value.bytes
                }
            }
            guard filter.admits(time: time, tenant: tenant, region: region), let body else { return }
            var request = ""
            var staff = ""
            var destination = ""
            var dataClass = ""
            var mode = ""
            var resource = ""
            try JSONObjectScanner.forEachMember(of: body) { key, value in
                if JSONObjectScanner.key(key, is: "request") {
                    request = try text(value)
                } else if JSONObjectScanner.key(key, is: "staff") {
                    staff = try text(value)
                } else if JSONObjectScanner.key(key, is: "physical_country") {
                    destination = try text(value)
                } else if JSONObjectScanner.key(key, is: "data_class") {
                    dataClass = try text(value)
                } else if JSONObjectScanner.key(key, is: "mode") {
                    mode = try text(value)
                } else if JSONObjectScanner.key(key, is: "resource") {
                    resource = try text(value)
                }
            }
            lines.append(
                CrossBorderReport.Access(
                    ledgerIndex: index, time: time, tenant: tenant, region: region, request: request, staff: staff,
                    destination: destination, dataClass: dataClass, mode: mode, resource: resource,
                    grant: .unknown))
        }
        return lines
    }

    /// Walks the lines and the grant events together in ledger order, so each access carries the grant as it
    /// stood when the access was made (a later denial does not rewrite an earlier approved access).
    private static func attachGrants(to accesses: inout [CrossBorderReport.Access], from events: [GrantEvent]) {
        var grants: [String: CrossBorderReport.Grant] = [:]
        var next = 0
        // A filing opens a grant; a decision (whose body repeats the request as decided) replaces one that
        // was filed, and is ignored for a request the ledger never saw filed.
        func apply(_ event: GrantEvent) {
            let decision: String
            let decidedBy: String
            switch event.kind {
            case "access.requested": (decision, decidedBy) = ("pending", "")
            case "access.auto_approved": (decision, decidedBy) = ("auto-approved", "policy")
            case "access.break_glass": (decision, decidedBy) = ("break-glass", "")
            default:
                guard grants[event.request] != nil else { return }
                (decision, decidedBy) = (String(event.kind.dropFirst("access.".count)), event.actor)
            }
            let body = event.body
            grants[event.request] = CrossBorderReport.Grant(
                justification: body.text("justification"), ticket: body.text("detail"), basis: body.text("basis"),
                basisRule: body.text("basis_rule"), decision: decision, decidedBy: decidedBy,
                breakGlass: body["break_glass"] == .bool(true))
        }
        for i in accesses.indices {
            while next < events.count, events[next].ledgerIndex < accesses[i].ledgerIndex {
                apply(events[next])
                next += 1
            }
            accesses[i].grant = grants[accesses[i].request] ?? .unknown
        }
    }
}

struct CrossBorderFilter: Sendable {
    let from: Int64
    let to: Int64
    let region: String?
    let tenant: String?

    func admits(time: Int64, tenant: String, region: String) -> Bool {
        time >= from && time < to && (self.region == nil || region == self.region)
            && (self.tenant == nil || tenant == self.tenant)
    }
}

/// A filing or decision about an access request, in ledger order.
struct GrantEvent: Sendable {
    let ledgerIndex: Int
    let kind: String
    let request: String
    let actor: String
    let body: JSONValue
}

struct PendingBreakGlass: Sendable {
    let ledgerIndex: Int
    let time: Int64
    let tenant: String
    let region: String
    let request: String
    let staff: String
    let destination: String
    let justification: String
}

struct RareAccessEntries: Sendable {
    var grantEvents: [GrantEvent] = []
    var breakGlass: [PendingBreakGlass] = []
    var refusals: [CrossBorderReport.Refusal] = []
}

extension JSONValue {
    /// The string member `key`, or "" when absent or not a string: report cells are text.
    func text(_ key: String) -> String {
        if case .string(let s) = self[key] { return s }
        return ""
    }
}
