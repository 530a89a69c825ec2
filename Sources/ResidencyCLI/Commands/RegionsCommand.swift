import ResidencyCore

enum RegionsCommand {
    static let spec = CommandSpec(
        name: "regions", abstract: "Inspect the hosting regions.",
        subcommands: [list, show])

    static let list = CommandSpec(
        name: "list", abstract: "List every region with its status, capacity and sites.",
        options: [SharedOptions.format, SharedOptions.regions]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let catalog = try SharedOptions.catalog(arguments, context)
        switch format {
        case .json:
            context.print(JSONValue.array(catalog.regions.map { $0.jsonValue() }).encoded(pretty: true))
        case .table:
            var table = TextTable(["ID", "NAME", "STATUS", "SIGNUPS", "CAPACITY", "SITES"])
            for region in catalog.regions {
                table.append([
                    region.id, region.name, region.status.rawValue, region.acceptsSignups ? "yes" : "no",
                    String(region.capacity),
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
}
