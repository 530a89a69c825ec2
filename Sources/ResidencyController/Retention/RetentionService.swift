import Foundation
import ResidencyCore
import ResidencyStore

/// The retention schedule, applied exactly: billing and the application report events, and the schedule
/// suspends, closes and deletes as `Policies/retention.json` says — each step a ledger entry without
/// personal data, each run idempotent.
package final class RetentionService: ControllerService {
    let context: ControllerContext
    let logger: Logger

    init(context: ControllerContext) {
        self.context = context
        logger = context.logger.labelled("residency.retention")
    }

    var schedule: RetentionSchedule { context.schedule }
}

extension RetentionService {
    /// Records an event that happened at `time` (default now; never more than five minutes ahead, never before
    /// the tenant was created, and — for every event but `activity` — never before the latest event recorded).
    /// An event that moves a clock starts the policy's late-event grace, so an action it makes due at once
    /// waits (see `RetentionSchedule`).
    package func recordTenantEvent(
        tenant id: String, _ event: TenantEvent, at time: Int64? = nil, by actor: String
    ) throws -> TenantLifecycle {
        let now = clock.now()
        let at = time ?? now
        guard at <= now + 300_000 else {
            throw ControllerError.invalidField(field: "at", message: "is in the future; accepted: a time up to now")
        }
        let updated = try context.commit { transaction -> TenantLifecycle in
            let database = transaction.database
            let tenants = TenantRepository(database)
            guard let current = try tenants.lifecycle(id: id) else {
                throw ControllerError.notFound(kind: "tenant", id: id)
            }
            let next: TenantLifecycle
            switch event.recorded(to: current, at: at, recordedAt: now) {
            case .success(let value): next = value
            case .failure(let refusal) where refusal.isConflict:
                throw ControllerError.conflict(code: refusal.code, message: "tenant \(id): \(refusal.message)")
            case .failure(let refusal):
                throw ControllerError.refused(
                    code: refusal.code, message: "tenant \(id): \(refusal.message)", rule: nil)
            }
            try tenants.updateLifecycle(id: id, next)
            var body: [(key: String, value: JSONValue)] = [
                ("event", .string(event.kind.rawValue)), ("at", .string(Timestamp.rfc3339(milliseconds: at))),
                ("plan", .string(next.plan.rawValue)), ("status", .string(next.status.rawValue)),
            ]
            if case .trialStarted(let expires) = event {
                body.append(("trial_expires_at", .string(Timestamp.rfc3339(milliseconds: expires))))
            }
            try transaction.append(
                .tenantEvent, time: now, actor: actor, tenant: id,
                region: try tenants.tenant(id: id)?.region, body: .object(body))
            return next
        }
        return updated
    }

    package func tenantLifecycle(id: String) throws -> TenantLifecycle {
        guard let lifecycle = try context.read({ try TenantRepository($0).lifecycle(id: id) }) else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        return lifecycle
    }

    package struct LifecycleStep: Sendable {
        package let tenant: String
        package let due: RetentionSchedule.DueAction
        /// nil when applied (or, in a plan, due); otherwise why it was left for the next run.
        package let deferred: String?
        package let ledgerIndex: Int?
        /// In a plan: the rule has made it due, but the late-event grace holds it until `due.dueAt`.
        package let isHeld: Bool

        package init(
            tenant: String, due: RetentionSchedule.DueAction, deferred: String?, ledgerIndex: Int?,
            isHeld: Bool = false
        ) {
            self.tenant = tenant
            self.due = due
            self.deferred = deferred
            self.ledgerIndex = ledgerIndex
            self.isHeld = isHeld
        }

        package var jsonValue: JSONValue {
            .object([
                ("tenant", .string(tenant)), ("action", .string(due.action.rawValue)), ("rule", .string(due.rule)),
                ("due_at", .string(Timestamp.rfc3339(milliseconds: due.dueAt))),
                ("rule_due_at", .string(Timestamp.rfc3339(milliseconds: due.ruleDueAt))),
                ("held", .bool(isHeld)),
                ("description", .string(due.description)), ("deferred", .optional(deferred)),
                ("ledger_index", ledgerIndex.map { .integer($0) } ?? .null),
            ])
        }
    }

