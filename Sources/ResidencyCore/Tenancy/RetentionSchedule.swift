/// Applies `Policies/retention.json` to a tenant: which actions are due as of a time, in the order they
/// became due. Pure, so the plan, the run and the tests compute exactly the same thing.
package struct RetentionSchedule: Sendable {
    package static let day: Int64 = 86_400_000

    package let policy: RetentionPolicy

    package init(policy: RetentionPolicy) { self.policy = policy }

    package struct DueAction: Sendable, Hashable {
        package let action: RetentionPolicy.Action
        package let rule: String
        package let description: String
        /// When it falls due: the later of `ruleDueAt` and the end of the late-event grace. A chained action
        /// (close after suspend, delete after close) starts its clock from here.
        package let dueAt: Int64
        /// When the rule alone makes it due: the clock's start plus the rule's days.
        package let ruleDueAt: Int64
        /// When the event whose grace moved `dueAt` past `ruleDueAt` was recorded; nil when the rule's own
        /// time stands.
        package let heldSince: Int64?
    }

    /// What the schedule has for a tenant as of a time: the actions due, in the order they became due, and
    /// those the rule alone would make due by then but the late-event grace holds until later.
    package struct Outlook: Sendable, Hashable {
        package var due: [DueAction] = []
        package var held: [DueAction] = []
    }

    /// Every action due by `asOf`, each applied in turn to a copy of the tenant — so a tenant first seen
    /// long after its payment failed is suspended, closed and deleted in one pass, each at the time the
    /// schedule says (the close's time starts the `closed` clock, not the time the run noticed it).
    package func due(_ tenant: TenantLifecycle, asOf: Int64) -> [DueAction] { outlook(tenant, asOf: asOf).due }

    /// The due actions and, after them, the held ones (each applied in turn, like `due`, so a held close is
    /// followed by the deletion it would start only if that too is held rather than merely scheduled).
    package func outlook(_ tenant: TenantLifecycle, asOf: Int64) -> Outlook {
        var state = tenant
        var outlook = Outlook()
        while state.status != .deleted, let next = nextDue(state) {
            if next.dueAt <= asOf {
                outlook.due.append(next)
            } else if next.ruleDueAt <= asOf {
                outlook.held.append(next)
            } else {
                break
            }
            apply(next, to: &state)
        }
        return outlook
    }

    /// The next action the schedule has for a tenant, whenever it falls due (in the past when a run has yet to
    /// apply it); nil when no clock runs toward one.
    package func next(_ tenant: TenantLifecycle) -> DueAction? {
        tenant.status == .deleted ? nil : nextDue(tenant)
    }

    /// Why a tenant is not active: the status, since when, and the rule (with its description) or the
    /// customer's own cancellation. Read from the tenant's clocks and this policy; nil for an active tenant.
    package func reason(_ tenant: TenantLifecycle) -> StatusReason? {
        func ruleReason(_ action: RetentionPolicy.Action, at time: Int64?) -> StatusReason {
            // The rule of this action whose clock ran out first (the one that made it due).
            let candidates = policy.rules.filter { $0.plan == tenant.plan && $0.action == action }.compactMap {
                rule -> (RetentionPolicy.Rule, Int64)? in
                tenant.start(of: rule.clock).map { (rule, $0 + Int64(rule.afterDays) * Self.day) }
            }
            let rule = candidates.min { $0.1 < $1.1 }?.0
            return StatusReason(
                status: tenant.status, since: time, rule: rule?.rule,
                description: rule?.description ?? "\(action.rawValue) by the retention schedule")
        }
        switch tenant.status {
        case .active: return nil
        case .suspended: return ruleReason(.suspend, at: tenant.suspendedAt)
        case .closed:
            if let name = tenant.closedByRule {
                return StatusReason(
                    status: .closed, since: tenant.closedAt, rule: name,
                    description: policy.rule(named: name)?.description ?? "closed by retention rule \(name)")
            }
            return StatusReason(
                status: .closed, since: tenant.cancelledAt ?? tenant.closedAt, rule: nil,
                description: "cancelled by the customer")
        case .deleted: return ruleReason(.delete, at: tenant.deletedAt)
        }
    }

    package struct StatusReason: Sendable, Hashable {
        package let status: TenantStatus
        package let since: Int64?
        /// The retention rule; nil when the customer's own event did it.
        package let rule: String?
        package let description: String

        package var jsonValue: JSONValue {
            .object([
                ("status", .string(status.rawValue)),
                ("since", since.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null),
                ("rule", .optional(rule)), ("description", .string(description)),
            ])
        }
    }

    /// A tenant's clocks, why it is not active, and what the schedule does next, as every view of a tenant
    /// shows them (`tenants show`, `GET /v1/tenants/{id}`, the directory's pages).
    package func members(for tenant: TenantLifecycle) -> [(key: String, value: JSONValue)] {
        let next = next(tenant).map { due -> JSONValue in
            .object([
                ("action", .string(due.action.rawValue)), ("rule", .string(due.rule)),
                ("description", .string(due.description)),
                ("due_at", .string(Timestamp.rfc3339(milliseconds: due.dueAt))),
                ("held_by_grace", .bool(due.heldSince != nil)),
            ])
        }
        return [
            ("lifecycle", tenant.jsonValue), ("status_reason", reason(tenant)?.jsonValue ?? .null),
            ("next_action", next ?? .null),
        ]
    }

    /// The end of the late-event grace: no action falls due before it.
    package func graceEnd(_ tenant: TenantLifecycle) -> Int64? {
        tenant.clocksMovedRecordedAt.map { $0 + Int64(policy.lateEventGraceDays) * Self.day }
    }

    /// The earliest action that still changes something, whenever it falls due; at equal times the harsher
    /// action first.
    func nextDue(_ tenant: TenantLifecycle) -> DueAction? {
        let graceEnd = graceEnd(tenant)
        var best: DueAction?
        for rule in policy.rules where rule.plan == tenant.plan {
            guard let start = tenant.start(of: rule.clock), Self.changes(rule.action, tenant.status) else { continue }
            let ruleDueAt = start + Int64(rule.afterDays) * Self.day
            var dueAt = ruleDueAt
            var heldSince: Int64?
            if let graceEnd, ruleDueAt < graceEnd {
                dueAt = graceEnd
                heldSince = tenant.clocksMovedRecordedAt
            }
            let candidate = DueAction(
                action: rule.action, rule: rule.rule, description: rule.description, dueAt: dueAt,
                ruleDueAt: ruleDueAt, heldSince: heldSince)
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

    package func apply(_ due: DueAction, to tenant: inout TenantLifecycle) {
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
