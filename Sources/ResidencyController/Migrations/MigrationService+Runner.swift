import Foundation
import ResidencyCore
import ResidencyStore

/// Carries approved migrations to completion or rollback.
///
/// Each step is persisted as the current state before it runs (with a `started` log line) and the next
/// state is persisted only after it has finished — by a compare-and-set, so a cancel that arrived meanwhile
/// wins. After a crash the current state's step simply runs again: every step is idempotent.
extension MigrationService {
    /// Runs the migration until it is final (or waits for approval). Throws `conflict` when another thread or
    /// process is running it, and rethrows a failure after cutover (which cannot roll back; resume retries).
    @discardableResult
    package func runMigration(id: String) throws -> Migration {
        guard let claim = migrationRuns.claim(id, lockDirectory: dataDirectory?.appendingPathComponent("locks")) else {
            throw ControllerError.conflict(
                code: "migration_running", message: "migration \(id) is being run by another runner")
        }
        defer { withExtendedLifetime(claim) {} }
        while true {
            var migration = try self.migration(id: id)
            let state = migration.state
            if state.isFinal || state == .requested { return migration }
            if state == .rollingBack {
                try rollBack(&migration)
                continue
            }
            if state == .approved {
                _ = try advance(&migration, from: .approved, detail: .object([]))
                continue
            }
            try log(id, state, "started", .object([]))
            FaultPoint.hit(state.rawValue, "before")
            let detail: JSONValue
            do {
                detail = try perform(state, on: &migration)
            } catch {
                let message = String(describing: error)
                try log(id, state, "failed", .object([("error", .string(message))]))
                // A service that did not answer refused nothing: the step is retried by a resume, not rolled back.
                if state.canRollBack, !(error is MoverUnavailable) {
                    try markFailed(id: id, from: state, error: message)
                    continue
                }
                try context.commit { transaction in
                    let database = transaction.database
                    var current = try Self.migration(id: id, in: database)
                    current.error = message
                    current.updatedAt = clock.now()
                    try MigrationRepository(database).update(current)
                }
                throw ControllerError.storage(
                    "migration \(id) stopped at \(state.rawValue): \(message); resume retries it")
            }
            FaultPoint.hit(state.rawValue, "after")
            if state == .cutover { continue }  // the cutover's own transaction advanced it
            _ = try advance(&migration, from: state, detail: detail)
        }
    }

    /// Carries every unfinished, approved migration forward (at start-up, and `migrations resume`). Returns
    /// each with where it ended.
    package func resumeMigrations() throws -> [(migration: Migration, error: String?)] {
        let pending = try context.read { try MigrationRepository($0).runnable() }
        return pending.map { migration in
            do {
                return (try runMigration(id: migration.id), nil)
            } catch {
                return ((try? self.migration(id: migration.id)) ?? migration, "\(error)")
            }
        }
    }

    /// Runs a migration on the background queue (the server after an approval or a cancel, and at start-up).
    package func startMigration(id: String) {
        let runs = migrationRuns
        runs.queue.async {
            runs.slots.wait()
            defer { runs.slots.signal() }
            // A refused or failed step is in the migration's own step log and ledger entries; an error that
            // kept the runner from recording anything (the store unreachable) is reported, not dropped.
            do { _ = try self.runMigration(id: id) } catch {
                self.context.report(failure: "running migration \(id)", error)
            }
        }
    }

    package func resumeMigrationsInBackground() {
        let pending: [Migration]
        do {
            pending = try context.read { try MigrationRepository($0).runnable() }
        } catch {
            context.report(failure: "finding migrations to resume", error)
            return
        }
        for migration in pending { startMigration(id: migration.id) }
    }

    // MARK: Steps

    func movers(for migration: Migration) throws -> [DataMover] {
        try migration.movers.map { name -> DataMover in
            if name == "local", let dataPlane { return LocalDataMover(dataPlane: dataPlane) }
            if name == "regional", let regional { return RegionalDataMover(regional: regional) }
            if name.hasPrefix(RegionalCommandMover.prefix), let regional {
                return RegionalCommandMover(
                    regional: regional, mover: String(name.dropFirst(RegionalCommandMover.prefix.count)))
            }
            if let configuration = commandMovers.first(where: { $0.name == name }) {
                return CommandMover(configuration: configuration)
            }
            throw MoverError(mover: name, command: "-", message: "is not configured in this controller")
        }
    }

    private func perform(_ state: MigrationState, on migration: inout Migration) throws -> JSONValue {
        let movers = try movers(for: migration)
        func each(_ body: (DataMover) throws -> JSONValue) throws -> JSONValue {
            .object(try movers.map { ($0.name, try body($0)) })
        }
        switch state {
        case .copying:
            return try each { try $0.copy(&migration) }
        case .frozen:
            for mover in movers { try mover.freezeSource(migration) }
            if migration.frozenAt == nil { migration.frozenAt = clock.now() }
            return .object([("frozen_at", .string(Timestamp.rfc3339(milliseconds: migration.frozenAt!)))])
        case .syncing:
            return try each { try $0.sync(&migration) }
        case .verifying:
            return try each { try $0.verify(&migration) }
        case .cutover:
            for mover in movers { try mover.thawTarget(migration) }
            try cutOver(&migration)
            return .object([])
        case .cleaning:
            let detail = try each { try $0.purgeSource(migration) }
            migration.finishedAt = clock.now()
            return detail
        default:
            return .object([])
        }
    }

