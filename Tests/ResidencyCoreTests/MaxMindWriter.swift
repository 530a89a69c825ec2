@testable import ResidencyCore

/// Builds small MaxMind DB files for tests, following the format specification independently of the
/// reader: a binary trie of networks, a data section, the 16-byte separator, and the metadata.
struct MaxMindWriter {
    var recordSize = 24
    var ipVersion = 6
    var databaseType = "Residency-Test"
    var extraMetadata: [String: MaxMindValue] = [:]
    /// Inserted in order; a later network overwrites where it overlaps.
    var networks: [(bits: [Bool], value: MaxMindValue)] = []

    mutating func insert(_ cidr: String, _ value: MaxMindValue) throws {
        let parts = cidr.split(separator: "/")
        let address = try IPAddress(String(parts[0]))
        let length = Int(parts[1])!
        var bits = Self.bits(address)
        if address.isIPv4 && ipVersion == 6 { bits = Array(repeating: false, count: 96) + bits }
        let prefix = address.isIPv4 && ipVersion == 6 ? 96 + length : length
        networks.append((Array(bits.prefix(prefix)), value))
    }

    static func bits(_ address: IPAddress) -> [Bool] {
        address.bytes.flatMap { byte in (0..<8).map { byte >> (7 - $0) & 1 == 1 } }
    }

    final class Node {
        var children: [Child] = [.empty, .empty]
        var index = 0
    }

    enum Child {
        case empty
        case node(Node)
        case data(Int)
    }

    func build() -> [UInt8] {
        var data: [UInt8] = []
        var offsets: [Int] = []
        for network in networks {
            offsets.append(data.count)
            Self.encode(network.value, into: &data)
        }
        let root = Node()
        for (index, network) in networks.enumerated() {
            var node = root
            for (depth, bit) in network.bits.enumerated() {
                let side = bit ? 1 : 0
                if depth == network.bits.count - 1 {
                    node.children[side] = .data(offsets[index])
                } else {
                    switch node.children[side] {
                    case .node(let next): node = next
                    case .empty, .data:
                        // Splitting a data record: both halves keep the old data, then the new network overwrites its half.
                        let next = Node()
                        if case .data(let old) = node.children[side] { next.children = [.data(old), .data(old)] }
                        node.children[side] = .node(next)
                        node = next
                    }
                }
            }
        }
        var ordered: [Node] = []
        var queue = [root]
        while !queue.isEmpty {
            let node = queue.removeFirst()
            node.index = ordered.count
            ordered.append(node)
            for case .node(let child) in node.children { queue.append(child) }
        }
        let nodeCount = ordered.count
        var tree: [UInt8] = []
        for node in ordered {
            let records = node.children.map { child -> UInt32 in
                switch child {
                case .empty: return UInt32(nodeCount)
                case .node(let next): return UInt32(next.index)
                case .data(let offset): return UInt32(nodeCount + 16 + offset)
                }
            }
            tree += Self.encodeNode(records[0], records[1], recordSize: recordSize)
        }
        var metadata: [String: MaxMindValue] = [
            "node_count": .uint32(UInt32(nodeCount)), "record_size": .uint16(UInt16(recordSize)),
            "ip_version": .uint16(UInt16(ipVersion)), "database_type": .string(databaseType),
            "languages": .array([.string("en")]), "binary_format_major_version": .uint16(2),
            "binary_format_minor_version": .uint16(0), "build_epoch": .uint64(1_700_000_000),
            "description": .map(["en": .string("test database")]),
        ]
        for (key, value) in extraMetadata { metadata[key] = value }
        var file = tree + [UInt8](repeating: 0, count: 16) + data + MaxMindDatabase.metadataMarker
        Self.encode(.map(metadata), into: &file)
        return file
    }

    static func encodeNode(_ left: UInt32, _ right: UInt32, recordSize: Int) -> [UInt8] {
        func be(_ value: UInt32, _ count: Int) -> [UInt8] {
            (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * (count - 1 - $0))) }
        }
        switch recordSize {
        case 24: return be(left, 3) + be(right, 3)
        case 28:
            return be(left & 0xFFFFFF, 3) + [UInt8((left >> 24) << 4 | (right >> 24) & 0x0F)] + be(right & 0xFFFFFF, 3)
        default: return be(left, 4) + be(right, 4)
        }
    }

    static func control(type: Int, size: Int) -> [UInt8] {
        var sizeBits: Int
        var extra: [UInt8] = []
        switch size {
        case ..<29: sizeBits = size
        case ..<285:
            sizeBits = 29
            extra = [UInt8(size - 29)]
        case ..<65_821:
            sizeBits = 30
            let rest = size - 285
            extra = [UInt8(rest >> 8), UInt8(rest & 0xFF)]
        default:
            sizeBits = 31
            let rest = size - 65_821
            extra = [UInt8(rest >> 16), UInt8(rest >> 8 & 0xFF), UInt8(rest & 0xFF)]
        }
        if type <= 7 { return [UInt8(type << 5 | sizeBits)] + extra }
        return [UInt8(sizeBits), UInt8(type - 7)] + extra
    }

    static func minimal(_ value: UInt64) -> [UInt8] {
        var bytes: [UInt8] = []
        var rest = value
        while rest > 0 {
            bytes.insert(UInt8(rest & 0xFF), at: 0)
            rest >>= 8
        }
        return bytes
    }

    static func encode(_ value: MaxMindValue, into out: inout [UInt8]) {
        switch value {
        case .string(let string):
            let bytes = Array(string.utf8)
            out += control(type: 2, size: bytes.count) + bytes
        case .double(let double):
            out +=
                control(type: 3, size: 8)
                + (0..<8).map { UInt8(truncatingIfNeeded: double.bitPattern >> (56 - 8 * $0)) }
        case .bytes(let bytes): out += control(type: 4, size: bytes.count) + bytes
        case .uint16(let v): let b = minimal(UInt64(v)); out += control(type: 5, size: b.count) + b
        case .uint32(let v): let b = minimal(UInt64(v)); out += control(type: 6, size: b.count) + b
        case .map(let members):
            out += control(type: 7, size: members.count)
            for key in members.keys.sorted() {
                encode(.string(key), into: &out)
                encode(members[key]!, into: &out)
            }
        case .int32(let v):
            let b =
                v < 0
                ? (0..<4).map { UInt8(truncatingIfNeeded: UInt32(bitPattern: v) >> (24 - 8 * $0)) } : minimal(UInt64(v))
            out += control(type: 8, size: b.count) + b
        case .uint64(let v): let b = minimal(v); out += control(type: 9, size: b.count) + b
        case .uint128(let high, let low):
            let b =
                high == 0
                ? minimal(low) : minimal(high) + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - 8 * $0)) }
            out += control(type: 10, size: b.count) + b
        case .array(let elements):
            out += control(type: 11, size: elements.count)
            for element in elements { encode(element, into: &out) }
        case .bool(let v): out += control(type: 14, size: v ? 1 : 0)
        case .float(let v):
            out += control(type: 15, size: 4) + (0..<4).map { UInt8(truncatingIfNeeded: v.bitPattern >> (24 - 8 * $0)) }
        }
    }
}
