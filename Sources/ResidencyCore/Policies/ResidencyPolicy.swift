/// Where customers from each country may be hosted (`Policies/residency.json`).
public struct ResidencyPolicy: Sendable {
    /// Customers from these countries must be hosted in `region`.
    public struct Mandatory: Sendable, Hashable {
        public let rule: String
        public let countries: Set<CountryCode>
        public let region: String
        public let basis: String
    }

    /// Customers from these countries may be hosted in any of `regions` and may ask for one.
    public struct Choice: Sendable, Hashable {
        public let rule: String
        public let countries: Set<CountryCode>
        public let regions: [String]
        public let basis: String
    }

    /// Replaces plain nearest-distance placement for these countries.
    public struct Override: Sendable, Hashable {
        public let rule: String
        public let countries: Set<CountryCode>
        public let region: String
        public let reason: String
    }

    /// Countries the service may not host anyone from.
    public struct Blocked: Sendable, Hashable {
        public let rule: String
        public let countries: Set<CountryCode>
        public let reason: String
    }

    /// What to do when neither a declared country nor geolocation says where the customer is.
    public struct Unlocated: Sendable, Hashable {
        public enum Action: String, Sendable, Hashable, CaseIterable {
            case region, refuse
        }
        public let action: Action
        /// Set when `action` is `.region`.
        public let region: String?
        public let reason: String
    }

    public let mandatory: [Mandatory]
    public let choices: [Choice]
    public let overrides: [Override]
    public let blocked: [Blocked]
    public let unlocated: Unlocated

    /// What the policy says about one country, resolved once so placement never scans the rules.
    public enum Constraint: Sendable, Hashable {
        case mandatory(Mandatory)
        case choice(Choice)
        case blocked(Blocked)
        /// No rule: any region with room may host the customer.
        case unrestricted
    }

    public func constraint(for country: CountryCode) -> Constraint {
        if let rule = blocked.first(where: { $0.countries.contains(country) }) { return .blocked(rule) }
        if let rule = mandatory.first(where: { $0.countries.contains(country) }) { return .mandatory(rule) }
        if let rule = choices.first(where: { $0.countries.contains(country) }) { return .choice(rule) }
        return .unrestricted
    }

    public func override(for country: CountryCode) -> Override? {
        overrides.first { $0.countries.contains(country) }
    }
}
