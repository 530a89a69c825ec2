/// Answers "where is this address?" from a MaxMind-format database, refusing to guess for addresses that
/// carry no location (private, loopback, documentation…).
package struct GeoLocator: Sendable {
    package enum Answer: Sendable, Hashable {
        case located(GeoRecord)
        /// A public address the database has no network for.
        case notInDatabase
        /// A special-purpose address: no database could place it.
        case notLocatable(SpecialPurposeRange)
    }

    package let database: MaxMindDatabase
    /// Where the database came from, for messages and `residency version`.
    package let source: String

    package init(database: MaxMindDatabase, source: String) {
        self.database = database
        self.source = source
    }

    package init(path: String) throws(MaxMindError) {
        self.init(database: try MaxMindDatabase(path: path), source: path)
    }

    package static let defaultFileName = "dbip-country-lite.mmdb"

    package func locate(_ address: IPAddress) throws(MaxMindError) -> Answer {
        let address = address.unwrappingEmbeddedIPv4
        if let range = SpecialPurposeRange.containing(address) { return .notLocatable(range) }
        guard let record = try database.geoRecord(for: address) else { return .notInDatabase }
        return .located(record)
    }

    /// `locate`, reading each data record once: a country database holds a few hundred distinct records for
    /// millions of networks, so a bulk lookup need not decode the same country over and over.
    package func locate(_ address: IPAddress, cache: inout RecordCache) throws(MaxMindError) -> Answer {
        let address = address.unwrappingEmbeddedIPv4
        if let range = SpecialPurposeRange.containing(address) { return .notLocatable(range) }
        guard let match = try database.match(address) else { return .notInDatabase }
        if let known = cache.records[match.dataOffset] {
            return .located(
                GeoRecord(country: known.country, coordinate: known.coordinate, prefixLength: match.prefixLength))
        }
        let record = try database.geoRecord(at: match)
        if cache.records.count < RecordCache.capacity { cache.records[match.dataOffset] = record }
        return .located(record)
    }

    /// Records already read, by their offset in the data section, for `locate(_:cache:)`.
    package struct RecordCache: Sendable {
        /// City databases have millions of records: past this many, the rest are read each time.
        static let capacity = 1 << 16
        var records: [Int: GeoRecord] = [:]

        package init() {}
    }
}
