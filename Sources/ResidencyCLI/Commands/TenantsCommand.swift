import Foundation
import ResidencyController
import ResidencyCore

/// `residency tenants …`: the directory from the command line (the signup flow uses the API).
enum TenantsCommand {
    static let spec = CommandSpec(
        name: "tenants", abstract: "The tenant directory: sign up, show, list.",
        subcommands: [create, show, list, LifecycleCommand.tenantEvent])

    static let create = CommandSpec(
        name: "create", abstract: "Sign a tenant up where placement puts it (and provision its data there).",
        options: [
            .required("name", "text", "The customer's name."),
            .option("plan", "plan", "trial, free or paid (default: paid)."),
            .option("country", "cc", "The declared country."), .option("ip", "address", "The signup IP address."),
            .option("region", "id", "A requested region."), SharedOptions.format,
        ] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let plan = try arguments.choice("plan", default: Plan.paid)
        var country: CountryCode?
        if let text = arguments.value("country") {
            guard let code = CountryCode(text) else {
                throw UsageError("--country: \"\(text)\" is not an ISO 3166-1 alpha-2 code")
            }
            country = code
        }
        var ip: IPAddress?
        if let text = arguments.value("ip") {
            do { ip = try IPAddress(text) } catch { throw UsageError("--ip: \(error)") }
        }
        let result = try AccessCommand.controller(arguments, context).directory.signUp(
            Signup(
                name: try AccessCommand.required(arguments, "name"), plan: plan, declaredCountry: country, ip: ip,
                requestedRegion: arguments.value("region")), actor: AccessCommand.actor(arguments).tokenName)
        switch format {
        case .json: context.print(result.tenant.jsonValue(placement: result.placement).encoded(pretty: true))
        case .table:
            // The first line stays "ID REGION SITE" for scripts; the reasons say why it went there.
            var lines = ["\(result.tenant.id) \(result.tenant.region) \(result.tenant.site)"]
            if case .array(let reasons)? = result.placement["reasons"] {
                for (index, reason) in reasons.enumerated() {
                    if case .string(let code)? = reason["code"], case .string(let message)? = reason["message"] {
                        lines.append("  \(index + 1). \(code): \(message)")
                    }
                }
            }
            context.print(lines.joined(separator: "\n"))
        }
        return ExitCode.success
    }

    static let show = CommandSpec(
        name: "show", abstract: "Show a tenant's directory entry.", options: AccessCommand.common,
        positionals: [PositionalSpec("id", "The tenant id.")]
    ) { arguments, context in
        let controller = try AccessCommand.controller(arguments, context, .read)
        let found = try controller.directory.tenant(id: arguments.positionals[0])
        context.print(try controller.directory.tenantView(found.tenant, placement: found.placement).encoded(pretty: true))
        return ExitCode.success
    }

    static let list = CommandSpec(
        name: "list", abstract: "List tenants in id order.",
        options: [
            .option("region", "id", "Only this region."), .option("limit", "n", "At most n (default 100)."),
            SharedOptions.format,
        ] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let limitText = arguments.value("limit") ?? "100"
        guard let limit = Int(limitText) else { throw UsageError("--limit: \"\(limitText)\" is not an integer") }
        let controller = try AccessCommand.controller(arguments, context, .read)
        let page = try controller.directory.tenants(region: arguments.value("region"), status: nil, limit: limit, after: nil)
        switch format {
        case .json:
            let views = try page.tenants.map { try controller.directory.tenantView($0, inList: true) }
            context.print(JSONValue.array(views).encoded(pretty: true))
        case .table:
            var table = TextTable(["ID", "NAME", "REGION", "SITE", "COUNTRY", "PLAN", "STATUS"])
            for t in page.tenants {
                table.append([
                    t.id, t.name.isEmpty ? "-" : t.name, t.region, t.site, t.country?.rawValue ?? "-", t.plan.rawValue,
                    t.status.rawValue,
                ])
            }
            context.standardOutput(table.render())
        }
        return ExitCode.success
    }
}
