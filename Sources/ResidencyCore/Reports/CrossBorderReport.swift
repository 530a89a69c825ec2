/// Cross-border access over a period: who reached which tenant's data from where, on what legal basis and
/// grant; break-glass grants and their reviews; refused attempts. Every line carries its ledger index.
package struct CrossBorderReport: Sendable {
    /// The grant an access was made under, as the ledger recorded it up to that access. Shared by every
    /// access under one grant, so a report of millions of lines keeps one copy of each justification.
    package final class Grant: Sendable, Hashable {
        package let justification: String
        package let ticket: String
        package let basis: String
        package let basisRule: String
        /// `approved`, `auto-approved`, `break-glass`, `denied`, `dismissed`, `pending` or `unknown`.
        package let decision: String
        package let decidedBy: String
        package let breakGlass: Bool
        /// Decided by the token that filed the request or by the staff member it was for: possible before
        /// separation of duties was enforced, and flagged so an auditor sees every such grant.
        package let decidedByFiler: Bool

        package init(
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
        package static let unknown = Grant(
            justification: "", ticket: "", basis: "", basisRule: "", decision: "unknown", decidedBy: "",
            breakGlass: false)

        package static func == (a: Grant, b: Grant) -> Bool {
            a === b
                || ((a.justification, a.ticket, a.basis, a.basisRule) == (
                    b.justification, b.ticket, b.basis, b.basisRule
                )
                    && (a.decision, a.decidedBy, a.breakGlass, a.decidedByFiler) == (
                        b.decision, b.decidedBy, b.breakGlass, b.decidedByFiler
                    ))
        }

        package func hash(into hasher: inout Hasher) {
            hasher.combine(justification)
            hasher.combine(ticket)
            hasher.combine(basis)
            hasher.combine(decision)
        }
    }

    package struct Access: Sendable, Hashable {
        package let ledgerIndex: Int
        package let time: Int64
        package let tenant: String
        package let region: String
        package let request: String
        package let staff: String
        package let destination: String
        package let dataClass: String
        package let mode: String
        package let resource: String
        package var grant: Grant

        package var justification: String { grant.justification }
        package var ticket: String { grant.ticket }
        package var basis: String { grant.basis }
        package var basisRule: String { grant.basisRule }
        package var decision: String { grant.decision }
        package var decidedBy: String { grant.decidedBy }
        package var breakGlass: Bool { grant.breakGlass }
        package var decidedByFiler: Bool { grant.decidedByFiler }

        package init(
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

    package struct BreakGlass: Sendable, Hashable {
        package let ledgerIndex: Int
        package let time: Int64
        package let tenant: String
        package let region: String
        package let request: String
        package let staff: String
        package let destination: String
        package let justification: String
        /// `reviewed`, `due` or `overdue`.
        package let review: String
        /// When the review is (or was) due; nil when the request is no longer in the directory.
        package let reviewDueAt: Int64?

        package init(
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

    package struct Refusal: Sendable, Hashable {
        package let ledgerIndex: Int
        package let time: Int64
        package let tenant: String
        package let region: String
        /// `filing` (a request refused) or `use` (an access outside a grant).
        package let stage: String
        package let staff: String
        package let destination: String
        package let code: String
        package let rule: String
        /// What the caller was told (empty in entries written before the ledger kept it).
        package let message: String

        package init(
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

    package typealias Names = ReportNames

    package let from: Int64
    package let to: Int64
    package let region: String?
    package let tenant: String?
    package let generatedAt: Int64
    package let policyVersion: String
    package let checkpoint: ReportCheckpoint
    package let accesses: [Access]
    package let breakGlass: [BreakGlass]
    package let refusals: [Refusal]
    package let names: Names
    /// The summary of access lines that are not in `accesses`: set on the frame of a streamed report, whose
    /// lines are read again as they are written (`CrossBorderReport+Streaming.swift`); nil when the summary is
    /// worked out from `accesses`.
    package let tally: AccessTally?
    /// How many break-glass grants, overdue reviews and refusals the period holds, set when `breakGlass` and
    /// `refusals` are one page of them (a report shown in a browser); nil when they list every one.
    package let listedCounts: ListedCounts?

    /// The period's counts of the lists a page shows only part of.
    package struct ListedCounts: Sendable, Equatable {
        package let breakGlass: Int
        package let overdueReviews: Int
        package let refusals: Int

        package init(breakGlass: Int, overdueReviews: Int, refusals: Int) {
            self.breakGlass = breakGlass
            self.overdueReviews = overdueReviews
            self.refusals = refusals
        }
    }

    package init(
        from: Int64, to: Int64, region: String?, tenant: String?, generatedAt: Int64, policyVersion: String,
        checkpoint: ReportCheckpoint, accesses: [Access], breakGlass: [BreakGlass], refusals: [Refusal],
        names: Names = Names(), tally: AccessTally? = nil, listedCounts: ListedCounts? = nil
    ) {
        self.tally = tally
        self.listedCounts = listedCounts
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
    package func counts(_ key: (Access) -> String) -> [(key: String, count: Int)] {
        var counts: [String: Int] = [:]
        for access in accesses { counts[key(access), default: 0] += 1 }
        return counts.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }

    package var accessCount: Int { tally?.accesses ?? accesses.count }
    package var byDestination: [(key: String, count: Int)] { tally?.byDestination ?? counts(\.destination) }
    package var byBasis: [(key: String, count: Int)] { tally?.byBasis ?? counts(\.basis) }
    package var byJustification: [(key: String, count: Int)] { tally?.byJustification ?? counts(\.justification) }
    package var byStaff: [(key: String, count: Int)] { tally?.byStaff ?? counts(\.staff) }
    package var overdueReviews: Int {
        listedCounts?.overdueReviews ?? breakGlass.filter { $0.review == "overdue" }.count
    }
    /// Break-glass grants in the period (listed in `breakGlass`, or one page of them there).
    package var breakGlassCount: Int { listedCounts?.breakGlass ?? breakGlass.count }
    /// Refused attempts in the period (listed in `refusals`, or one page of them there).
    package var refusalCount: Int { listedCounts?.refusals ?? refusals.count }
    /// How many grants used in the period were decided by their own filer (or staff member).
    package var grantsDecidedByFiler: Int {
        if let tally { return tally.grantsDecidedByFiler }
        var requests = Set<String>()
        for access in accesses where access.grant.decidedByFiler { requests.insert(access.request) }
        return requests.count
    }
}
