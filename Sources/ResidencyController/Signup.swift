import ResidencyCore

/// A new customer as the signup flow describes it.
package struct Signup: Sendable, Hashable {
    package var name: String
    package var plan: Plan
    package var declaredCountry: CountryCode?
    package var ip: IPAddress?
    package var requestedRegion: String?

    package init(
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
package struct SignupResult: Sendable {
    package let tenant: Tenant
    package let placement: JSONValue
    package let replayed: Bool
}

/// A retry-safety key: a caller's key within its own scope (the token name), and the hash of the request
/// body it was first used with.
package struct IdempotencyKey: Sendable, Hashable {
    package let scope: String
    package let key: String
    package let requestHash: [UInt8]

    package init(scope: String, key: String, requestHash: [UInt8]) {
        self.scope = scope
        self.key = key
        self.requestHash = requestHash
    }
}
