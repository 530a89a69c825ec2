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
        options: SignupOptions.signup + [SharedOptions.format] + AccessCommand.common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let controller = try AccessCommand.controller(arguments, context)
        let signup: Signup
        do throws(SignupInput.Problems) {
            signup = try SignupOptions.input(arguments).signup(in: controller.policies.catalog)
        } catch {
            throw SignupOptions.usageError(error)
        }
        let result = try controller.directory.signUp(signup, actor: AccessCommand.actor(arguments).tokenName)
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
