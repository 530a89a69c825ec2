import Dispatch
import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// Bulk moves: plan which tenants of a region would move (and why not for the rest), then run the plan in
/// waves with a concurrency limit and a rate limit.
extension MigrationService {
    package func planMigrations(
        from: String, to: String, toSite: String? = nil, country: CountryCode? = nil, tenants only: [String] = []
    ) throws -> MigrationPlan {
        for (field, region) in [("from", from), ("to", to)] where policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: field,
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
        var entries: [MigrationPlan.Entry] = []
        let counts = context.occupancy.counts
        var planned = 0
        // The tenants with a migration under way, read once through the state index rather than once per tenant: a
        // region's plan considers every one of its tenants (10,000 reads cost the console's plan page ~180 ms).
        let busy: Set<String> = try context.read { database in
            let repository = MigrationRepository(database)
            var tenants = Set<String>()
            for state in MigrationState.allCases where !state.isFinal {
                for migration in try repository.migrations(tenant: nil, state: state, plan: nil, limit: Int(Int32.max))
                {
                    tenants.insert(migration.tenant)
                }
            }
            return tenants
        }
        // One answer per kind of tenant (home, status, country, whether the target is full), not per tenant.
        var memo = MigrationEligibilityMemo(eligibility)
        func consider(_ tenant: MigrationEligibility.Subject) throws {
            if tenant.status == .deleted { return }
            if let country, tenant.country != country { return }
            if busy.contains(tenant.id) {
                entries.append(
                    .init(
                        tenant: tenant.id, country: tenant.country, movable: false, code: "already_migrating",
                        rule: nil, message: "a migration is already under way", transfer: nil))
                return
            }
            // Capacity counts the tenants already planned into the target.
            var projected = counts
            projected[to, default: 0] += planned
            switch memo.evaluate(tenant, toRegion: to, toSite: toSite, occupancy: projected) {
            case .success(let target):
                planned += 1
                entries.append(
                    .init(
                        tenant: tenant.id, country: tenant.country, movable: true, code: nil, rule: nil, message: nil,
                        transfer: "\(target.transfer.mechanism.code) (\(target.transfer.rule))"))
            case .failure(let refusal):
                entries.append(
                    .init(
                        tenant: tenant.id, country: tenant.country, movable: false, code: refusal.code,
                        rule: refusal.rule, message: refusal.message, transfer: nil))
            }
        }
        if only.isEmpty {
            var cursor: String?
            while true {
                let page = try context.read {
                    try TenantRepository($0).eligibilitySubjects(inRegion: from, after: cursor, limit: 1000)
                }
                guard let last = page.last else { break }
                cursor = last.id
                for tenant in page { try consider(tenant) }
            }
        } else {
            for id in only {
                guard let tenant = try context.read({ try TenantRepository($0).tenant(id: id) }) else {
                    entries.append(
                        .init(
                            tenant: id, country: nil, movable: false, code: "not_found", rule: nil,
                            message: "no such tenant", transfer: nil))
                    continue
                }
                if tenant.region != from {
                    entries.append(
                        .init(
                            tenant: id, country: tenant.country, movable: false, code: "not_in_source_region",
                            rule: nil, message: "hosted in \(tenant.region), not \(from)", transfer: nil))
                    continue
                }
                try consider(MigrationEligibility.Subject(tenant))
            }
        }
        let now = clock.now()
        return MigrationPlan(
            id: TimeOrderedID.make("pl", at: now),
            from: from, to: to, toSite: toSite, country: country, createdAt: now, policyVersion: policies.version.hex,
            entries: entries)
    }

    /// What happened to one tenant of a running plan.
    package struct PlanProgress: Sendable {
        /// `inPlace`: the tenant is already where the plan sends it (a plan run again after it finished) — done,
        /// not refused.
        package enum Event: String, Sendable {
            case started, completed, failed, refused
            case inPlace = "in_place"
        }
        package let event: Event
        package let tenant: String
        package let migration: String?
        package let detail: String?
        package let done: Int
        package let total: Int
    }

