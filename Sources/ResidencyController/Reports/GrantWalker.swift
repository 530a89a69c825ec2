import ResidencyCore

/// Walks the grant events beside the access lines in ledger order, so each access carries the grant as it
/// stood when the access was made (a later denial does not rewrite an earlier approved access). Keeps one
/// grant per request, so its memory follows the requests, not the access lines.
///
/// A decision made by the token that filed the request, or by the staff member it was for, is flagged
/// (`decidedByFiler`): refused since separation of duties was enforced, such grants may still stand in
/// the ledger from before. The flag is worked out once per decision, here, never per access line.
struct GrantWalker {
    private let events: [GrantEvent]
    private var grants: [String: CrossBorderReport.Grant] = [:]
    private var filers: [String: (actor: String, staff: String)] = [:]
    private var next = 0

    /// `events` in ledger order.
    init(events: [GrantEvent]) {
        self.events = events
    }

    /// The grant `access` was made under. Accesses must be asked about in ledger order.
    mutating func grant(for access: CrossBorderReport.Access) -> CrossBorderReport.Grant {
        while next < events.count, events[next].ledgerIndex < access.ledgerIndex {
            apply(events[next])
            next += 1
        }
        return grants[access.request] ?? .unknown
    }

    /// A filing opens a grant; a decision (whose body repeats the request as decided) replaces one that
    /// was filed, and is ignored for a request the ledger never saw filed.
    /// Returns the request's grant after the event, nil when the event changed nothing.
    @discardableResult
    mutating func apply(_ event: GrantEvent) -> CrossBorderReport.Grant? {
        let decision: String
        let decidedBy: String
        var decidedByFiler = false
        switch event.kind {
        case .accessRequested, .accessAutoApproved, .accessBreakGlass:
            filers[event.request] = (event.actor, event.staff)
            switch event.kind {
            case .accessRequested: (decision, decidedBy) = ("pending", "")
            case .accessAutoApproved: (decision, decidedBy) = ("auto-approved", "policy")
            default: (decision, decidedBy) = ("break-glass", "")
            }
        default:
            guard grants[event.request] != nil else { return nil }
            (decision, decidedBy) = (String(event.kind.rawValue.dropFirst("access.".count)), event.actor)
            if let filer = filers[event.request] {
                decidedByFiler = event.actor == filer.actor || event.actor == filer.staff
            }
        }
        let grant = CrossBorderReport.Grant(
            justification: event.justification, ticket: event.ticket, basis: event.basis,
            basisRule: event.basisRule, decision: decision, decidedBy: decidedBy, breakGlass: event.breakGlass,
            decidedByFiler: decidedByFiler)
        grants[event.request] = grant
        return grant
    }
}

/// The distinct tenants, countries and transfer rules a report's lines name, gathered line by line so the
/// names beside them are looked up once each. Consecutive lines mostly repeat the previous line's values, so
/// only a change is hashed.
struct ReportNameKeys {
    var tenantIDs = Set<String>()
    var codes = Set<String>()
    var rules = Set<ReportNames.BasisKey>()
    private var last: (tenant: String, destination: String, region: String, rule: String)?

    mutating func add(_ access: CrossBorderReport.Access) {
        if last?.tenant != access.tenant { tenantIDs.insert(access.tenant) }
        if last?.destination != access.destination { codes.insert(access.destination) }
        if last?.region != access.region || last?.rule != access.basisRule {
            rules.insert(.init(region: access.region, rule: access.basisRule))
        }
        last = (access.tenant, access.destination, access.region, access.basisRule)
    }

    mutating func add(tenant: String, destination: String) {
        tenantIDs.insert(tenant)
        codes.insert(destination)
    }
}
