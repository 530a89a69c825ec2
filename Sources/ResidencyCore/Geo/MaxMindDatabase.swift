#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A MaxMind DB file (format 2.0): GeoLite2/GeoIP2 Country and City, DB-IP, IPinfo and others.
///
/// The file is memory-mapped once; lookups walk the search tree with plain integer arithmetic (no
/// allocation) and decode only the fields asked for. Opening checks the metadata and that the tree and
/// data section fit the file; every later read is bounds-checked, so a corrupt file gives an error.
///
/// `@unchecked Sendable`: after `init` nothing is mutated — the mapping is read-only (`PROT_READ`) and
/// unmapped only in `deinit`, when no other reference can exist.
package final class MaxMindDatabase: @unchecked Sendable {
    package let metadata: MaxMindMetadata
    /// The whole file.
    private let file: UnsafeRawBufferPointer
    private let unmapLength: Int?
    private let nodeCount: UInt32
    private let recordSize: Int
    private let nodeByteSize: Int
    /// The data section, from the end of the 16-byte separator to the metadata marker.
    let data: MaxMindDecoder
    /// Where IPv4 lookups start in an IPv6 tree (the node reached by 96 zero bits), and at what depth.
    private let ipv4Start: UInt32
    private let ipv4StartDepth: Int

    static let metadataMarker: [UInt8] = [0xAB, 0xCD, 0xEF] + Array("MaxMind.com".utf8)

    /// Maps the file at `path`.
    package convenience init(path: String) throws(MaxMindError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw MaxMindError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw MaxMindError.cannotOpen(path: path, reason: String(cString: strerror(errno)))
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            throw MaxMindError.cannotOpen(path: path, reason: "not a regular file")
        }
        let length = Int(status.st_size)
        guard length > 0 else { throw MaxMindError.metadataNotFound }
        guard let address = mmap(nil, length, PROT_READ, MAP_PRIVATE, descriptor, 0), address != MAP_FAILED else {
            throw MaxMindError.cannotOpen(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
        }
        let buffer = UnsafeRawBufferPointer(start: address, count: length)
        do {
            try self.init(file: buffer, unmapLength: length)
        } catch {
            munmap(address, length)
            throw error
        }
    }

    /// Reads a database held in memory (tests build small ones); the bytes are copied.
    package convenience init(bytes: [UInt8]) throws(MaxMindError) {
        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 8)
        copy.copyBytes(from: bytes)
        do {
            try self.init(file: UnsafeRawBufferPointer(start: copy.baseAddress, count: bytes.count), unmapLength: nil)
        } catch {
            copy.deallocate()
            throw error
        }
    }

    private init(file: UnsafeRawBufferPointer, unmapLength: Int?) throws(MaxMindError) {
        self.file = file
        self.unmapLength = unmapLength
        guard let markerStart = Self.lastMarker(in: file) else { throw MaxMindError.metadataNotFound }
        let metadataStart = markerStart + Self.metadataMarker.count
        let metadataDecoder = MaxMindDecoder(base: file.baseAddress! + metadataStart, count: file.count - metadataStart)
        let metadataValue: MaxMindValue
        do {
            metadataValue = try metadataDecoder.decode(at: 0).value
        } catch {
            throw MaxMindError.invalidMetadata(error.description)
        }
        metadata = try MaxMindMetadata(metadataValue)
        nodeCount = metadata.nodeCount
        recordSize = metadata.recordSize
        nodeByteSize = recordSize / 4
        let (treeSize, overflow) = Int(nodeCount).multipliedReportingOverflow(by: nodeByteSize)
        guard !overflow, treeSize <= markerStart - 16 else {
            throw MaxMindError.invalidSearchTree(
                "node_count \(nodeCount) × \(nodeByteSize) bytes does not fit before the metadata at \(markerStart)")
        }
        guard nodeCount > 0 else { throw MaxMindError.invalidSearchTree("node_count is 0") }
        data = MaxMindDecoder(base: file.baseAddress! + treeSize + 16, count: markerStart - treeSize - 16)

        var node: UInt32 = 0
        var depth = 0
        if metadata.ipVersion == 6 {
            while depth < 96 && node < nodeCount {
                node = Self.record(file.baseAddress!, node: node, bit: 0, recordSize: recordSize)
                depth += 1
            }
        }
        ipv4Start = node
        ipv4StartDepth = depth
    }

    deinit {
        if let unmapLength {
            munmap(UnsafeMutableRawPointer(mutating: file.baseAddress!), unmapLength)
        } else {
            file.baseAddress.map { UnsafeMutableRawPointer(mutating: $0).deallocate() }
        }
    }

    private static func lastMarker(in file: UnsafeRawBufferPointer) -> Int? {
        let marker = metadataMarker
        guard file.count >= marker.count else { return nil }
        let lowest = max(0, file.count - 128 * 1024)
        var start = file.count - marker.count
        while start >= lowest {
            if file[start] == marker[0], memcmp(file.baseAddress! + start, marker, marker.count) == 0 { return start }
            start -= 1
        }
        return nil
    }

    /// The left (`bit` 0) or right record of `node`. The caller guarantees `node < nodeCount`, and `init`
    /// checked that every node lies inside the file.
    @inline(__always)
    private static func record(_ tree: UnsafeRawPointer, node: UInt32, bit: Int, recordSize: Int) -> UInt32 {
        func byte(_ offset: Int) -> UInt32 { UInt32(tree.load(fromByteOffset: offset, as: UInt8.self)) }
        switch recordSize {
        case 24:
            let offset = Int(node) * 6 + bit * 3
            return byte(offset) << 16 | byte(offset + 1) << 8 | byte(offset + 2)
        case 28:
            let offset = Int(node) * 7
            if bit == 0 {
                return (byte(offset + 3) & 0xF0) << 20 | byte(offset) << 16 | byte(offset + 1) << 8 | byte(offset + 2)
            }
            return (byte(offset + 3) & 0x0F) << 24 | byte(offset + 4) << 16 | byte(offset + 5) << 8 | byte(offset + 6)
        default:
            let offset = Int(node) * 8 + bit * 4
            return byte(offset) << 24 | byte(offset + 1) << 16 | byte(offset + 2) << 8 | byte(offset + 3)
        }
    }

    /// Where a lookup landed: the data record's offset in the data section and the network's prefix length.
    package struct Match: Sendable, Hashable {
        package let dataOffset: Int
        package let prefixLength: Int
    }

    /// Walks the search tree for `address`; nil when the address is in no network of the database.
    package func match(_ address: IPAddress) throws(MaxMindError) -> Match? {
        let tree = file.baseAddress!
        var node: UInt32
        var depth: Int
        let bits: Int
        var high: UInt64
        var low: UInt64 = 0
        switch address {
        case .v4(let value):
            node = ipv4Start
            depth = ipv4StartDepth
            bits = ipv4StartDepth + 32
            high = UInt64(value) << 32
        case .v6(let h, let l):
            if metadata.ipVersion == 4 {
                guard case .v4(let value) = address.unwrappingIPv4Mapped else {
                    throw MaxMindError.ipv6LookupInIPv4Database(address.description)
                }
                return try match(.v4(value))
            }
            node = 0
            depth = 0
            bits = 128
            high = h
            low = l
        }
        let start = depth
        let recordSize = self.recordSize
        let nodeCount = self.nodeCount
        // The address bits are consumed from the top of `high`, then of `low`. One loop per record size, so
        // the size is not re-examined for every bit.
        @inline(__always)
        func walk(_ size: Int) {
            while depth < bits && node < nodeCount {
                let bit = Int(high >> 63)
                high = high << 1 | low >> 63
                low <<= 1
                node = Self.record(tree, node: node, bit: bit, recordSize: size)
                depth += 1
            }
        }
        switch recordSize {
        case 24: walk(24)
        case 28: walk(28)
        default: walk(32)
        }
        let prefixLength = depth - (address.isIPv4 ? ipv4StartDepth : 0)
        if node == nodeCount { return nil }
        if node < nodeCount {
            throw MaxMindError.invalidSearchTree("the tree is deeper than the \(bits - start)-bit address \(address)")
        }
        let offset = Int(node) - Int(nodeCount) - 16
        guard offset >= 0, offset < data.count else {
            throw MaxMindError.invalidSearchTree(
                "record \(node) points outside the data section (node_count \(nodeCount), data \(data.count) bytes)")
        }
        return Match(dataOffset: offset, prefixLength: prefixLength)
    }

    /// The whole data record for `address`.
    package func lookup(_ address: IPAddress) throws(MaxMindError) -> MaxMindValue? {
        guard let match = try match(address) else { return nil }
        return try data.decode(at: match.dataOffset).value
    }

    /// The value at `path` (map keys) in the record for `address`, decoding nothing else.
    package func value(for address: IPAddress, path: [String]) throws(MaxMindError) -> MaxMindValue? {
        guard let match = try match(address) else { return nil }
        var offset = match.dataOffset
        for key in path {
            guard let found = try data.member(Array(key.utf8), inMapAt: offset) else { return nil }
            offset = found
        }
        return try data.decode(at: offset).value
    }

    /// The raw record values of one node, for verification.
    func records(of node: UInt32) -> (UInt32, UInt32) {
        (
            Self.record(file.baseAddress!, node: node, bit: 0, recordSize: recordSize),
            Self.record(file.baseAddress!, node: node, bit: 1, recordSize: recordSize)
        )
    }
}
