import Foundation
import ResidencyCore
import ResidencyStore

/// Moving tenants between regions: request, approve, run (each step persisted before and after, each
/// idempotent), cancel, resume. Every milestone and every refusal is a ledger entry.
package final class MigrationService: ControllerService {
    let context: ControllerContext
    let logger: Logger

    init(context: ControllerContext) {
        self.context = context
        logger = context.logger.labelled("residency.migrations")
    }

    var commandMovers: [CommandMoverConfiguration] { context.commandMovers }
    var migrationRuns: MigrationRuns { context.migrationRuns }
}

extension MigrationService {
    package struct MigrationRequest: Sendable {
        package var tenant: String
        package var toRegion: String
        package var toSite: String?
        package var reason: String
        package var plan: String?

        package init(tenant: String, toRegion: String, toSite: String? = nil, reason: String, plan: String? = nil) {
            self.tenant = tenant
            self.toRegion = toRegion
            self.toSite = toSite
            self.reason = reason
            self.plan = plan
        }
    }

    var eligibility: MigrationEligibility { MigrationEligibility(policies: policies) }

    /// Files a migration. A refusal (policy, or one already under way) is recorded in the ledger and thrown;
    /// nothing else is left behind.
    package func requestMigration(_ request: MigrationRequest, by actor: String) throws -> Migration {
        let reason = request.reason.trimmingCharacters(in: .whitespaces)
        try TextLimit.migrationReason.check(reason)
        if policies.catalog.region(id: request.toRegion) == nil {
            throw ControllerError.invalidField(
                field: "to_region",
                message:
                    "unknown region \"\(request.toRegion)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
        var movers = (dataPlane == nil ? [] : ["local"]) + commandMovers.map(\.name)
        guard !movers.isEmpty else {
            throw ControllerError.conflict(
                code: "no_mover", message: "this controller has no data plane and no configured movers")
        }
        // Between two regional services, the external stores' movers are the ones both regions configured; they
        // run at the regions. Asked before the transaction (no network call inside it); a mover configured at
        // one side only is refused, rather than leave its store behind.
        var regionalMovers: [String] = []
        if let regional, let tenant = try context.read({ try TenantRepository($0).tenant(id: request.tenant) }),
            try regional.joinedService(region: tenant.region) != nil,
            try regional.joinedService(region: request.toRegion) != nil
        {
            let at: (String) throws -> [String] = { region in
                do { return try regional.commandMovers(region: region) } catch {
                    throw ControllerError.conflict(
                        code: "region_unreachable",
                        message: "region \(region)'s service does not answer (its movers are needed): \(error)")
                }
            }
            let (source, target) = (try at(tenant.region), try at(request.toRegion))
            guard Set(source) == Set(target) else {
                throw ControllerError.conflict(
                    code: "movers_differ_between_regions",
                    message:
                        "region \(tenant.region) configures movers \(source.sorted()) and region \(request.toRegion) \(target.sorted()); an external store's mover must be configured at both regions (movers.json in each service's data directory)"
                )
            }
            regionalMovers = source.sorted().map { RegionalCommandMover.prefix + $0 }
        }
        enum Outcome: Sendable {
            case filed(Migration)
            case refused(ControllerError)
        }
        let outcome: Outcome
        do {
            outcome = try context.commit { transaction -> Outcome in
                let database = transaction.database
                let repository = MigrationRepository(database)
                guard let tenant = try TenantRepository(database).tenant(id: request.tenant) else {
                    throw ControllerError.notFound(kind: "tenant", id: request.tenant)
                }
                let now = clock.now()
                func refuse(_ error: ControllerError, code: String, rule: String?) throws -> Outcome {
                    try transaction.append(
                        .migrationRefused, time: now, actor: actor, tenant: tenant.id,
                        region: tenant.region,
                        body: .object([
                            ("code", .string(code)), ("rule", .optional(rule)),
                            ("to_region", .string(request.toRegion)),
                            ("to_site", .optional(request.toSite)), ("policy_version", .string(policies.version.hex)),
                        ]))
                    return .refused(error)
                }
                if let regional {
                    let sourceIsService = try regional.joinedService(region: tenant.region) != nil
                    let targetIsService = try regional.joinedService(region: request.toRegion) != nil
                    if sourceIsService != targetIsService {
                        // One side's data is in this controller's data directory, the other's at a service: the
                        // bytes would have to pass through the controller. Not supported; refused before anything
                        // is written.
                        throw ControllerError.conflict(
                            code: "mixed_regional_migration_unsupported",
                            message:
                                "tenant \(tenant.id) would move between region \(tenant.region) (\(sourceIsService ? "a regional service" : "in process")) and \(request.toRegion) (\(targetIsService ? "a regional service" : "in process")); migrations go between two regional services or two in-process regions"
                        )
                    }
                    if sourceIsService {
                        guard commandMovers.isEmpty else {
                            throw ControllerError.conflict(
                                code: "command_movers_at_controller",
                                message:
                                    "movers.json configures command movers, which run at the controller; between regional services they are not supported yet, so this migration is refused rather than leave external stores behind"
                            )
                        }
                        // The services move the data region to region; the controller only orders and compares.
                        movers = ["regional"] + regionalMovers
                    }
                }
                if let active = try repository.active(tenant: tenant.id) {
                    return try refuse(
                        .conflict(
                            code: "already_migrating",
                            message: "tenant \(tenant.id) already has migration \(active.id) (\(active.state.rawValue))"
                        ),
                        code: "already_migrating", rule: nil)
                }
                let target: MigrationEligibility.Target
                switch eligibility.evaluate(
                    tenant: tenant, toRegion: request.toRegion, toSite: request.toSite,
                    occupancy: try transaction.occupancy())
                {
                case .success(let found): target = found
                case .failure(let refusal):
                    if refusal.code == "unknown_site" {
                        throw ControllerError.invalidField(field: "to_site", message: refusal.message)
                    }
                    let error: ControllerError =
                        ["same_location", "tenant_deleted"].contains(refusal.code)
                        ? .conflict(code: refusal.code, message: refusal.message)
                        : .refused(code: refusal.code, message: refusal.message, rule: refusal.rule)
                    return try refuse(error, code: refusal.code, rule: refusal.rule)
                }
                let migration = Migration(
                    id: TimeOrderedID.make("mg", at: now), tenant: tenant.id, fromRegion: tenant.region,
                    fromSite: tenant.site, toRegion: target.region.id, toSite: target.site.id, reason: reason,
                    requestedBy: actor, plan: request.plan, transfer: target.transfer, movers: movers, createdAt: now)
                try repository.insert(migration)
                try repository.logStep(
                    migration: migration.id, state: .requested, phase: "started", at: now, detail: "{}")
                try transaction.append(
                    .migrationRequested, time: now, actor: actor, tenant: tenant.id,
                    region: tenant.region, body: Self.ledgerBody(migration))
                return .filed(migration)
            }
        } catch let error as DatabaseError where error.isConstraintViolation {
            // Two requests raced past the check: the unique index let exactly one through.
            throw ControllerError.conflict(
                code: "already_migrating", message: "tenant \(request.tenant) already has a migration under way")
        }
        switch outcome {
        case .filed(let migration): return migration
        case .refused(let error): throw error
        }
    }

    /// Approves a requested migration after checking the target against the policy again (it may have
    /// changed since the request).
    package func approveMigration(id: String, by actor: String) throws -> Migration {
        let migration = try context.commit { transaction -> Migration in
            let database = transaction.database
            let repository = MigrationRepository(database)
            var migration = try Self.migration(id: id, in: database)
            guard migration.state == .requested else {
                throw ControllerError.conflict(
                    code: "not_requested", message: "migration \(id) is \(migration.state.rawValue), not requested")
            }
            guard let tenant = try TenantRepository(database).tenant(id: migration.tenant) else {
                throw ControllerError.notFound(kind: "tenant", id: migration.tenant)
            }
            if case .failure(let refusal) = eligibility.evaluate(
                tenant: tenant, toRegion: migration.toRegion, toSite: migration.toSite,
                occupancy: try transaction.occupancy())
            {
                throw ControllerError.refused(code: refusal.code, message: refusal.message, rule: refusal.rule)
            }
            let now = clock.now()
            migration.state = .approved
            migration.approvedBy = actor
            migration.updatedAt = now
            try repository.update(migration)
            try repository.logStep(migration: id, state: .requested, phase: "finished", at: now, detail: "{}")
            try transaction.append(
                .migrationApproved, time: now, actor: actor, tenant: migration.tenant,
                region: migration.fromRegion, body: .object([("migration", .string(id))]))
            return migration
        }
        return migration
    }

    /// Cancels before cutover. A migration that has not started ends at once; one that has is marked to roll
    /// back, which its runner (or the next resume) carries out.
    package func cancelMigration(id: String, by actor: String) throws -> Migration {
        let migration = try context.commit { transaction -> Migration in
            let database = transaction.database
            let repository = MigrationRepository(database)
            var migration = try Self.migration(id: id, in: database)
            guard migration.state.canRollBack else {
                throw ControllerError.conflict(
                    code: "not_cancellable",
                    message:
                        "migration \(id) is \(migration.state.rawValue); only a migration before cutover can be cancelled"
                )
            }
            let now = clock.now()
            migration.updatedAt = now
            if migration.state == .requested || migration.state == .approved {
                migration.state = .cancelled
                migration.finishedAt = now
                try transaction.append(
                    .migrationCancelled, time: now, actor: actor, tenant: migration.tenant,
                    region: migration.fromRegion, body: .object([("migration", .string(id))]))
            } else {
                migration.state = .rollingBack
                migration.ending = .cancelled
            }
            try repository.update(migration)
            try repository.logStep(migration: id, state: migration.state, phase: "started", at: now, detail: "{}")
            return migration
        }
        return migration
    }

    package func migration(id: String) throws -> Migration {
        try context.read { try Self.migration(id: id, in: $0) }
    }

    package func migrationSteps(id: String) throws -> [MigrationRepository.Step] {
        try context.read { try MigrationRepository($0).steps(migration: id) }
    }

    package func migrations(tenant: String?, state: MigrationState?, plan: String?, limit: Int) throws -> [Migration] {
        guard (1...1000).contains(limit) else {
            throw ControllerError.invalidField(field: "limit", message: "\(limit) is out of range; accepted: 1...1000")
        }
        return try context.read {
            try MigrationRepository($0).migrations(tenant: tenant, state: state, plan: plan, limit: limit)
        }
    }

    static func migration(id: String, in database: Database) throws -> Migration {
        guard let migration = try MigrationRepository(database).migration(id: id) else {
            throw ControllerError.notFound(kind: "migration", id: id)
        }
        return migration
    }

    static func ledgerBody(_ migration: Migration) -> JSONValue {
        .object([
            ("migration", .string(migration.id)),
            ("from", .object([("region", .string(migration.fromRegion)), ("site", .string(migration.fromSite))])),
            ("to", .object([("region", .string(migration.toRegion)), ("site", .string(migration.toSite))])),
            ("transfer_basis", migration.transfer.jsonValue), ("plan", .optional(migration.plan)),
            ("movers", .array(migration.movers.map { .string($0) })),
        ])
    }
}
