/// The metadata map at the end of a MaxMind DB file.
package struct MaxMindMetadata: Sendable, Equatable {
    package let nodeCount: UInt32
    /// Bits per search-tree record: 24, 28 or 32.
    package let recordSize: Int
    /// 4 or 6: the widest address the tree holds.
    package let ipVersion: Int
    package let databaseType: String
    package let languages: [String]
    package let binaryFormatMajorVersion: Int
    package let binaryFormatMinorVersion: Int
    /// Seconds since the Unix epoch.
    package let buildEpoch: UInt64
    package let description: [String: String]

    /// The last second of year 9999: later build times are corrupt, and would overflow date conversions.
    static let latestBuildEpoch: UInt64 = 253_402_300_799

    init(_ value: MaxMindValue) throws(MaxMindError) {
        guard case .map = value else { throw MaxMindError.invalidMetadata("the metadata is not a map") }
        func unsigned(_ key: String) throws(MaxMindError) -> UInt64 {
            guard let field = value[key] else { throw MaxMindError.invalidMetadata("missing \(key)") }
            switch field {
            case .uint16, .uint32, .uint64: return field.integerValue!
            default: throw MaxMindError.invalidMetadata("\(key) is not an unsigned integer")
            }
        }
        let nodeCount = try unsigned("node_count")
        guard nodeCount <= UInt64(UInt32.max) else {
            throw MaxMindError.invalidMetadata("node_count \(nodeCount) exceeds 32 bits")
        }
        self.nodeCount = UInt32(nodeCount)
        let recordSize = try unsigned("record_size")
        guard [24, 28, 32].contains(recordSize) else {
            throw MaxMindError.invalidMetadata("record_size \(recordSize) is not supported; accepted: 24, 28, 32")
        }
        self.recordSize = Int(recordSize)
        let ipVersion = try unsigned("ip_version")
        guard ipVersion == 4 || ipVersion == 6 else {
            throw MaxMindError.invalidMetadata("ip_version \(ipVersion); accepted: 4, 6")
        }
        self.ipVersion = Int(ipVersion)
        let major = try unsigned("binary_format_major_version")
        guard major == 2 else {
            throw MaxMindError.invalidMetadata("binary_format_major_version \(major); this reader reads 2")
        }
        binaryFormatMajorVersion = 2
        binaryFormatMinorVersion = Int(try unsigned("binary_format_minor_version") & 0xFFFF)
        buildEpoch = try unsigned("build_epoch")
        guard buildEpoch <= Self.latestBuildEpoch else {
            throw MaxMindError.invalidMetadata("build_epoch \(buildEpoch) is after the year 9999")
        }
        guard case .string(let type) = value["database_type"] else {
            throw MaxMindError.invalidMetadata("database_type is missing or not a string")
        }
        databaseType = type
        var languages: [String] = []
        if let list = value["languages"] {
            guard case .array(let items) = list else { throw MaxMindError.invalidMetadata("languages is not an array") }
            for item in items {
                guard case .string(let language) = item else {
                    throw MaxMindError.invalidMetadata("languages holds a non-string")
                }
                languages.append(language)
            }
        }
        self.languages = languages
        var description: [String: String] = [:]
        if let map = value["description"] {
            guard case .map(let members) = map else { throw MaxMindError.invalidMetadata("description is not a map") }
            for (language, text) in members {
                guard case .string(let string) = text else {
                    throw MaxMindError.invalidMetadata("description holds a non-string")
                }
                description[language] = string
            }
        }
        self.description = description
    }
}
