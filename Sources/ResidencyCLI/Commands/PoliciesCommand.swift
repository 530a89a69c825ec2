import ResidencyCore

enum PoliciesCommand {
    static let spec = CommandSpec(
        name: "policies", abstract: "Check the region catalog and policy files.",
        subcommands: [validate])

    static let validate = CommandSpec(
        name: "validate",
        abstract: "Validate Regions/ and Policies/ together; list every problem found.",
        discussion: """
            Exits 0 and prints the policy version when everything is valid; exits 1 and prints one line per
            problem (file: JSON path: what is wrong and what is accepted) when not.
            """,
        options: [SharedOptions.regions, SharedOptions.policies]
    ) { arguments, context in
        let regions = try context.locator.regions(explicit: arguments.value("regions"))
        let policies = try context.locator.policies(explicit: arguments.value("policies"))
        let collector = ProblemCollector()
        let set = PolicySet.load(regions: regions, policies: policies, collector: collector)
        guard let set, collector.problems.isEmpty else {
            for problem in collector.problems { context.printError(problem.description) }
            let count = collector.problems.count
            context.printError("Error: \(count) problem\(count == 1 ? "" : "s") found")
            return ExitCode.failure
        }
        context.print(
            "valid: \(set.catalog.regions.count) regions, \(set.catalog.countries.countries.count) countries, "
                + "\(set.residency.mandatory.count) mandatory rules, \(set.transfers.regions.count) transfer tables, "
                + "\(set.access.justifications.count) justification types, \(set.retention.rules.count) retention rules"
        )
        context.print("policy version: \(set.version.hex)")
        return ExitCode.success
    }
}
