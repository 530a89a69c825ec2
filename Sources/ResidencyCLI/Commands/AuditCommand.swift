import Foundation
import ResidencyController
import ResidencyCore

/// `residency audit`: where data really is, against the directory and the policy.
enum AuditCommand {
    static let spec = CommandSpec(
        name: "audit",
        abstract: "Compare where tenant data actually is with the directory and the residency policy.",
        discussion: """
            Checks the local data plane's region directories and, with --inventory, a CSV of stores the controller \
            does not own (header tenant,data_class,location[,store]; location is a country code or a site id). \
            Lists every violation; exits 1 when there is one. The run is recorded in the ledger.
            """,
        options: [
            .option("inventory", "file", "A CSV inventory of external stores."), SharedOptions.format,
        ] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context, .read)
        var inventory: [ReportService.InventoryItem] = []
        if let path = arguments.value("inventory") {
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw CommandFailure("--inventory: cannot read \(path): \(error.localizedDescription)")
            }
            inventory = try controller.reports.readInventory(text, file: path)
        }
        let result = try controller.reports.audit(inventory: inventory, by: AccessCommand.actor(arguments).tokenName)
        switch format {
        case .json:
            context.print(
                JSONValue.object([
                    ("checked", .integer(result.checked)), ("violations", .array(result.violations.map(\.jsonValue))),
                    ("ledger_index", result.ledgerIndex.map { .integer($0) } ?? .null), ("policy_version", .string(result.policyVersion)),
                ]).encoded(pretty: true))
        case .table:
            if result.violations.isEmpty {
                context.print(
                    "no violations (\(result.checked) placements checked; ledger entry \(result.ledgerIndex.map(String.init) ?? "not recorded"))")
            } else {
                var table = TextTable(["KIND", "TENANT", "CLASS", "LOCATION", "SOURCE", "RULE", "MESSAGE"])
                for v in result.violations {
                    table.append([v.kind, v.tenant, v.dataClass, v.location, v.source, v.rule ?? "-", v.message])
                }
                context.standardOutput(table.render())
                context.print(
                    "\(result.violations.count) \(result.violations.count == 1 ? "violation" : "violations") in "
                        + "\(result.checked) placements checked; ledger entry "
                        + (result.ledgerIndex.map(String.init) ?? "not recorded")
                )
            }
        }
        return result.violations.isEmpty ? ExitCode.success : ExitCode.failure
    }
}
