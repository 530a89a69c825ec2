import Foundation
import ResidencyController
import ResidencyCore

/// `residency migrations …`: move tenants between regions, one at a time or by plan.
enum MigrationsCommand {
    static let spec = CommandSpec(
        name: "migrations", abstract: "Move tenants between regions: request, approve, run, cancel, resume, plan.",
        subcommands: [request, approve, cancel, list, show, resume, plan, run])

    static let common = AccessCommand.common

    static func printMigration(
        _ migration: Migration, _ format: RecordFormat, _ context: CommandContext,
        steps: [MigrationStep]? = nil
    ) {
        switch format {
        case .json:
            var value = migration.jsonValue
            if let steps { value = value.adding([("steps", .array(steps.map(\.jsonValue)))]) }
            context.print(value.encoded(pretty: true))
        case .table:
            func time(_ value: Int64?) -> String { value.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-" }
            var text = """
                id:          \(migration.id)
                tenant:      \(migration.tenant)
                from:        \(migration.fromRegion)/\(migration.fromSite)
                to:          \(migration.toRegion)/\(migration.toSite)
                state:       \(migration.state.rawValue)
                basis:       \(migration.transfer.mechanism.summary) (rule \(migration.transfer.rule))
                reason:      \(migration.reason)
                requested:   \(time(migration.createdAt)) by \(migration.requestedBy)
                approved by: \(migration.approvedBy ?? "-")
                cutover:     \(time(migration.cutoverAt))
                frozen:      \(migration.frozenMilliseconds.map { "\($0) ms" } ?? "-")

                """
            if let plan = migration.plan { text += "plan:        \(plan)\n" }
            if let error = migration.error { text += "error:       \(error)\n" }
            if let steps, !steps.isEmpty {
                var table = TextTable(["STEP", "PHASE", "AT", "DETAIL"])
                for step in steps {
                    table.append([step.state, step.phase, time(step.at), step.detail == "{}" ? "" : step.detail])
                }
                text += "\n" + table.render()
            }
            context.standardOutput(text)
        }
    }

    static let request = CommandSpec(
        name: "request", abstract: "File a migration (checked against policy; a refusal is recorded).",
        options: [
            .required("tenant", "id", "The tenant."), .required("to", "region", "The target region."),
            .required("reason", "text", "Why (recorded)."),
            .option("site", "id", "The target site (default: the target region's site nearest the current one)."),
            .flag("approve", "Approve at once and run it to the end."), SharedOptions.format,
        ] + common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context)
        let actor = AccessCommand.actor(arguments).tokenName
        var migration = try controller.migrations.requestMigration(
            MigrationService.MigrationRequest(
                tenant: try AccessCommand.required(arguments, "tenant"),
                toRegion: try AccessCommand.required(arguments, "to"),
                toSite: arguments.value("site"), reason: try AccessCommand.required(arguments, "reason")), by: actor)
        if arguments.flag("approve") {
            _ = try controller.migrations.approveMigration(id: migration.id, by: actor)
            migration = try controller.migrations.runMigration(id: migration.id)
        }
        printMigration(migration, format, context)
        return migration.state == .failed ? ExitCode.failure : ExitCode.success
    }