    /// How a plan's run ended: `inPlace` counts tenants already where the plan sends them (nothing to do).
    package struct PlanResult: Sendable, Hashable {
        package var completed = 0
        package var inPlace = 0
        package var failed = 0
        package var refused = 0
    }

    /// Runs every movable entry of `plan`: files, approves and runs its migration, at most `concurrency` at
    /// a time and starting at most `perMinute` a minute. A tenant already at the plan's target (the plan ran
    /// before) is reported `inPlace` and left alone. Reports each start and end to `progress` (called from
    /// worker threads, one call at a time).
    package func runPlan(
        _ plan: MigrationPlan, concurrency: Int, perMinute: Int?, by actor: String,
        progress: @escaping @Sendable (PlanProgress) -> Void
    ) throws -> PlanResult {
        guard (1...64).contains(concurrency) else {
            throw ControllerError.invalidField(field: "concurrency", message: "\(concurrency); accepted: 1...64")
        }
        if let perMinute, !(1...100_000).contains(perMinute) {
            throw ControllerError.invalidField(field: "rate", message: "\(perMinute) per minute; accepted: 1...100000")
        }
        let work = plan.movable
        let state = Mutex((next: 0, done: 0, result: PlanResult()))
        let report = Mutex(())
        let started = DispatchTime.now().uptimeNanoseconds
        let interval = perMinute.map { 60_000_000_000 / UInt64($0) } ?? 0
        DispatchQueue.concurrentPerform(iterations: min(concurrency, max(1, work.count))) { _ in
            while true {
                let index: Int = state.withLock { value in
                    defer { value.next += 1 }
                    return value.next
                }
                guard index < work.count else { return }
                // The rate limit spaces starts evenly: the n-th start waits until n intervals have passed.
                let due = started + UInt64(index) * interval
                let now = DispatchTime.now().uptimeNanoseconds
                if due > now { Thread.sleep(forTimeInterval: Double(due - now) / 1e9) }
                let tenant = work[index].tenant
                func emit(_ event: PlanProgress.Event, _ migration: String?, _ detail: String?) {
                    let counts = state.withLock { value -> (Int, Int) in
                        if event != .started {
                            value.done += 1
                            switch event {
                            case .completed: value.result.completed += 1
                            case .inPlace: value.result.inPlace += 1
                            case .failed: value.result.failed += 1
                            default: value.result.refused += 1
                            }
                        }
                        return (value.done, work.count)
                    }
                    report.withLock { _ in
                        progress(
                            PlanProgress(
                                event: event, tenant: tenant, migration: migration, detail: detail, done: counts.0,
                                total: counts.1))
                    }
                }
                if let current = try? context.read({ try TenantRepository($0).tenant(id: tenant) }),
                    current.status != .deleted, current.region == plan.to,
                    plan.toSite == nil || current.site == plan.toSite
                {
                    emit(.inPlace, nil, "already at \(current.region)/\(current.site)")
                    continue
                }
                let migration: Migration
                do {
                    migration = try requestMigration(
                        MigrationRequest(
                            tenant: tenant, toRegion: plan.to, toSite: plan.toSite,
                            reason: "plan \(plan.id): \(plan.from) to \(plan.to)", plan: plan.id), by: actor)
                    _ = try approveMigration(id: migration.id, by: actor)
                } catch {
                    emit(.refused, nil, "\(error)")
                    continue
                }
                emit(.started, migration.id, nil)
                do {
                    let ended = try runMigration(id: migration.id)
                    if ended.state == .completed {
                        emit(.completed, migration.id, ended.frozenMilliseconds.map { "frozen \($0) ms" })
                    } else {
                        emit(.failed, migration.id, ended.error ?? ended.state.rawValue)
                    }
                } catch {
                    emit(.failed, migration.id, "\(error)")
                }
            }
        }
        return state.withLock { $0.result }
    }
}
