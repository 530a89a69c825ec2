/// A directory entry: who the tenant is and where its data lives.
package struct Tenant: Sendable, Hashable {
    package let id: String
    package var name: String
    package var plan: Plan
    /// The customer's country as placement decided it (declared or geolocated); nil when unlocated.
    package var country: CountryCode?
    package var region: String
    package var site: String
    package var status: TenantStatus
    /// Milliseconds since the Unix epoch.
    package let createdAt: Int64
    /// The policy set version the placement used.
    package let policyVersion: String

    package init(
        id: String, name: String, plan: Plan, country: CountryCode?, region: String, site: String,
        status: TenantStatus, createdAt: Int64, policyVersion: String
    ) {
        self.id = id
        self.name = name
        self.plan = plan
        self.country = country
        self.region = region
        self.site = site
        self.status = status
        self.createdAt = createdAt
        self.policyVersion = policyVersion
    }
}
