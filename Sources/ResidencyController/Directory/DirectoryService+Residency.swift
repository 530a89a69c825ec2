import ResidencyCore
import ResidencyStore

/// "May this tenant's data of this class be stored or processed here?" — the one check every system that
/// touches data asks. Refusals are ledger entries.
extension DirectoryService {
    package struct ResidencyCheck: Sendable {
        package var tenant: String
        package var dataClass: DataClassPolicy.DataClass
        /// A country code or a site id.
        package var location: String
        package var purpose: String?

        package init(tenant: String, dataClass: DataClassPolicy.DataClass, location: String, purpose: String? = nil) {
            self.tenant = tenant
            self.dataClass = dataClass
            self.location = location
            self.purpose = purpose
        }
    }

    package struct ResidencyCheckResult: Sendable {
        package let check: ResidencyCheck
        package let region: String
        package let country: CountryCode
        package let verdict: ResidencyVerdict
        package let policyVersion: String
        /// The ledger index of the refusal's record.
        package let ledgerIndex: Int?

        package var jsonValue: JSONValue {
            .object([
                ("tenant", .string(check.tenant)), ("data_class", .string(check.dataClass.rawValue)),
                ("location", .string(check.location)),
                ("country", .string(country.rawValue)), ("region", .string(region)),
                ("allowed", .bool(verdict.allowed)),
                ("rule", .string(verdict.rule)), ("message", .string(verdict.message)),
                ("purpose", .optional(check.purpose)),
                ("policy_version", .string(policyVersion)), ("ledger_index", ledgerIndex.map { .integer($0) } ?? .null),
            ])
        }
    }

    /// The country a location names: a country code, or a site id of the catalog.
    package func country(ofLocation location: String) throws -> CountryCode {
        if let code = CountryCode(location), code.rawValue == location, policies.catalog.countries.contains(code) {
            return code
        }
        if let (_, site) = policies.catalog.site(id: location) { return site.country }
        throw ControllerError.invalidField(
            field: "location",
            message:
                "\"\(location)\" is neither an ISO 3166-1 alpha-2 country code nor a site id (e.g. eu-de-frankfurt)")
    }

    /// Answers each check, recording every refusal in the ledger in one transaction.
    package func checkResidency(_ checks: [ResidencyCheck], by caller: String) throws -> [ResidencyCheckResult] {
        let countries = try checks.map { try country(ofLocation: $0.location) }
        let version = policies.version.hex
        let results = try context.commit { transaction -> [ResidencyCheckResult] in
            let database = transaction.database
            let tenants = TenantRepository(database)
            var results: [ResidencyCheckResult] = []
            for (check, country) in zip(checks, countries) {
                guard let tenant = try tenants.tenant(id: check.tenant),
                    let region = policies.catalog.region(id: tenant.region)
                else {
                    throw ControllerError.notFound(kind: "tenant", id: check.tenant)
                }
                let verdict = policies.dataClasses.check(check.dataClass, region: region, country: country)
                var index: Int?
                if !verdict.allowed {
                    index = try transaction.append(
                        .residencyCheckRefused, time: clock.now(), actor: caller,
                        tenant: tenant.id, region: region.id,
                        body: .object([
                            ("data_class", .string(check.dataClass.rawValue)), ("location", .string(check.location)),
                            ("country", .string(country.rawValue)), ("rule", .string(verdict.rule)),
                            ("purpose", .optional(check.purpose)),
                            ("policy_version", .string(version)),
                        ]))
                }
                results.append(
                    ResidencyCheckResult(
                        check: check, region: region.id, country: country, verdict: verdict, policyVersion: version,
                        ledgerIndex: index))
            }
            return results
        }
        return results
    }
}
