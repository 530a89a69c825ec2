/// What the retention schedule needs to know about a tenant: its plan and status and the times its clocks
/// start from (milliseconds since the Unix epoch; nil when the event has not happened).
package struct TenantLifecycle: Sendable, Hashable {
    package var plan: Plan
    package var status: TenantStatus
    package let createdAt: Int64
    package var trialExpiresAt: Int64?
    package var cancelledAt: Int64?
    /// The first failed payment not yet recovered.
    package var paymentFailedAt: Int64?
    package var suspendedAt: Int64?
    package var closedAt: Int64?
    /// The retention rule that closed the account, when the schedule did (the `closed` clock counts only
    /// those: a customer's own cancellation runs on the `cancelled` clock).
    package var closedByRule: String?
    package var lastActivityAt: Int64?
    package var deletedAt: Int64?
    /// The time (`at`) of the latest event other than `activity`: later events may not be dated before it, so
    /// a backdated event cannot rewrite the order in which billing saw things happen. Nil: none recorded.
    package var lastEventAt: Int64?
    /// When the latest event that moved a clock, the plan or the status was recorded (not when it says it
    /// happened). No retention action falls due within the policy's grace after it, so a backdated event
    /// never deletes at the next run. Nil: no such event (or recorded before the grace existed).
    package var clocksMovedRecordedAt: Int64?

    package init(plan: Plan, status: TenantStatus, createdAt: Int64) {
        self.plan = plan
        self.status = status
        self.createdAt = createdAt
    }

    /// The earliest time an event may be dated: the latest non-activity event's time for every event but
    /// `activity`, which may arrive late (it only moves its clock forward) but never before signup.
    package func earliestAcceptedTime(for kind: TenantEvent.Kind) -> Int64 {
        kind == .activity ? createdAt : max(createdAt, lastEventAt ?? createdAt)
    }

    /// Whether `other` differs in anything a retention rule reads except last activity (which only ever
    /// moves forward, so it can never make an action due sooner).
    func scheduleDiffers(from other: TenantLifecycle) -> Bool {
        plan != other.plan || status != other.status || trialExpiresAt != other.trialExpiresAt
            || cancelledAt != other.cancelledAt || paymentFailedAt != other.paymentFailedAt
            || suspendedAt != other.suspendedAt || closedAt != other.closedAt || closedByRule != other.closedByRule
    }

    /// When a rule's clock started, or nil when it has not (or does not apply).
    package func start(of clock: RetentionPolicy.Clock) -> Int64? {
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
