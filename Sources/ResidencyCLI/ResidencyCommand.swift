import ResidencyController
import ResidencyCore

/// The `residency` command tree and its entry point.
package enum ResidencyCommand {
    package static let root = CommandSpec(
        name: "residency",
        abstract: "Multi-region hosting and data-residency controller.",
        discussion: """
            Places each new tenant in the nearest permitted region, keeps the tenant directory, and enforces
            where tenant data may be stored and reached from.

            EXIT STATUS: 0 success; 1 the command ran and was refused or failed (a policy refusal, with its code
            and rule; an unknown id; a file that cannot be read; a data directory that does not exist for a
            command that only reads); 64 the command line itself is wrong (an unknown command or option, a
            missing required option, a value of the wrong form), with the usage line.

            STORE: every command that opens the controller's tables takes --store URL (or $RESIDENCY_STORE):
            postgresql://USER:PASSWORD@HOST:PORT/DATABASE puts them in PostgreSQL, which several `serve`
            processes can share; without it they are in the data directory's SQLite file. The data directory
            (--data) is still used for keys and identities either way.
            """,
        subcommands: [
            ServeCommand.spec, TokensCommand.spec, AccessCommand.spec, CheckCommand.spec, LedgerCommand.spec,
            TenantsCommand.spec, MigrationsCommand.spec, DataCommand.spec, LifecycleCommand.spec, AuditCommand.spec,
            ReportCommand.spec,
            PlaceCommand.spec,
            RegionsCommand.spec,
            PoliciesCommand.spec,
            GeoCommand.spec, WitnessCommand.spec, RegionServiceCommand.spec, VersionCommand.spec,
        ])

    /// Runs one invocation and answers the exit status: 0 success, 1 failure, 64 bad usage.
    package static func main(_ arguments: [String], context: CommandContext = .process) -> Int32 {
        var node = root
        var path = [root.name]
        var remaining = arguments[...]
        do {
            remaining = try StoreOption.extract(from: remaining)
        } catch {
            context.printError("Error: \(error.message)")
            return ExitCode.usage
        }
        // `help a b` is the same as `a b --help`.
        if remaining.first == "help" {
            remaining.removeFirst()
            var target = root
            var targetPath = path
            for name in remaining {
                guard let next = target.subcommand(named: name) else {
                    context.printError("Error: unknown command '\(name)'")
                    context.printError("Usage: \(target.usage(path: targetPath))")
                    return ExitCode.usage
                }
                target = next
                targetPath.append(name)
            }
            context.standardOutput(target.help(path: targetPath))
            return ExitCode.success
        }
        while let next = remaining.first, !node.subcommands.isEmpty {
            if next == "-h" || next == "--help" { break }
            if next == "help" {
                remaining.removeFirst()
                return main(["help"] + path.dropFirst() + remaining, context: context)
            }
            guard let subcommand = node.subcommand(named: next) else {
                context.printError("Error: unknown command '\(next)'")
                context.printError(
                    "Usage: \(node.usage(path: path)); commands: \(node.subcommands.map(\.name).joined(separator: ", "))"
                )
                return ExitCode.usage
            }
            node = subcommand
            path.append(next)
            remaining.removeFirst()
        }
        if remaining.contains("-h") || remaining.contains("--help") {
            context.standardOutput(node.help(path: path))
            return ExitCode.success
        }
        guard let run = node.run else {
            context.printError("Error: missing subcommand")
            context.standardError(node.help(path: path))
            return ExitCode.usage
        }
        do {
            let parsed = try ParsedArguments.parse(
                Array(remaining), options: node.options, positionals: node.positionals)
            // Whatever the command wrote is under a signed (and, with witnesses, published) checkpoint before
            // the process exits — also when the command failed after writing.
            defer { context.opened.publish(context) }
            return try run(parsed, context)
        } catch let error as UsageError {
            context.printError("Error: \(error.message)")
            context.printError("Usage: \(node.usage(path: path))")
            context.printError("  See '\(path.joined(separator: " ")) --help' for more information.")
            return ExitCode.usage
        } catch {
            context.printError("Error: \(message(for: error))")
            return ExitCode.failure
        }
    }

    /// The error as a person reads it: a policy refusal names its code and rule, as the API's answer does.
    static func message(for error: any Error) -> String {
        func withRule(_ message: String, code: String, rule: String?) -> String {
            message + " (" + code + (rule.map { ", rule \($0)" } ?? "") + ")"
        }
        switch error {
        case ControllerError.refused(let code, let message, let rule): return withRule(message, code: code, rule: rule)
        case ControllerError.accessRefused(let refusal):
            return withRule(refusal.message, code: refusal.code, rule: refusal.rule)
        case ControllerError.placementRefused(let decision):
            guard let refusal = decision.refusal else { return "\(error)" }
            return withRule("placement refused: \(refusal.message)", code: refusal.code.rawValue, rule: refusal.rule)
        case ControllerError.conflict(let code, let message): return withRule(message, code: code, rule: nil)
        default: return "\(error)"
        }
    }
}
