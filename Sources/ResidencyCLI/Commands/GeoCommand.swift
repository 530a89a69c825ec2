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
        let locator = try locator(arguments, context)
        var bad = 0
        var line = 0
        /// Prints the answer for one address; false when it was malformed.
        func handle(_ text: String, label: String) throws -> Bool {
            let address: IPAddress
            switch IPAddress.parse(text) {
            case .success(let parsed): address = parsed
            case .failure(let error):
                context.printError("\(label): \(error)")
                return false
            }
            let answer = try locator.locate(address)
            var country: String?
            var coordinate: Coordinate?
            var note: String?
            switch answer {
            case .located(let record):
                country = record.country?.rawValue
                coordinate = record.coordinate
            case .notInDatabase: note = "not in database"
            case .notLocatable(let range): note = "not locatable: \(range.name) \(range.prefix)"
            }
            switch format {
            case .tsv:
                context.print(
                    [
                        text, country ?? "-", coordinate.map { String($0.latitude) } ?? "-",
                        coordinate.map { String($0.longitude) } ?? "-",
                    ].joined(separator: "\t"))
            case .json:
                var members: [(key: String, value: JSONValue)] = [
                    ("ip", .string(text)), ("country", .optional(country)),
                ]
                members.append(("latitude", coordinate.map { .double($0.latitude) } ?? .null))
                members.append(("longitude", coordinate.map { .double($0.longitude) } ?? .null))
                if let note { members.append(("note", .string(note))) }
                context.print(JSONValue.object(members).encoded())
            }
            return true
        }
        for (index, argument) in arguments.positionals.enumerated() {
            if argument == "-" {
                while let text = context.readLine() {
                    line += 1
                    let trimmed = text.trimmingCharacters(in: .whitespaces)
                    if trimmed.isEmpty { continue }
                    if try !handle(trimmed, label: "stdin line \(line)") { bad += 1 }
                }
            } else {
                if try !handle(argument, label: "argument \(index + 1)") { bad += 1 }
            }
        }
        if bad > 0 {
            context.printError("Error: \(bad) invalid address\(bad == 1 ? "" : "es")")
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
