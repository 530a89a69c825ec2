import Foundation
import ResidencyController
import ResidencyCore

/// `residency lifecycle plan|run [--as-of TIME]` and `residency tenants event`: the retention schedule.
enum LifecycleCommand {
    static let spec = CommandSpec(
        name: "lifecycle", abstract: "The retention schedule: what is due (plan) and applying it (run).",
        subcommands: [plan, run])

    static let asOf = OptionSpec.option("as-of", "time", "RFC 3339 time to evaluate at (default: now).")

    static func printSteps(_ steps: [RetentionService.LifecycleStep], _ format: RecordFormat, _ context: CommandContext) {
        switch format {
        case .json: context.print(JSONValue.array(steps.map(\.jsonValue)).encoded(pretty: true))
        case .table where steps.isEmpty:
            context.print("nothing due")
        case .table:
            var table = TextTable(["TENANT", "ACTION", "RULE", "DUE", "NOTE"])
            for step in steps {
                table.append([
                    step.tenant, step.due.action.rawValue, step.due.rule,
                    Timestamp.rfc3339(milliseconds: step.due.dueAt),
                    step.deferred ?? step.ledgerIndex.map { "ledger \($0)" } ?? "",
                ])
            }
            context.standardOutput(table.render())
        }
    }

    static let plan = CommandSpec(
        name: "plan", abstract: "List every due action (suspend, close, delete) with its rule and when it fell due.",
        options: [asOf, SharedOptions.format] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let steps = try AccessCommand.controller(arguments, context, .read).retention.lifecyclePlan(
            asOf: try arguments.time("as-of"))
        printSteps(steps, format, context)
        return ExitCode.success
    }

    static let run = CommandSpec(
        name: "run", abstract: "Apply every due action (idempotent: a second run does nothing more).",
        options: [asOf, SharedOptions.format] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let steps = try AccessCommand.controller(arguments, context).retention.runLifecycle(
            asOf: try arguments.time("as-of"), by: AccessCommand.actor(arguments).tokenName)
        printSteps(steps, format, context)
        return steps.contains { $0.deferred != nil } ? ExitCode.failure : ExitCode.success
    }

    /// Parses an event as the API and `tenants event` take it.
    static func event(kind: String, plan: String?, expiresAt: String?) throws -> TenantEvent {
        guard let kind = TenantEvent.Kind(rawValue: kind) else {
            throw UsageError(
                "event \"\(kind)\"; accepted: \(TenantEvent.Kind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        switch kind {
        case .planChanged:
            guard let text = plan, let value = Plan(rawValue: text) else {
                throw UsageError("plan_changed needs --plan trial|free|paid")
            }
            return .planChanged(value)
        case .trialStarted:
            guard let text = expiresAt, let value = Timestamp.milliseconds(rfc3339: text) else {
                throw UsageError("trial_started needs --expires-at TIME (RFC 3339)")
            }
            return .trialStarted(expiresAt: value)
        case .paymentFailed: return .paymentFailed
        case .paymentRecovered: return .paymentRecovered
        case .cancelled: return .cancelled
        case .reactivated: return .reactivated
        case .activity: return .activity
        }
    }

    static let tenantEvent = CommandSpec(
        name: "event", abstract: "Record a billing or activity event for a tenant.",
        options: [
            .required("tenant", "id", "The tenant."),
            .required("type", "event", TenantEvent.Kind.allCases.map(\.rawValue).joined(separator: ", ") + "."),
            .option("plan", "plan", "The new plan (plan_changed)."),
            .option("expires-at", "time", "When the trial expires (trial_started)."),
            .option("at", "time", "When it happened (default: now)."),
        ] + AccessCommand.common
    ) { arguments, context in
        let event = try event(
            kind: try AccessCommand.required(arguments, "type"), plan: arguments.value("plan"),
            expiresAt: arguments.value("expires-at"))
        let at = try arguments.time("at")
        let lifecycle = try AccessCommand.controller(arguments, context).retention.recordTenantEvent(
            tenant: try AccessCommand.required(arguments, "tenant"), event, at: at,
            by: AccessCommand.actor(arguments).tokenName)
        context.print(lifecycle.jsonValue.encoded(pretty: true))
        return ExitCode.success
    }
}
