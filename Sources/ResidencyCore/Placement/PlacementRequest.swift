/// What the signup flow knows about a new customer; every field is optional.
package struct PlacementRequest: Sendable, Hashable {
    package var ip: IPAddress?
    package var declaredCountry: CountryCode?
    package var requestedRegion: String?
    package var plan: Plan?

    package init(
        ip: IPAddress? = nil, declaredCountry: CountryCode? = nil, requestedRegion: String? = nil, plan: Plan? = nil
    ) {
        self.ip = ip
        self.declaredCountry = declaredCountry
        self.requestedRegion = requestedRegion
        self.plan = plan
    }
}
