/// The states of a cross-border access request. Terminal states never change.
package enum AccessState: String, Sendable, Hashable, CaseIterable {
    case pending, approved
    case autoApproved = "auto_approved"
    case denied, dismissed, expired, active, revoked, completed

    package var isTerminal: Bool { [.denied, .dismissed, .expired, .revoked, .completed].contains(self) }
    /// A grant exists: use is allowed while its time lasts.
    package var isGranted: Bool { [.approved, .autoApproved, .active].contains(self) }
}

/// What may be touched under a grant.
package struct AccessScope: Sendable, Hashable {
    package enum Mode: String, Sendable, Hashable, CaseIterable { case read, write }
    package enum DataClass: String, Sendable, Hashable, CaseIterable {
        case customerData = "customer_data", backups, logs, analytics, directory
    }

    package let dataClasses: Set<DataClass>
    package let mode: Mode

    package init(dataClasses: Set<DataClass>, mode: Mode) {
        self.dataClasses = dataClasses
        self.mode = mode
    }

    /// Write access includes read.
    package func permits(_ dataClass: DataClass, _ mode: Mode) -> Bool {
        dataClasses.contains(dataClass) && (self.mode == .write || mode == .read)
    }
}

/// The person asking: who employs them, in what role, from which office.
package struct StaffMember: Sendable, Hashable {
    package let id: String
    package let entity: String
    package let jobRole: String
    package let office: String

    package init(id: String, entity: String, jobRole: String, office: String) {
        self.id = id
        self.entity = entity
        self.jobRole = jobRole
        self.office = office
    }
}

/// A request for, and then the grant of, access to one tenant's data from outside or inside its region.
package struct AccessRequest: Sendable, Hashable {
    package let id: String
    package let tenant: String
    package let region: String
    package let staff: StaffMember
    package let officeCountry: CountryCode
    /// Where the person physically is when asking; use must come from the same country.
    package let physicalCountry: CountryCode
    package let justification: String
    /// Ticket or case reference.
    package let detail: String
    package let scope: AccessScope
    package let requestedHours: Int
    package let isBreakGlass: Bool
    package let customerApprovalRequired: Bool
    /// The token name that filed it: the one who files never decides (separation of duties). Nil only for a
    /// record stored before this was kept whose filing the ledger does not show.
    package let filedBy: String?
    package let basis: TransferBasis
    package let createdAt: Int64
    /// A pending request not decided by then expires.
    package let pendingUntil: Int64

    package internal(set) var state: AccessState
    package internal(set) var grantedHours: Int?
    package internal(set) var decidedAt: Int64?
    package internal(set) var decidedBy: String?
    package internal(set) var decisionReason: String?
    package internal(set) var activatedAt: Int64?
    /// The end of the grant: decision time plus the granted hours.
    package internal(set) var grantExpiresAt: Int64?
    package internal(set) var closedAt: Int64?
    package internal(set) var closedBy: String?
    package internal(set) var reviewDueAt: Int64?
    package internal(set) var reviewedAt: Int64?
    package internal(set) var reviewedBy: String?
    package internal(set) var reviewNote: String?

    /// A break-glass grant whose after-the-fact review is late.
    package func isReviewOverdue(at now: Int64) -> Bool {
        guard isBreakGlass, reviewedAt == nil, let due = reviewDueAt else { return false }
        return now >= due
    }
}
