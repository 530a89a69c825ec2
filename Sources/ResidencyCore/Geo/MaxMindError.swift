/// Why a MaxMind DB file or lookup was refused. A corrupt or hostile file always lands here, never in a
/// crash or an out-of-bounds read.
package enum MaxMindError: Error, Sendable, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case metadataNotFound
    case invalidMetadata(String)
    case invalidSearchTree(String)
    /// Bad bytes in the data section, at an offset from its start.
    case invalidData(offset: Int, reason: String)
    case ipv6LookupInIPv4Database(String)

    package var description: String {
        switch self {
        case .cannotOpen(let path, let reason): return "cannot open MaxMind DB \(path): \(reason)"
        case .metadataNotFound:
            return "not a MaxMind DB file: no metadata marker (\\xAB\\xCD\\xEFMaxMind.com) in its last 128 KiB"
        case .invalidMetadata(let reason): return "invalid MaxMind DB metadata: \(reason)"
        case .invalidSearchTree(let reason): return "invalid MaxMind DB search tree: \(reason)"
        case .invalidData(let offset, let reason): return "invalid MaxMind DB data at offset \(offset): \(reason)"
        case .ipv6LookupInIPv4Database(let address):
            return "cannot look up IPv6 address \(address) in an IPv4-only database"
        }
    }
}
