/// What a person reads beside the ids and codes of a report: looked up once per distinct tenant, country
/// and transfer rule when the report is built, never per line, so the lines stay what the ledger says.
public struct ReportNames: Sendable {
    /// Tenant names by id, for tenants that still exist; a deleted tenant is shown by its id alone.
    public var tenants: [String: String]
    /// Country names by ISO code, from the policy set's country table.
    public var countries: [String: String]
    /// The mechanism of each transfer rule the lines name, keyed by region and rule, from the policy set.
    public var bases: [BasisKey: TransferMechanism]

    public struct BasisKey: Sendable, Hashable {
        public let region: String
        public let rule: String
        public init(region: String, rule: String) {
            self.region = region
            self.rule = rule
        }
    }

    public init(
        tenants: [String: String] = [:], countries: [String: String] = [:],
        bases: [BasisKey: TransferMechanism] = [:]
    ) {
        self.tenants = tenants
        self.countries = countries
        self.bases = bases
    }

    public func basis(region: String, rule: String) -> TransferMechanism? {
        bases[BasisKey(region: region, rule: rule)]
    }
}

