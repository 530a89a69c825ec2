/// Per hosting region and destination country, the mechanism that makes access or movement lawful
/// (`Policies/transfers.json`).
package struct TransferPolicy: Sendable {
    package struct Rule: Sendable, Hashable {
        package let rule: String
        package let countries: Set<CountryCode>
        package let mechanism: TransferMechanism
    }

    package struct RegionRules: Sendable, Hashable {
        package let destinations: [Rule]
        /// Applies to every destination no rule names.
        package let otherwise: Rule
    }

    package let regions: [String: RegionRules]

    /// Resolves the basis for data hosted in `region` reaching `destination`.
    ///
    /// Inside the region's jurisdiction there is no transfer; otherwise the first rule naming the country,
    /// else the region's default. A region missing from the policy is forbidden rather than guessed.
    package func basis(for region: Region, destination: CountryCode) -> TransferBasis {
        if region.jurisdiction.contains(destination) {
            return TransferBasis(
                region: region.id, destination: destination, mechanism: .notATransfer, rule: "jurisdiction")
        }
        guard let rules = regions[region.id] else {
            return TransferBasis(
                region: region.id, destination: destination,
                mechanism: .forbidden(reason: "no transfer rules for region \(region.id)"), rule: "missing")
        }
        let rule = rules.destinations.first { $0.countries.contains(destination) } ?? rules.otherwise
        return TransferBasis(region: region.id, destination: destination, mechanism: rule.mechanism, rule: rule.rule)
    }

    /// The mechanism of the rule `rule` of `region`, as the policy now states it (`jurisdiction` is no
    /// transfer); nil for a rule the policy no longer has, which a report then shows by its id alone.
    package func mechanism(region: String, rule: String) -> TransferMechanism? {
        if rule == "jurisdiction" { return .notATransfer }
        guard let rules = regions[region] else { return nil }
        if rules.otherwise.rule == rule { return rules.otherwise.mechanism }
        return rules.destinations.first { $0.rule == rule }?.mechanism
    }
}
