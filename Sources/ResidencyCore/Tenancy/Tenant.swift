/// A directory entry: who the tenant is and where its data lives.
public struct Tenant: Sendable, Hashable {
    public let id: String
    public var name: String
    public var plan: Plan
    /// The customer's country as placement decided it (declared or geolocated); nil when unlocated.
    public var country: CountryCode?
    public var region: String
    public var site: String
    public var status: TenantStatus
    /// Milliseconds since the Unix epoch.
    public let createdAt: Int64
    /// The policy set version the placement used.
    public let policyVersion: String

    public init(
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
