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

    static func catalog(_ arguments: ParsedArguments, _ context: CommandContext) throws -> RegionCatalog {
        try RegionCatalog.load(from: try context.locator.regions(explicit: arguments.value("regions")))
    }

    static func policySet(_ arguments: ParsedArguments, _ context: CommandContext) throws -> PolicySet {
        try PolicySet.load(
            regions: try context.locator.regions(explicit: arguments.value("regions")),
            policies: try context.locator.policies(explicit: arguments.value("policies")))
    }
}
