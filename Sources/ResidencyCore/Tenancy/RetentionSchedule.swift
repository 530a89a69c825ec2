/// Applies `Policies/retention.json` to a tenant: which actions are due as of a time, in the order they
/// became due. Pure, so the plan, the run and the tests compute exactly the same thing.
public struct RetentionSchedule: Sendable {
    public static let day: Int64 = 86_400_000

    public let policy: RetentionPolicy

    public init(policy: RetentionPolicy) { self.policy = policy }

    public struct DueAction: Sendable, Hashable {
        public let action: RetentionPolicy.Action
        public let rule: String
        public let description: String
        /// When it became due: the clock's start plus the rule's days.
        public let dueAt: Int64
    }

    /// Every action due by `asOf`, each applied in turn to a copy of the tenant — so a tenant first seen
    /// long after its payment failed is suspended, closed and deleted in one pass, each at the time the
    /// schedule says (the close's time starts the `closed` clock, not the time the run noticed it).
    public func due(_ tenant: TenantLifecycle, asOf: Int64) -> [DueAction] {
        var state = tenant
        var actions: [DueAction] = []
        while state.status != .deleted, let next = nextDue(state, asOf: asOf) {
            actions.append(next)
            apply(next, to: &state)
        }
        return actions
    }

    /// The earliest due action that still changes something; at equal times the harsher action first.
    func nextDue(_ tenant: TenantLifecycle, asOf: Int64) -> DueAction? {
        var best: DueAction?
        for rule in policy.rules where rule.plan == tenant.plan {
            guard let start = tenant.start(of: rule.clock) else { continue }
            let dueAt = start + Int64(rule.afterDays) * Self.day
            guard dueAt <= asOf, Self.changes(rule.action, tenant.status) else { continue }
            let candidate = DueAction(action: rule.action, rule: rule.rule, description: rule.description, dueAt: dueAt)
            if let current = best,
                current.dueAt < dueAt
                    || (current.dueAt == dueAt && Self.severity(current.action) >= Self.severity(rule.action))
            {
                continue
            }
            best = candidate
        }
        return best
    }

    public func apply(_ due: DueAction, to tenant: inout TenantLifecycle) {
        switch due.action {
        case .suspend:
            tenant.status = .suspended
            tenant.suspendedAt = due.dueAt
        case .close:
            tenant.status = .closed
            tenant.closedAt = due.dueAt
            tenant.closedByRule = due.rule
        case .delete:
            tenant.status = .deleted
            tenant.deletedAt = due.dueAt
        }
    }

    static func changes(_ action: RetentionPolicy.Action, _ status: TenantStatus) -> Bool {
        switch action {
        case .suspend: return status == .active
        case .close: return status == .active || status == .suspended
        case .delete: return status != .deleted
        }
    }

    static func severity(_ action: RetentionPolicy.Action) -> Int {
        switch action {
        case .suspend: return 0
        case .close: return 1
        case .delete: return 2
        }
    }
}
