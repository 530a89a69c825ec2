/// `MigrationEligibility.evaluate` for many tenants at once (a bulk plan: a region's 10,000 tenants), worked out
/// once per kind of tenant rather than once per tenant.
///
/// The answer depends only on the tenant's home (region and site), status and country, the target, and — through
/// the capacity check alone — whether the target is full. Those are the key. The two refusals whose message names
/// the tenant (deleted, already there) are never kept, so every answer given is the one `evaluate` gives for that
/// tenant (`MigrationEligibilityMemoTests`).
package struct MigrationEligibilityMemo: Sendable {
    package let eligibility: MigrationEligibility
    private var answers: [Key: Result<MigrationEligibility.Target, MigrationEligibility.Refusal>] = [:]

    private struct Key: Hashable {
        let region: String
        let site: String
        let status: TenantStatus
        let country: CountryCode?
        let toRegion: String
        let toSite: String?
        let full: Bool
    }

    package init(_ eligibility: MigrationEligibility) { self.eligibility = eligibility }

    package mutating func evaluate(
        _ tenant: MigrationEligibility.Subject, toRegion: String, toSite: String?, occupancy: [String: Int]
    ) -> Result<MigrationEligibility.Target, MigrationEligibility.Refusal> {
        guard let target = eligibility.policies.catalog.region(id: toRegion) else {
            return eligibility.evaluate(tenant, toRegion: toRegion, toSite: toSite, occupancy: occupancy)
        }
        // Exactly the capacity test `evaluate` makes.
        let full = target.id != tenant.region && occupancy[target.id, default: 0] >= target.capacity
        let key = Key(
            region: tenant.region, site: tenant.site, status: tenant.status, country: tenant.country,
            toRegion: toRegion, toSite: toSite, full: full)
        if let known = answers[key] { return known }
        let answer = eligibility.evaluate(tenant, toRegion: toRegion, toSite: toSite, occupancy: occupancy)
        if case .failure(let refusal) = answer, Self.namesTheTenant.contains(refusal.code) { return answer }
        answers[key] = answer
        return answer
    }

    /// Refusals whose message names the tenant: worked out afresh for each.
    static let namesTheTenant: Set<String> = ["tenant_deleted", "same_location"]
}
