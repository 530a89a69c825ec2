/// A data-centre metro where a region's tenants are hosted.
package struct Site: Sendable, Hashable {
    package enum Provider: String, Sendable, Hashable, CaseIterable {
        case aws, oracle, microsoft
    }

    package let id: String
    package let country: CountryCode
    package let city: String
    package let location: Coordinate
    package let provider: Provider
}
