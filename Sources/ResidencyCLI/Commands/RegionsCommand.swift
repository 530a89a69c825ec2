import Foundation
import ResidencyController
import ResidencyCore

enum RegionsCommand {
    static let spec = CommandSpec(
        name: "regions", abstract: "Inspect the hosting regions; enrol and remove their regional services.",
        subcommands: [list, show, enroll, remove])

    /// The regional services the controller in the data directory knows, by region; empty when there is no
    /// data directory yet (the catalog alone is shown).
    static func services(_ arguments: ParsedArguments, _ context: CommandContext) throws -> [String: JSONValue] {
        let data = context.locator.dataDirectory(explicit: arguments.value("data"))
        guard FileManager.default.fileExists(atPath: data.path) else { return [:] }
        let controller = try AccessCommand.controller(arguments, context, .read)
        var views: [String: JSONValue] = [:]
        for region in controller.policies.catalog.regionIDs {
            if let view = controller.directory.regionalServiceView(region: region) { views[region] = view }
        }
        return views
    }

    static let list = CommandSpec(
        name: "list", abstract: "List every region with its status, capacity and sites.",
        options: [SharedOptions.format, SharedOptions.regions, ServeCommand.dataOption, SharedOptions.policies, GeoCommand.geoIP]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let catalog = try SharedOptions.catalog(arguments, context)
        let services = try Self.services(arguments, context)
        switch format {
        case .json:
            context.print(
                JSONValue.array(catalog.regions.map { $0.jsonValue().adding([("service", services[$0.id] ?? .null)]) })
                    .encoded(pretty: true))
        case .table:
            var table = TextTable(["ID", "NAME", "STATUS", "SIGNUPS", "CAPACITY", "SERVICE", "SITES"])
            for region in catalog.regions {
                var service = "in process"
                if let view = services[region.id], case .string(let state)? = view["state"],
                    case .string(let endpoint)? = view["endpoint"]
                {
                    service = "\(endpoint) \(state)"
                    if case .string(let contact)? = view["last_contact_at"] { service += " (last contact \(contact)" }
                    if case .number(let tenants)? = view["tenants"] { service += ", \(tenants) tenants" }
                    if case .number(let free)? = view["free_disk_bytes"], let bytes = free.int64Value {
                        service += ", \(bytes / (1 << 20)) MiB free"
                    }
                    if view["last_contact_at"] != .null { service += ")" }
                }
                table.append([
                    region.id, region.name, region.status.rawValue, region.acceptsSignups ? "yes" : "no",
                    String(region.capacity), service,
                    region.sites.map { "\($0.id) (\($0.city), \($0.country), \($0.provider.rawValue))" }.joined(
                        separator: "; "),
                ])
            }
            context.standardOutput(table.render())
        }
        return ExitCode.success
    }

    static let show = CommandSpec(
        name: "show", abstract: "Show one region in full.",
        options: [SharedOptions.format, SharedOptions.regions],
        positionals: [PositionalSpec("id", "The region id, e.g. eu.")]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let catalog = try SharedOptions.catalog(arguments, context)
        let id = arguments.positionals[0]
        guard let region = catalog.region(id: id) else {
            throw CommandFailure("unknown region '\(id)'; known regions: \(catalog.regionIDs.joined(separator: ", "))")
        }
        switch format {
        case .json:
            context.print(region.jsonValue().encoded(pretty: true))
        case .table:
            var text = """
                id:              \(region.id)
                name:            \(region.name)
                status:          \(region.status.rawValue)
                accepts signups: \(region.acceptsSignups ? "yes" : "no")
                capacity:        \(region.capacity)
                jurisdiction:    \(region.jurisdiction.sorted().map(\.rawValue).joined(separator: " "))

                """
            var table = TextTable(["SITE", "CITY", "COUNTRY", "LATITUDE", "LONGITUDE", "PROVIDER"])
            for site in region.sites {
                table.append([
                    site.id, site.city, site.country.rawValue, String(site.location.latitude),
                    String(site.location.longitude), site.provider.rawValue,
                ])
            }
            text += "\n" + table.render()
            context.standardOutput(text)
        }
        return ExitCode.success
    }

    static let enroll = CommandSpec(
        name: "enroll", abstract: "Open the enrolment of a region's service: print its one-time join code.",
        discussion: """
            The code is valid once, for 15 minutes. Start the regional service with it:
            residency region serve --region ID --listen HOST:PORT --data DIR --controller URL --join CODE
            It joins with its own key; from then on the controller pins that key and the service pins the
            controller's. Enrolling a region again (a new host or key) replaces the pin when the new service joins.
            Recorded in the ledger.
            """,
        options: AccessCommand.common + [
            .option("endpoint", "url", "Where the regional service listens: https://HOST:PORT (required)."),
            .option("site", "id", "The site it serves (default: the region's first)."),
            SharedOptions.format,
        ],
        positionals: [PositionalSpec("id", "The region id, e.g. eu.")]
    ) { arguments, context in
        guard let endpoint = arguments.value("endpoint") else {
            throw UsageError("--endpoint is required: where the regional service listens, https://HOST:PORT")
        }
        let controller = try AccessCommand.controller(arguments, context)
        guard let regional = controller.regional else { throw CommandFailure("this controller has no data directory") }
        let region = arguments.positionals[0]
        let opened = try regional.enroll(
            region: region, endpoint: endpoint, site: arguments.value("site"), actor: arguments.value("as") ?? "cli")
        switch try arguments.choice("format", default: RecordFormat.table) {
        case .json:
            context.print(
                JSONValue.object([
                    ("region", .string(region)), ("endpoint", .string(endpoint)), ("join_code", .string(opened.code.text)),
                    ("expires_at", .string(Timestamp.rfc3339(milliseconds: opened.expiresAt))),
                ]).encoded(pretty: true))
        case .table:
            context.print(opened.code.text)
            context.printError(
                "residency: join code for region \(region) at \(endpoint), valid once until \(Timestamp.rfc3339(milliseconds: opened.expiresAt)); start the service with --join CODE"
            )
        }
        return ExitCode.success
    }

    static let remove = CommandSpec(
        name: "remove", abstract: "Forget a region's service: its key is refused from now on (recorded in the ledger).",
        options: AccessCommand.common,
        positionals: [PositionalSpec("id", "The region id, e.g. eu.")]
    ) { arguments, context in
        let controller = try AccessCommand.controller(arguments, context)
        guard let regional = controller.regional else { throw CommandFailure("this controller has no data directory") }
        try regional.remove(region: arguments.positionals[0], actor: arguments.value("as") ?? "cli")
        context.printError("residency: region \(arguments.positionals[0])'s service removed")
        return ExitCode.success
    }
}
