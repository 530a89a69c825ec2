/// What the retention schedule needs to know about a tenant: its plan and status and the times its clocks
/// start from (milliseconds since the Unix epoch; nil when the event has not happened).
public struct TenantLifecycle: Sendable, Hashable {
    public var plan: Plan
    public var status: TenantStatus
    public let createdAt: Int64
    public var trialExpiresAt: Int64?
    public var cancelledAt: Int64?
    /// The first failed payment not yet recovered.
    public var paymentFailedAt: Int64?
    public var suspendedAt: Int64?
    public var closedAt: Int64?
    /// The retention rule that closed the account, when the schedule did (the `closed` clock counts only
    /// those: a customer's own cancellation runs on the `cancelled` clock).
    public var closedByRule: String?
    public var lastActivityAt: Int64?
    public var deletedAt: Int64?

    public init(plan: Plan, status: TenantStatus, createdAt: Int64) {
        self.plan = plan
        self.status = status
        self.createdAt = createdAt
    }

    /// When a rule's clock started, or nil when it has not (or does not apply).
    public func start(of clock: RetentionPolicy.Clock) -> Int64? {
        switch clock {
        case .trialExpired: return trialExpiresAt
        case .cancelled: return cancelledAt
        case .paymentFailed: return paymentFailedAt
        case .closed: return closedByRule == nil ? nil : closedAt
        // A tenant that never reported activity has been inactive since it signed up.
        case .lastActivity: return lastActivityAt ?? createdAt
        }
    }
}
