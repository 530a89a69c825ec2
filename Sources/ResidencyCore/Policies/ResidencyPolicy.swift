/// Where customers from each country may be hosted (`Policies/residency.json`).
package struct ResidencyPolicy: Sendable {
    /// Customers from these countries must be hosted in `region`.
    package struct Mandatory: Sendable, Hashable {
        package let rule: String
        package let countries: Set<CountryCode>
        package let region: String
        package let basis: String
    }

    /// Customers from these countries may be hosted in any of `regions` and may ask for one.
    package struct Choice: Sendable, Hashable {
        package let rule: String
        package let countries: Set<CountryCode>
        package let regions: [String]
        package let basis: String
    }

    /// Replaces plain nearest-distance placement for these countries.
    package struct Override: Sendable, Hashable {
        package let rule: String
        package let countries: Set<CountryCode>
        package let region: String
        package let reason: String
    }

    /// Countries the service may not host anyone from.
    package struct Blocked: Sendable, Hashable {
        package let rule: String
        package let countries: Set<CountryCode>
        package let reason: String
    }

    /// What to do when neither a declared country nor geolocation says where the customer is.
    package struct Unlocated: Sendable, Hashable {
        package enum Action: String, Sendable, Hashable, CaseIterable {
            case region, refuse
        }
        package let action: Action
        /// Set when `action` is `.region`.
        package let region: String?
        package let reason: String
    }

    package let mandatory: [Mandatory]
    package let choices: [Choice]
    package let overrides: [Override]
    package let blocked: [Blocked]
    package let unlocated: Unlocated

    /// What the policy says about one country, resolved once so placement never scans the rules.
    package enum Constraint: Sendable, Hashable {
        case mandatory(Mandatory)
        case choice(Choice)
        case blocked(Blocked)
        /// No rule: any region with room may host the customer.
        case unrestricted
    }

    package func constraint(for country: CountryCode) -> Constraint {
        if let rule = blocked.first(where: { $0.countries.contains(country) }) { return .blocked(rule) }
        if let rule = mandatory.first(where: { $0.countries.contains(country) }) { return .mandatory(rule) }
        if let rule = choices.first(where: { $0.countries.contains(country) }) { return .choice(rule) }
        return .unrestricted
    }

    package func override(for country: CountryCode) -> Override? {
        overrides.first { $0.countries.contains(country) }
    }
}
