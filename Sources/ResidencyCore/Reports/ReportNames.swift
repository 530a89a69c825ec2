/// What a person reads beside the ids and codes of a report: looked up once per distinct tenant, country
/// and transfer rule when the report is built, never per line, so the lines stay what the ledger says.
package struct ReportNames: Sendable {
    /// Tenant names by id, for tenants that still exist; a deleted tenant is shown by its id alone.
    package var tenants: [String: String]
    /// Country names by ISO code, from the policy set's country table.
    package var countries: [String: String]
    /// The mechanism of each transfer rule the lines name, keyed by region and rule, from the policy set.
    package var bases: [BasisKey: TransferMechanism]

    package struct BasisKey: Sendable, Hashable {
        package let region: String
        package let rule: String
        package init(region: String, rule: String) {
            self.region = region
            self.rule = rule
        }
    }

    package init(
        tenants: [String: String] = [:], countries: [String: String] = [:],
        bases: [BasisKey: TransferMechanism] = [:]
    ) {
        self.tenants = tenants
        self.countries = countries
        self.bases = bases
    }

    package func basis(region: String, rule: String) -> TransferMechanism? {
        bases[BasisKey(region: region, rule: rule)]
    }
}