    /// Every action due by `asOf` (default now), in tenant order and, per tenant, the order they fell due;
    /// after each tenant's due actions, those the late-event grace holds (`isHeld`, with why in `deferred`),
    /// which a run as of `asOf` does not apply.
    package func lifecyclePlan(asOf: Int64? = nil) throws -> [LifecycleStep] {
        let asOf = asOf ?? clock.now()
        var steps: [LifecycleStep] = []
        try forEachLiveTenant { id, lifecycle in
            let outlook = schedule.outlook(lifecycle, asOf: asOf)
            for due in outlook.due {
                steps.append(LifecycleStep(tenant: id, due: due, deferred: nil, ledgerIndex: nil))
            }
            for held in outlook.held {
                steps.append(
                    LifecycleStep(tenant: id, due: held, deferred: heldReason(held), ledgerIndex: nil, isHeld: true))
            }
        }
        return steps
    }

    /// Why a held action waits, in words an operator can check against the ledger and the policy.
    func heldReason(_ held: RetentionSchedule.DueAction) -> String {
        let until = Timestamp.rfc3339(milliseconds: held.dueAt)
        let recorded = held.heldSince.map { Timestamp.rfc3339(milliseconds: $0) } ?? "?"
        let grace = "grace \(policies.retention.lateEventGraceDays) days (retention policy late_event_grace_days)"
        if let since = held.heldSince, held.ruleDueAt <= since {
            return "held until \(until): a late event recorded at \(recorded) made it due at once; \(grace)"
        }
        return "held until \(until): an event recorded at \(recorded) made it due at "
            + "\(Timestamp.rfc3339(milliseconds: held.ruleDueAt)), within the grace; \(grace)"
    }

    /// Applies every due action. A second run as of the same time finds nothing more to do.
    package func runLifecycle(asOf: Int64? = nil, by actor: String = "system") throws -> [LifecycleStep] {
        let asOf = asOf ?? clock.now()
        var due: [(String, [RetentionSchedule.DueAction])] = []
        try forEachLiveTenant { id, lifecycle in
            let actions = schedule.due(lifecycle, asOf: asOf)
            if !actions.isEmpty { due.append((id, actions)) }
        }
        var steps: [LifecycleStep] = []
        for (id, actions) in due {
            steps += try apply(actions, to: id, asOf: asOf, by: actor)
        }
        try purgeDeletedTenantData()
        for step in steps {
            context.counters.increment(.retentionActions, [("action", step.due.action.rawValue)])
        }
        if !steps.isEmpty { logger.info("retention actions applied", [("count", String(steps.count))]) }
        return steps
    }

    private func forEachLiveTenant(_ body: (String, TenantLifecycle) throws -> Void) throws {
        var cursor: String?
        while true {
            let page = try context.read { try TenantRepository($0).lifecycles(after: cursor, limit: 1000) }
            guard let last = page.last else { return }
            cursor = last.id
            for (id, lifecycle) in page { try body(id, lifecycle) }
        }
    }

    /// One tenant's due actions in one transaction. A deletion also ends an unfinished migration (whose
    /// runner must not be running: its claim is taken first) and then removes the data from every region.
    private func apply(
        _ actions: [RetentionSchedule.DueAction], to id: String, asOf: Int64, by actor: String
    ) throws -> [LifecycleStep] {
        let deletes = actions.contains { $0.action == .delete }
        var claim: MigrationClaim?
        if deletes, let active = try context.read({ try MigrationRepository($0).active(tenant: id) }) {
            claim = context.migrationRuns.claim(
                active.id, lockDirectory: dataDirectory?.appendingPathComponent("locks"))
            if claim == nil {
                return actions.map {
                    LifecycleStep(
                        tenant: id, due: $0, deferred: "migration \(active.id) is running; retried next run",
                        ledgerIndex: nil)
                }
            }
        }
        defer { withExtendedLifetime(claim) {} }
        let regionsHolding = try dataPlane.map { plane in
            try plane.regionsOnDisk().filter { plane.exists(region: $0, tenant: id) }
        }
        let steps = try applyInTransaction(actions, to: id, asOf: asOf, by: actor, regionsHolding: regionsHolding)
        if deletes, let dataPlane {
            for region in try dataPlane.regionsOnDisk() { try dataPlane.purge(region: region, tenant: id) }
        }
        return steps
    }

