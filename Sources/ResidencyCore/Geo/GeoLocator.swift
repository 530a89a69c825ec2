/// Answers "where is this address?" from a MaxMind-format database, refusing to guess for addresses that
/// carry no location (private, loopback, documentation…).
public struct GeoLocator: Sendable {
    public enum Answer: Sendable, Hashable {
        case located(GeoRecord)
        /// A public address the database has no network for.
        case notInDatabase
        /// A special-purpose address: no database could place it.
        case notLocatable(SpecialPurposeRange)
    }

    public let database: MaxMindDatabase
    /// Where the database came from, for messages and `residency version`.
    public let source: String

    public init(database: MaxMindDatabase, source: String) {
        self.database = database
        self.source = source
    }

    public init(path: String) throws(MaxMindError) {
        self.init(database: try MaxMindDatabase(path: path), source: path)
    }

    public static let defaultFileName = "dbip-country-lite.mmdb"

    public func locate(_ address: IPAddress) throws(MaxMindError) -> Answer {
        let address = address.unwrappingEmbeddedIPv4
        if let range = SpecialPurposeRange.containing(address) { return .notLocatable(range) }
        guard let record = try database.geoRecord(for: address) else { return .notInDatabase }
        return .located(record)
    }
}
