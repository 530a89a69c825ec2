import Testing

@testable import ResidencyCore

/// The memo a bulk plan evaluates through gives, for every tenant, exactly the answer `MigrationEligibility`
/// gives for it — every home site, status, country (none too), target and target site, full or not — asked in
/// an order that reuses kept answers for other tenants.
@Suite struct MigrationEligibilityMemoTests {
    @Test func everyAnswerIsTheOneEvaluateGives() throws {
        let policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let eligibility = MigrationEligibility(policies: policies)
        var memo = MigrationEligibilityMemo(eligibility)
        let countries: [CountryCode?] =
            [nil] + ["FR", "GB", "US", "AE", "IN", "CN", "RU", "ZA", "SG"].map { CountryCode($0) }
        let targets = policies.catalog.regionIDs + ["atlantis"]
        var asked = 0
        var reused = 0
        var index = 0
        for round in 0..<2 {
            for region in policies.catalog.regions {
                for site in region.sites {
                    for status in TenantStatus.allCases {
                        for country in countries {
                            for target in targets {
                                for toSite in [nil] + (policies.catalog.region(id: target)?.sites.map(\.id) ?? []) {
                                    for full in [false, true] {
                                        index += 1
                                        let tenant = Tenant(
                                            id: "tn_\(round)_\(index)", name: "T", plan: .paid, country: country,
                                            region: region.id, site: site.id, status: status, createdAt: 0,
                                            policyVersion: "v")
                                        let capacity = policies.catalog.region(id: target)?.capacity ?? 0
                                        let occupancy = [target: full ? capacity : 0]
                                        let direct = eligibility.evaluate(
                                            tenant: tenant, toRegion: target, toSite: toSite, occupancy: occupancy)
                                        let memoised = memo.evaluate(
                                            .init(tenant), toRegion: target, toSite: toSite, occupancy: occupancy)
                                        asked += 1
                                        if round == 1 { reused += 1 }
                                        #expect(memoised == direct, "\(tenant.id) \(region.id)/\(site.id) → \(target)")
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(asked > 1_000 && reused == asked / 2)
    }
}
