import ResidencyCore

/// A new customer as the signup flow describes it.
public struct Signup: Sendable, Hashable {
    public var name: String
    public var plan: Plan
    public var declaredCountry: CountryCode?
    public var ip: IPAddress?
    public var requestedRegion: String?

    public init(
        name: String, plan: Plan, declaredCountry: CountryCode? = nil, ip: IPAddress? = nil,
        requestedRegion: String? = nil
    ) {
        self.name = name
        self.plan = plan
        self.declaredCountry = declaredCountry
        self.ip = ip
        self.requestedRegion = requestedRegion
    }

    var placementRequest: PlacementRequest {
        PlacementRequest(ip: ip, declaredCountry: declaredCountry, requestedRegion: requestedRegion, plan: plan)
    }
}

/// A signup's outcome: the tenant, the decision that placed it, and whether this answer replays an
/// earlier request with the same idempotency key.
public struct SignupResult: Sendable {
    public let tenant: Tenant
    public let placement: JSONValue
    public let replayed: Bool
}

/// A retry-safety key: a caller's key within its own scope (the token name), and the hash of the request
/// body it was first used with.
public struct IdempotencyKey: Sendable, Hashable {
    public let scope: String
    public let key: String
    public let requestHash: [UInt8]

    public init(scope: String, key: String, requestHash: [UInt8]) {
        self.scope = scope
        self.key = key
        self.requestHash = requestHash
    }
}
