/// Whether policy lets a tenant move to a region (and site), and on what legal basis — decided from the
/// policy set alone, so the plan, the request, the approval and the tests all reach the same answer.
package struct MigrationEligibility: Sendable {
    package let policies: PolicySet

    package init(policies: PolicySet) { self.policies = policies }

    package struct Target: Sendable, Hashable {
        package let region: Region
        package let site: Site
        package let transfer: TransferBasis
    }

    /// A refusal: a stable code, the rule of the policy that refuses, and a sentence for people.
    package struct Refusal: Error, Sendable, Hashable {
        package let code: String
        package let rule: String?
        package let message: String
    }

    /// What the answer reads of a tenant: its id (for messages), home, status and country. A bulk plan reads just
    /// these of a region's tenants, off an index.
    package struct Subject: Sendable, Hashable {
        package let id: String
        package let region: String
        package let site: String
        package let status: TenantStatus
        package let country: CountryCode?

        package init(id: String, region: String, site: String, status: TenantStatus, country: CountryCode?) {
            self.id = id
            self.region = region
            self.site = site
            self.status = status
            self.country = country
        }

        package init(_ tenant: Tenant) {
            self.init(
                id: tenant.id, region: tenant.region, site: tenant.site, status: tenant.status, country: tenant.country)
        }
    }

    /// Resolves `toRegion` (and `toSite`, or the target region's site nearest the tenant's current site).
    /// Unknown ids are input errors (thrown as `invalidTarget`), everything else a refusal with its rule.
    package func evaluate(
        tenant: Tenant, toRegion: String, toSite: String?, occupancy: [String: Int]
    ) -> Result<Target, Refusal> {
        evaluate(Subject(tenant), toRegion: toRegion, toSite: toSite, occupancy: occupancy)
    }

    package func evaluate(
        _ tenant: Subject, toRegion: String, toSite: String?, occupancy: [String: Int]
    ) -> Result<Target, Refusal> {
        guard let region = policies.catalog.region(id: toRegion) else {
            return .failure(
                Refusal(
                    code: "unknown_region", rule: nil,
                    message:
                        "unknown region \"\(toRegion)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
                ))
        }
        guard let source = policies.catalog.region(id: tenant.region),
            let sourceSite = source.sites.first(where: { $0.id == tenant.site })
        else {
            return .failure(
                Refusal(
                    code: "unknown_source", rule: nil,
                    message: "the tenant's home \(tenant.region)/\(tenant.site) is not in the region catalog"))
        }
        let site: Site
        if let toSite {
            guard let named = region.sites.first(where: { $0.id == toSite }) else {
                return .failure(
                    Refusal(
                        code: "unknown_site", rule: nil,
                        message:
                            "region \(region.id) has no site \"\(toSite)\"; accepted: \(region.sites.map(\.id).joined(separator: ", "))"
                    ))
            }
            site = named
        } else {
            site = region.nearestSite(to: sourceSite.location).site
        }
        if tenant.status == .deleted {
            return .failure(Refusal(code: "tenant_deleted", rule: nil, message: "tenant \(tenant.id) is deleted"))
        }
        if region.id == tenant.region && site.id == tenant.site {
            return .failure(
                Refusal(
                    code: "same_location", rule: nil,
                    message: "tenant \(tenant.id) is already hosted at \(region.id)/\(site.id)"))
        }
        if region.status != .active {
            return .failure(
                Refusal(
                    code: "target_not_active", rule: "region \(region.id): status",
                    message: "region \(region.id) is \(region.status.rawValue); only an active region takes tenants"))
        }
        if region.id != tenant.region, occupancy[region.id, default: 0] >= region.capacity {
            return .failure(
                Refusal(
                    code: "target_full", rule: "region \(region.id): capacity",
                    message: "region \(region.id) is at its capacity of \(region.capacity) tenants"))
        }
        if let country = tenant.country {
            switch policies.residency.constraint(for: country) {
            case .mandatory(let rule) where rule.region != region.id:
                return .failure(
                    Refusal(
                        code: "target_not_permitted", rule: rule.rule,
                        message:
                            "customers from \(country.rawValue) must be hosted in \(rule.region) (\(rule.basis)); \(region.id) is not permitted"
                    ))
            case .choice(let rule) where !rule.regions.contains(region.id):
                return .failure(
                    Refusal(
                        code: "target_not_permitted", rule: rule.rule,
                        message:
                            "customers from \(country.rawValue) may be hosted only in \(rule.regions.joined(separator: ", ")); \(region.id) is not permitted"
                    ))
            case .blocked(let rule):
                return .failure(
                    Refusal(code: "country_blocked", rule: rule.rule, message: rule.reason))
            default: break
            }
        }
        let verdict = policies.dataClasses.check(.customerData, region: region, country: site.country)
        if !verdict.allowed {
            return .failure(Refusal(code: "residency_refused", rule: verdict.rule, message: verdict.message))
        }
        let transfer = policies.transfers.basis(for: source, destination: site.country)
        if case .forbidden(let reason) = transfer.mechanism {
            return .failure(
                Refusal(
                    code: "transfer_forbidden", rule: transfer.rule,
                    message: "moving data hosted in \(source.id) to \(site.country.rawValue) is forbidden: \(reason)"))
        }
        return .success(Target(region: region, site: site, transfer: transfer))
    }
}
