/// The states of a cross-border access request. Terminal states never change.
public enum AccessState: String, Sendable, Hashable, CaseIterable {
    case pending, approved
    case autoApproved = "auto_approved"
    case denied, dismissed, expired, active, revoked, completed

    public var isTerminal: Bool { [.denied, .dismissed, .expired, .revoked, .completed].contains(self) }
    /// A grant exists: use is allowed while its time lasts.
    public var isGranted: Bool { [.approved, .autoApproved, .active].contains(self) }
}

/// What may be touched under a grant.
public struct AccessScope: Sendable, Hashable {
    public enum Mode: String, Sendable, Hashable, CaseIterable { case read, write }
    public enum DataClass: String, Sendable, Hashable, CaseIterable {
        case customerData = "customer_data", backups, logs, analytics, directory
    }

    public let dataClasses: Set<DataClass>
    public let mode: Mode

    public init(dataClasses: Set<DataClass>, mode: Mode) {
        self.dataClasses = dataClasses
        self.mode = mode
    }

    /// Write access includes read.
    public func permits(_ dataClass: DataClass, _ mode: Mode) -> Bool {
        dataClasses.contains(dataClass) && (self.mode == .write || mode == .read)
    }
}

/// The person asking: who employs them, in what role, from which office.
public struct StaffMember: Sendable, Hashable {
    public let id: String
    public let entity: String
    public let jobRole: String
    public let office: String

    public init(id: String, entity: String, jobRole: String, office: String) {
        self.id = id
        self.entity = entity
        self.jobRole = jobRole
        self.office = office
    }
}

/// A request for, and then the grant of, access to one tenant's data from outside or inside its region.
public struct AccessRequest: Sendable, Hashable {
    public let id: String
    public let tenant: String
    public let region: String
    public let staff: StaffMember
    public let officeCountry: CountryCode
    /// Where the person physically is when asking; use must come from the same country.
    public let physicalCountry: CountryCode
    public let justification: String
    /// Ticket or case reference.
    public let detail: String
    public let scope: AccessScope
    public let requestedHours: Int
    public let isBreakGlass: Bool
    public let customerApprovalRequired: Bool
    /// The token name that filed it: the one who files never decides (separation of duties). Nil only for a
    /// record stored before this was kept whose filing the ledger does not show.
    public let filedBy: String?
    public let basis: TransferBasis
    public let createdAt: Int64
    /// A pending request not decided by then expires.
    public let pendingUntil: Int64

    public internal(set) var state: AccessState
    public internal(set) var grantedHours: Int?
    public internal(set) var decidedAt: Int64?
    public internal(set) var decidedBy: String?
    public internal(set) var decisionReason: String?
    public internal(set) var activatedAt: Int64?
    /// The end of the grant: decision time plus the granted hours.
    public internal(set) var grantExpiresAt: Int64?
    public internal(set) var closedAt: Int64?
    public internal(set) var closedBy: String?
    public internal(set) var reviewDueAt: Int64?
    public internal(set) var reviewedAt: Int64?
    public internal(set) var reviewedBy: String?
    public internal(set) var reviewNote: String?

    /// A break-glass grant whose after-the-fact review is late.
    public func isReviewOverdue(at now: Int64) -> Bool {
        guard isBreakGlass, reviewedAt == nil, let due = reviewDueAt else { return false }
        return now >= due
    }
}