    private func applyInTransaction(
        _ actions: [RetentionSchedule.DueAction], to id: String, asOf: Int64, by actor: String,
        regionsHolding: [String]?
    ) throws -> [LifecycleStep] {
        try context.commit { transaction -> [LifecycleStep] in
            let database = transaction.database
            let tenants = TenantRepository(database)
            guard var lifecycle = try tenants.lifecycle(id: id), let tenant = try tenants.tenant(id: id) else {
                return []
            }
            // Re-evaluated inside the transaction: an event may have stopped the clock since the sweep read it.
            let current = schedule.due(lifecycle, asOf: asOf)
            var steps: [LifecycleStep] = []
            let now = clock.now()
            for due in current {
                schedule.apply(due, to: &lifecycle)
                var body: [(key: String, value: JSONValue)] = [
                    ("rule", .string(due.rule)), ("due_at", .string(Timestamp.rfc3339(milliseconds: due.dueAt))),
                    ("as_of", .string(Timestamp.rfc3339(milliseconds: asOf))),
                    ("plan", .string(lifecycle.plan.rawValue)),
                    ("policy_version", .string(policies.version.hex)),
                ]
                if let since = due.heldSince {
                    // The grace held it: the rule's own time and the event that started the grace, for the auditor.
                    body += [
                        ("rule_due_at", .string(Timestamp.rfc3339(milliseconds: due.ruleDueAt))),
                        ("held_since", .string(Timestamp.rfc3339(milliseconds: since))),
                    ]
                }
                if due.action == .delete {
                    let repository = MigrationRepository(database)
                    if var migration = try repository.active(tenant: id) {
                        migration.state = .cancelled
                        migration.error = "tenant deleted by retention rule \(due.rule)"
                        migration.finishedAt = now
                        migration.updatedAt = now
                        try repository.update(migration)
                        try transaction.append(
                            .migrationCancelled, time: now, actor: actor, tenant: id,
                            region: migration.fromRegion,
                            body: .object([("migration", .string(migration.id)), ("error", .optional(migration.error))])
                        )
                    }
                    body.append(("regions", .array((regionsHolding ?? [tenant.region]).map { .string($0) })))
                    try tenants.scrub(id: id)
                    try transaction.changeOccupancy { $0[tenant.region, default: 0] -= 1 }
                }
                let index = try transaction.append(
                    Self.ledgerKind(due.action), time: now, actor: actor, tenant: id,
                    region: tenant.region, body: .object(body))
                steps.append(LifecycleStep(tenant: id, due: due, deferred: nil, ledgerIndex: index))
            }
            try tenants.updateLifecycle(id: id, lifecycle)
            return steps
        }
    }

    /// Removes data still on disk for tenants the directory says are deleted (a crash between a deletion's
    /// commit and its purge). Returns the files' tenants.
    @discardableResult
    package func purgeDeletedTenantData() throws -> [String] {
        guard let dataPlane else { return [] }
        var purged: [String] = []
        for region in try dataPlane.regionsOnDisk() {
            for id in try dataPlane.tenants(in: region) {
                let status = try context.read { try TenantRepository($0).tenant(id: id)?.status }
                if status == .deleted {
                    try dataPlane.purge(region: region, tenant: id)
                    purged.append(id)
                }
            }
        }
        return purged
    }

    static func ledgerKind(_ action: RetentionPolicy.Action) -> LedgerKind {
        switch action {
        case .suspend: return .lifecycleSuspended
        case .close: return .lifecycleClosed
        case .delete: return .lifecycleDeleted
        }
    }
}
