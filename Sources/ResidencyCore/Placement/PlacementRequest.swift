/// What the signup flow knows about a new customer; every field is optional.
public struct PlacementRequest: Sendable, Hashable {
    public var ip: IPAddress?
    public var declaredCountry: CountryCode?
    public var requestedRegion: String?
    public var plan: Plan?

    public init(
        ip: IPAddress? = nil, declaredCountry: CountryCode? = nil, requestedRegion: String? = nil, plan: Plan? = nil
    ) {
        self.ip = ip
        self.declaredCountry = declaredCountry
        self.requestedRegion = requestedRegion
        self.plan = plan
    }
}
