import Foundation
import ResidencyController
import ResidencyCore

/// Options several commands share, and how they become loaded configuration.
enum SharedOptions {
    static let regions = OptionSpec.option(
        "regions", "dir", "The region catalog directory (default: $RESIDENCY_REGIONS, ./Regions, or the installed one)."
    )
    static let policies = OptionSpec.option(
        "policies", "dir", "The policies directory (default: $RESIDENCY_POLICIES, ./Policies, or the installed one).")
    static let format = OptionSpec.option("format", "format", "Output format: table or json (default: table).")

    /// What a command does with the data directory. Only a command that writes may create it: one that only
    /// reads, pointed at the wrong folder, would otherwise make an empty system there and report on it.
    enum DataAccess {
        case read, write
    }

    /// The data directory (`--data`, `$RESIDENCY_DATA`, `./residency-data`); for `.read`, refused when missing.
    static func dataDirectory(
        _ arguments: ParsedArguments, _ context: CommandContext, _ access: DataAccess
    ) throws -> URL {
        let url = context.locator.dataDirectory(explicit: arguments.value("data"))
        var isDirectory: ObjCBool = false
        if access == .read, !FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) {
            throw CommandFailure(
                "no data directory at \(url.path); run a command that writes (tenants create, serve) or pass --data DIR"
            )
        }
        return url
    }

    static func catalog(_ arguments: ParsedArguments, _ context: CommandContext) throws -> RegionCatalog {
        try RegionCatalog.load(from: try context.locator.regions(explicit: arguments.value("regions")))
    }

    static func policySet(_ arguments: ParsedArguments, _ context: CommandContext) throws -> PolicySet {
        try PolicySet.load(
            regions: try context.locator.regions(explicit: arguments.value("regions")),
            policies: try context.locator.policies(explicit: arguments.value("policies")))
    }
}
