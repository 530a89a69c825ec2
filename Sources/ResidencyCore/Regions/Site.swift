/// A data-centre metro where a region's tenants are hosted.
public struct Site: Sendable, Hashable {
    public enum Provider: String, Sendable, Hashable, CaseIterable {
        case aws, oracle, microsoft
    }

    public let id: String
    public let country: CountryCode
    public let city: String
    public let location: Coordinate
    public let provider: Provider
}
