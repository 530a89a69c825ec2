import Foundation
import ResidencyCore

enum GeoCommand {
    static let geoIP = OptionSpec.option(
        "geoip", "file", "A MaxMind-format database (default: $RESIDENCY_GEOIP or Regions/dbip-country-lite.mmdb).")

    static let spec = CommandSpec(name: "geo", abstract: "Geolocate IP addresses.", subcommands: [lookup, verify])

    enum Format: String, CaseIterable { case tsv, json }

    static func locator(_ arguments: ParsedArguments, _ context: CommandContext) throws -> GeoLocator {
        let regions = try context.locator.regions(explicit: arguments.value("regions"))
        let path = context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regions).path
        return try GeoLocator(path: path)
    }

    static let lookup = CommandSpec(
        name: "lookup", abstract: "Print the country and coordinates of each address.",
        discussion: """
            Output (tsv): IP<TAB>COUNTRY<TAB>LATITUDE<TAB>LONGITUDE, '-' for what is absent; json: one object a line.
            An argument '-' reads addresses from standard input, one a line. A malformed address is reported on
            standard error with its line and the run goes on; the exit status is 1 if any address was bad.
            """,
        options: [
            geoIP, OptionSpec.option("format", "format", "Output format: tsv or json (default: tsv)."),
            SharedOptions.regions,
        ],
        positionals: [PositionalSpec("ip", "Addresses to look up, or - for standard input.", variadic: true)]
    ) { arguments, context in
        let format = try arguments.choice("format", default: Format.tsv)
        var lookup = BulkLookup(locator: try locator(arguments, context), format: format, context: context)
        // What was answered before a damaged database stopped the run is still written.
        defer { lookup.flush() }
        for (index, argument) in arguments.positionals.enumerated() {
            if argument != "-" {
                try lookup.handle(argument, label: "argument \(index + 1)")
            } else if let readInput = context.readInput {
                try lookup.handleLines(from: readInput)
            } else {
                while let text = context.readLine() { try lookup.handle(line: text) }
            }
        }
        if lookup.bad > 0 {
            context.printError("Error: \(lookup.bad) invalid address\(lookup.bad == 1 ? "" : "es")")
            return ExitCode.failure
        }
        return ExitCode.success
    }

    static let verify = CommandSpec(
        name: "verify", abstract: "Check a whole MaxMind DB file: tree, pointers and every data record.",
        options: [geoIP, SharedOptions.regions]
    ) { arguments, context in
        let locator = try locator(arguments, context)
        try locator.database.verify()
        let metadata = locator.database.metadata
        context.print(
            "valid: \(locator.source): \(metadata.databaseType), IPv\(metadata.ipVersion), \(metadata.nodeCount) nodes, \(metadata.recordSize)-bit records, built \(Date(timeIntervalSince1970: TimeInterval(metadata.buildEpoch)))"
        )
        return ExitCode.success
    }
}