    static let approve = CommandSpec(
        name: "approve", abstract: "Approve a requested migration and run it to the end (unless --no-run).",
        options: [.flag("no-run", "Only approve; a server or `migrations resume` runs it."), SharedOptions.format]
            + common,
        positionals: [PositionalSpec("id", "The migration id.")]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context)
        var migration = try controller.migrations.approveMigration(
            id: arguments.positionals[0], by: AccessCommand.actor(arguments).tokenName)
        if !arguments.flag("no-run") { migration = try controller.migrations.runMigration(id: migration.id) }
        printMigration(migration, format, context)
        return migration.state == .failed ? ExitCode.failure : ExitCode.success
    }

    static let cancel = CommandSpec(
        name: "cancel", abstract: "Cancel a migration before cutover (rolling back what it copied).",
        options: [SharedOptions.format] + common, positionals: [PositionalSpec("id", "The migration id.")]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context)
        var migration = try controller.migrations.cancelMigration(
            id: arguments.positionals[0], by: AccessCommand.actor(arguments).tokenName)
        if migration.state == .rollingBack {
            // Roll back here unless a runner elsewhere holds it (it then sees the cancel itself).
            migration = (try? controller.migrations.runMigration(id: migration.id)) ?? migration
        }
        printMigration(migration, format, context)
        return ExitCode.success
    }

    static let list = CommandSpec(
        name: "list", abstract: "List migrations, newest first.",
        options: [
            .option("tenant", "id", "Only this tenant."), .option("state", "state", "Only this state."),
            .option("plan", "id", "Only this plan's."), .option("limit", "n", "At most n (default 100)."),
            SharedOptions.format,
        ] + common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        var state: MigrationState?
        if let text = arguments.value("state") {
            guard let value = MigrationState(rawValue: text) else {
                throw UsageError(
                    "--state: \"\(text)\"; accepted: \(MigrationState.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            state = value
        }
        let limitText = arguments.value("limit") ?? "100"
        guard let limit = Int(limitText) else { throw UsageError("--limit: \"\(limitText)\" is not an integer") }
        let migrations = try AccessCommand.controller(arguments, context, .read).migrations.migrations(
            tenant: arguments.value("tenant"), state: state, plan: arguments.value("plan"), limit: limit)
        switch format {
        case .json: context.print(JSONValue.array(migrations.map(\.jsonValue)).encoded(pretty: true))
        case .table:
            var table = TextTable(["ID", "TENANT", "FROM", "TO", "STATE", "BASIS", "FROZEN MS", "ERROR"])
            for m in migrations {
                table.append([
                    m.id, m.tenant, "\(m.fromRegion)/\(m.fromSite)", "\(m.toRegion)/\(m.toSite)", m.state.rawValue,
                    m.transfer.mechanism.code, m.frozenMilliseconds.map(String.init) ?? "-", m.error ?? "",
                ])
            }
            context.standardOutput(table.render())
        }
        return ExitCode.success
    }

    static let show = CommandSpec(
        name: "show", abstract: "Show a migration and its step log.", options: [SharedOptions.format] + common,
        positionals: [PositionalSpec("id", "The migration id.")]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context, .read)
        let id = arguments.positionals[0]
        printMigration(
            try controller.migrations.migration(id: id), format, context, steps: try controller.migrations.migrationSteps(id: id))
        return ExitCode.success
    }

    static let resume = CommandSpec(
        name: "resume",
        abstract: "Carry every interrupted migration to completion or rollback (the server does this at start-up).",
        options: common
    ) { arguments, context in
        let controller = try AccessCommand.controller(arguments, context)
        let results = try controller.migrations.resumeMigrations()
        for (migration, error) in results {
            context.print(
                "\(migration.id) \(migration.tenant): \(migration.state.rawValue)" + (error.map { " (\($0))" } ?? ""))
        }
        if results.isEmpty { context.print("no interrupted migrations") }
        return results.contains { $0.error != nil || $0.migration.state == .failed }
            ? ExitCode.failure : ExitCode.success
    }

    static let plan = CommandSpec(
        name: "plan", abstract: "List which tenants would move from one region to another, and why not for the rest.",
        discussion: """
            Prints the plan as a table, or as JSON with --format json. --output writes the JSON to a file, for \
            `migrations run PLAN`.
            """,
        options: [
            .required("from", "region", "The source region."), .required("to", "region", "The target region."),
            .option("site", "id", "The target site."), .option("country", "cc", "Only tenants from this country."),
            .option("tenant", "id", "Only these tenants (repeatable).", repeatable: true),
            .option("output", "file", "Write the plan (JSON) to this file instead of standard output."),
            SharedOptions.format,
        ] + common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        var country: CountryCode?
        if let text = arguments.value("country") {
            guard let code = CountryCode(text) else {
                throw UsageError("--country: \"\(text)\" is not an ISO 3166-1 alpha-2 code")
            }
            country = code
        }
        let plan = try AccessCommand.controller(arguments, context, .read).migrations.planMigrations(
            from: try AccessCommand.required(arguments, "from"), to: try AccessCommand.required(arguments, "to"),
            toSite: arguments.value("site"), country: country, tenants: arguments.values("tenant"))
        let text = plan.jsonValue.encoded(pretty: true)
        if let output = arguments.value("output") {
            try OutputFile.write(text + "\n", to: output)
            context.print(
                "plan \(plan.id): \(plan.movable.count) to move, \(plan.entries.count - plan.movable.count) staying; written to \(output)"
            )
        } else if format == .json {
            context.print(text)
        } else {
            var table = TextTable(["TENANT", "COUNTRY", "MOVES", "BASIS", "WHY NOT"])
            for entry in plan.entries {
                table.append([
                    entry.tenant, entry.country?.rawValue ?? "-", entry.movable ? "yes" : "no", entry.transfer ?? "-",
                    entry.movable
                        ? ""
                        : [entry.code, entry.rule.map { "rule \($0)" }, entry.message].compactMap { $0 }.joined(
                            separator: ": "),
                ])
            }
            context.standardOutput(table.render())
            context.print(
                "plan \(plan.id) \(plan.from) -> \(plan.to): \(plan.movable.count) to move, "
                    + "\(plan.entries.count - plan.movable.count) staying (--output FILE saves it for `migrations run`)"
            )
        }
        return ExitCode.success
    }

    static let run = CommandSpec(
        name: "run", abstract: "Run a saved plan in waves: a progress bar on a terminal, JSON lines otherwise.",
        options: [
            .option("concurrency", "n", "Migrations at once (default 2)."),
            .option("rate", "n", "Start at most n migrations a minute (default: no limit)."),
        ] + common,
        positionals: [PositionalSpec("plan", "The plan file from `migrations plan --output`.")]
    ) { arguments, context in
        let path = arguments.positionals[0]
        let bytes: [UInt8]
        do {
            bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw CommandFailure("cannot read plan \(path): \(error.localizedDescription)")
        }
        let plan = try MigrationPlan.read(try JSONParser.parse(bytes), file: path)
        func integer(_ name: String) throws -> Int? {
            guard let text = arguments.value(name) else { return nil }
            guard let value = Int(text), value > 0 else {
                throw UsageError("--\(name): \"\(text)\" is not a positive integer")
            }
            return value
        }
        let concurrency = try integer("concurrency") ?? 2
        let rate = try integer("rate")
        let controller = try AccessCommand.controller(arguments, context)
        let terminal = context.isTerminal
        let started = Date()
        let result = try controller.migrations.runPlan(
            plan, concurrency: concurrency, perMinute: rate, by: AccessCommand.actor(arguments).tokenName
        ) { progress in
            if terminal {
                let width = 30
                let filled = progress.total == 0 ? width : progress.done * width / progress.total
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                context.standardOutput(
                    "\r[\(bar)] \(progress.done)/\(progress.total) \(progress.event.rawValue) \(progress.tenant)   ")
            } else {
                context.print(
                    JSONValue.object([
                        ("event", .string(progress.event.rawValue)), ("tenant", .string(progress.tenant)),
                        ("migration", .optional(progress.migration)), ("detail", .optional(progress.detail)),
                        ("done", .integer(progress.done)), ("total", .integer(progress.total)),
                    ]).encoded())
            }
        }
        if terminal { context.print("") }
        let summary = JSONValue.object([
            ("event", .string("summary")), ("plan", .string(plan.id)), ("completed", .integer(result.completed)),
            ("in_place", .integer(result.inPlace)), ("failed", .integer(result.failed)),
            ("refused", .integer(result.refused)),
            ("seconds", .double((Date().timeIntervalSince(started) * 100).rounded() / 100)),
        ])
        context.print(summary.encoded())
        return result.failed + result.refused > 0 ? ExitCode.failure : ExitCode.success
    }
}
