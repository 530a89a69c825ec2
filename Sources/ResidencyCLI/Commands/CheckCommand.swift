import ResidencyController
import ResidencyCore

enum CheckCommand {
    static let spec = CommandSpec(
        name: "check",
        abstract: "May a tenant's data of a class be stored or processed at a location? Refusals are recorded.",
        discussion: "Exits 0 when allowed, 1 when refused (printing the rule and the policy version).",
        options: [
            .required("tenant", "id", "The tenant."),
            .required("data-class", "class", "customer_data, backups, logs, support_access, analytics or directory."),
            .required("location", "country|site", "An ISO 3166-1 alpha-2 country code or a site id."),
            .option("purpose", "text", "What the data is for (recorded with a refusal)."), SharedOptions.format,
        ] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let classText = try AccessCommand.required(arguments, "data-class")
        guard let dataClass = DataClassPolicy.DataClass(rawValue: classText) else {
            throw UsageError(
                "--data-class: \"\(classText)\"; accepted: \(DataClassPolicy.DataClass.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let check = DirectoryService.ResidencyCheck(
            tenant: try AccessCommand.required(arguments, "tenant"), dataClass: dataClass,
            location: try AccessCommand.required(arguments, "location"), purpose: arguments.value("purpose"))
        let result = try AccessCommand.controller(arguments, context).directory.checkResidency(
            [check], by: AccessCommand.actor(arguments).tokenName)[0]
        switch format {
        case .json: context.print(result.jsonValue.encoded(pretty: true))
        case .table:
            context.print(
                "\(result.verdict.allowed ? "allowed" : "refused"): \(result.verdict.message) (rule \(result.verdict.rule), policy \(result.policyVersion.prefix(12)))"
                    + (result.ledgerIndex.map { "; recorded as ledger entry \($0)" } ?? ""))
        }
        return result.verdict.allowed ? ExitCode.success : ExitCode.failure
    }
}
