/// A country of ISO 3166-1 with the point placement measures distance from when a database gives no
/// coordinates of its own.
public struct Country: Sendable, Hashable {
    public let code: CountryCode
    public let alpha3: String
    public let numeric: String
    public let name: String
    /// The capital or, where its coordinates are not plausible, the centre; absent for the few
    /// territories with no meaningful point (AQ, BV, UM).
    public let point: Coordinate?
    public let continent: String
    public let subregion: String
}
