/// Cross-border access over a period: who reached which tenant's data from where, on what legal basis and
/// grant; break-glass grants and their reviews; refused attempts. Every line carries its ledger index.
public struct CrossBorderReport: Sendable {
    /// The grant an access was made under, as the ledger recorded it up to that access. Shared by every
    /// access under one grant, so a report of millions of lines keeps one copy of each justification.
    public final class Grant: Sendable, Hashable {
        public let justification: String
        public let ticket: String
        public let basis: String
        public let basisRule: String
        /// `approved`, `auto-approved`, `break-glass`, `denied`, `dismissed`, `pending` or `unknown`.
        public let decision: String
        public let decidedBy: String
        public let breakGlass: Bool
        /// Decided by the token that filed the request or by the staff member it was for: possible before
        /// separation of duties was enforced, and flagged so an auditor sees every such grant.
        public let decidedByFiler: Bool

        public init(
            justification: String, ticket: String, basis: String, basisRule: String, decision: String,
            decidedBy: String, breakGlass: Bool, decidedByFiler: Bool = false
        ) {
            self.decidedByFiler = decidedByFiler
            self.justification = justification
            self.ticket = ticket
            self.basis = basis
            self.basisRule = basisRule
            self.decision = decision
            self.decidedBy = decidedBy
            self.breakGlass = breakGlass
        }

        /// An access whose request the ledger has no filing for.
        public static let unknown = Grant(
            justification: "", ticket: "", basis: "", basisRule: "", decision: "unknown", decidedBy: "",
            breakGlass: false)

        public static func == (a: Grant, b: Grant) -> Bool {
            a === b
                || ((a.justification, a.ticket, a.basis, a.basisRule) == (
                    b.justification, b.ticket, b.basis, b.basisRule
                )
                    && (a.decision, a.decidedBy, a.breakGlass, a.decidedByFiler) == (
                        b.decision, b.decidedBy, b.breakGlass, b.decidedByFiler
                    ))
        }

        public func hash(into hasher: inout Hasher) {
            hasher.combine(justification)
            hasher.combine(ticket)
            hasher.combine(basis)
            hasher.combine(decision)
        }
    }

    public struct Access: Sendable, Hashable {
        public let ledgerIndex: Int
        public let time: Int64
        public let tenant: String
        public let region: String
        public let request: String
        public let staff: String
        public let destination: String
        public let dataClass: String
        public let mode: String
        public let resource: String
        public var grant: Grant

        public var justification: String { grant.justification }
        public var ticket: String { grant.ticket }
        public var basis: String { grant.basis }
        public var basisRule: String { grant.basisRule }
        public var decision: String { grant.decision }
        public var decidedBy: String { grant.decidedBy }
        public var breakGlass: Bool { grant.breakGlass }
        public var decidedByFiler: Bool { grant.decidedByFiler }

        public init(
            ledgerIndex: Int, time: Int64, tenant: String, region: String, request: String, staff: String,
            destination: String, dataClass: String, mode: String, resource: String, grant: Grant
        ) {
            self.ledgerIndex = ledgerIndex
            self.time = time
            self.tenant = tenant
            self.region = region
            self.request = request
            self.staff = staff
            self.destination = destination
            self.dataClass = dataClass
            self.mode = mode
            self.resource = resource
            self.grant = grant
        }
    }

    public struct BreakGlass: Sendable, Hashable {
        public let ledgerIndex: Int
        public let time: Int64
        public let tenant: String
        public let region: String
        public let request: String
        public let staff: String
        public let destination: String
        public let justification: String
        /// `reviewed`, `due` or `overdue`.
        public let review: String
        /// When the review is (or was) due; nil when the request is no longer in the directory.
        public let reviewDueAt: Int64?

        public init(
            ledgerIndex: Int, time: Int64, tenant: String, region: String, request: String, staff: String,
            destination: String, justification: String, review: String, reviewDueAt: Int64? = nil
        ) {
            self.reviewDueAt = reviewDueAt
            self.ledgerIndex = ledgerIndex
            self.time = time
            self.tenant = tenant
            self.region = region
            self.request = request
            self.staff = staff
            self.destination = destination
            self.justification = justification
            self.review = review
        }
    }

    public struct Refusal: Sendable, Hashable {
        public let ledgerIndex: Int
        public let time: Int64
        public let tenant: String
        public let region: String
        /// `filing` (a request refused) or `use` (an access outside a grant).
        public let stage: String
        public let staff: String
        public let destination: String
        public let code: String
        public let rule: String
        /// What the caller was told (empty in entries written before the ledger kept it).
        public let message: String

        public init(
            ledgerIndex: Int, time: Int64, tenant: String, region: String, stage: String, staff: String,
            destination: String, code: String, rule: String, message: String = ""
        ) {
            self.message = message
            self.ledgerIndex = ledgerIndex
            self.time = time
            self.tenant = tenant
            self.region = region
            self.stage = stage
            self.staff = staff
            self.destination = destination
            self.code = code
            self.rule = rule
        }
    }

    public typealias Names = ReportNames

    public let from: Int64
    public let to: Int64
    public let region: String?
    public let tenant: String?
    public let generatedAt: Int64
    public let policyVersion: String
    public let checkpoint: ReportCheckpoint
    public let accesses: [Access]
    public let breakGlass: [BreakGlass]
    public let refusals: [Refusal]
    public let names: Names

    public init(
        from: Int64, to: Int64, region: String?, tenant: String?, generatedAt: Int64, policyVersion: String,
        checkpoint: ReportCheckpoint, accesses: [Access], breakGlass: [BreakGlass], refusals: [Refusal],
        names: Names = Names()
    ) {
        self.names = names
        self.from = from
        self.to = to
        self.region = region
        self.tenant = tenant
        self.generatedAt = generatedAt
        self.policyVersion = policyVersion
        self.checkpoint = checkpoint
        self.accesses = accesses
        self.breakGlass = breakGlass
        self.refusals = refusals
    }

    /// Counts of accesses by a key, largest first (ties by key).
    public func counts(_ key: (Access) -> String) -> [(key: String, count: Int)] {
        var counts: [String: Int] = [:]
        for access in accesses { counts[key(access), default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }

    public var byDestination: [(key: String, count: Int)] { counts(\.destination) }
    public var byBasis: [(key: String, count: Int)] { counts(\.basis) }
    public var byJustification: [(key: String, count: Int)] { counts(\.justification) }
    public var byStaff: [(key: String, count: Int)] { counts(\.staff) }
    public var overdueReviews: Int { breakGlass.filter { $0.review == "overdue" }.count }
    /// How many grants used in the period were decided by their own filer (or staff member).
    public var grantsDecidedByFiler: Int {
        var requests = Set<String>()
        for access in accesses where access.grant.decidedByFiler { requests.insert(access.request) }
        return requests.count
    }
}