    /// Points the directory at the target, in one transaction with the migration's next state and the ledger
    /// entry. The target copy is thawed first (it was copied before the freeze, but a copy between two sites
    /// of one region is the source itself); nothing routes writes to it until this commits.
    private func cutOver(_ migration: inout Migration) throws {
        let id = migration.id
        migration = try context.commit { transaction -> Migration in
            let database = transaction.database
            var current = try Self.migration(id: id, in: database)
            guard current.state == .cutover else { return current }
            let tenants = TenantRepository(database)
            guard let tenant = try tenants.tenant(id: current.tenant) else {
                throw ControllerError.notFound(kind: "tenant", id: current.tenant)
            }
            if tenant.region != current.toRegion || tenant.site != current.toSite {
                try tenants.move(id: tenant.id, region: current.toRegion, site: current.toSite)
                if tenant.region != current.toRegion {
                    try transaction.changeOccupancy {
                        $0[tenant.region, default: 0] -= 1
                        $0[current.toRegion, default: 0] += 1
                    }
                }
            }
            let now = clock.now()
            current.state = .cleaning
            current.cutoverAt = now
            current.updatedAt = now
            try MigrationRepository(database).update(current)
            try MigrationRepository(database).logStep(
                migration: id, state: .cutover, phase: "finished", at: now, detail: "{}")
            try transaction.append(
                .migrationCutover, time: now, actor: "system", tenant: current.tenant,
                region: current.toRegion,
                body: Self.ledgerBody(current).adding([
                    ("content", current.content ?? .null),
                    ("frozen_ms", current.frozenMilliseconds.map { .integer($0) } ?? .null),
                ]))
            return current
        }
    }

    /// Moves `migration` from `state` to its next state if it is still in `state` (a cancel may have moved it
    /// meanwhile); returns whether it did.
    private func advance(_ migration: inout Migration, from state: MigrationState, detail: JSONValue) throws -> Bool {
        guard let next = state.next else { return false }
        let proposed = migration
        let advanced = try context.commit { transaction -> Bool in
            let database = transaction.database
            let repository = MigrationRepository(database)
            let current = try Self.migration(id: proposed.id, in: database)
            guard current.state == state else { return false }
            var updated = proposed
            let now = clock.now()
            updated.state = next
            updated.updatedAt = now
            if next == .completed { updated.finishedAt = updated.finishedAt ?? now }
            try repository.update(updated)
            try repository.logStep(
                migration: updated.id, state: state, phase: "finished", at: now, detail: detail.encoded())
            if next == .completed {
                try transaction.append(
                    .migrationCompleted, time: now, actor: "system", tenant: updated.tenant,
                    region: updated.toRegion,
                    body: .object([
                        ("migration", .string(updated.id)), ("purged_region", .string(updated.fromRegion)),
                    ]))
            }
            return true
        }
        return advanced
    }

    private func markFailed(id: String, from state: MigrationState, error: String) throws {
        try context.commit { transaction in
            let database = transaction.database
            var current = try Self.migration(id: id, in: database)
            guard current.state == state else { return }
            current.state = .rollingBack
            current.ending = .failed
            current.error = error
            current.updatedAt = clock.now()
            try MigrationRepository(database).update(current)
        }
    }

    /// Removes the target copy and thaws the source: the tenant stays, writable, where it was.
    private func rollBack(_ migration: inout Migration) throws {
        try log(migration.id, .rollingBack, "started", .object([]))
        FaultPoint.hit(MigrationState.rollingBack.rawValue, "before")
        var detail: [(key: String, value: JSONValue)] = []
        for mover in try movers(for: migration).reversed() {
            detail.append((mover.name, try mover.discardTarget(migration)))
        }
        for mover in try movers(for: migration) { try mover.thawSource(migration) }
        FaultPoint.hit(MigrationState.rollingBack.rawValue, "after")
        let id = migration.id
        migration = try context.commit { transaction -> Migration in
            let database = transaction.database
            var current = try Self.migration(id: id, in: database)
            guard current.state == .rollingBack else { return current }
            let now = clock.now()
            let ending = current.ending ?? .failed
            current.state = ending
            current.finishedAt = now
            current.updatedAt = now
            try MigrationRepository(database).update(current)
            try MigrationRepository(database).logStep(
                migration: id, state: .rollingBack, phase: "finished", at: now,
                detail: JSONValue.object(detail).encoded())
            try transaction.append(
                ending == .cancelled ? .migrationCancelled : .migrationFailed, time: now, actor: "system",
                tenant: current.tenant,
                region: current.fromRegion,
                body: .object([("migration", .string(id)), ("error", .optional(current.error))]))
            return current
        }
    }

    private func log(_ id: String, _ state: MigrationState, _ phase: String, _ detail: JSONValue) throws {
        try context.commit { transaction in
            let database = transaction.database
            try MigrationRepository(database).logStep(
                migration: id, state: state, phase: phase, at: clock.now(), detail: detail.encoded())
        }
    }
}
