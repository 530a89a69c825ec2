import Foundation

/// Ids packed in one buffer of UTF-8 bytes with where each ends, kept in byte order (UTF-8 `memcmp`): a region's
/// tenants (`TenantHomes.Group`), a data-plane folder's listing, a burst of changed tenants. One buffer rather than
/// a String apiece because the map walks 100,000 of them per read of the directory, and touching 100,000 String
/// objects (a retain and a cache miss each) cost the map page a third of its time.
struct PackedIDs: Sendable {
    private(set) var bytes: [UInt8] = []
    /// Where each id ends in `bytes` (it starts where the previous ends).
    private(set) var ends: [Int] = []

    var count: Int { ends.count }

    init() {}

    /// `names` in byte order: as they are when they already are (a folder listing sorted by Swift's `<`, which for
    /// the ids' characters is byte order), sorted by bytes otherwise. Duplicates are kept.
    init(sorting names: some Collection<String>) {
        var packed = PackedIDs()
        packed.ends.reserveCapacity(names.count)
        var ordered = true
        for name in names {
            var name = name
            name.withUTF8 { name in
                let id = UnsafeRawBufferPointer(name)
                if ordered, packed.count > 0, packed.withIDs({ Self.compare($0(packed.count - 1), id) > 0 }) {
                    ordered = false
                }
                packed.append(id)
            }
        }
        self = ordered ? packed : packed.sortedByBytes().ids
    }

    /// `names` in byte order, each once.
    init(distinct names: some Collection<String>) {
        var packed = PackedIDs()
        packed.ends.reserveCapacity(names.count)
        for name in names {
            var name = name
            name.withUTF8 { packed.append(UnsafeRawBufferPointer($0)) }
        }
        let sorted = packed.isInByteOrder ? packed : packed.sortedByBytes().ids
        var distinct = PackedIDs()
        distinct.reserveCapacity(ids: sorted.count, bytes: sorted.bytes.count)
        sorted.withIDs { id in
            for index in 0..<sorted.count where index == 0 || Self.compare(id(index - 1), id(index)) != 0 {
                distinct.append(id(index))
            }
        }
        self = distinct
    }

    /// Every id, as Strings.
    var strings: [String] { (0..<count).map(id) }

    mutating func reserveCapacity(ids: Int, bytes count: Int) {
        ends.reserveCapacity(ids)
        bytes.reserveCapacity(count)
    }

    mutating func append(_ id: UnsafeRawBufferPointer) {
        bytes.append(contentsOf: id)
        ends.append(bytes.count)
    }

    /// Puts `id` at `index` (where a search for it ended): the ids after it move up, in place.
    mutating func insert(_ id: UnsafeRawBufferPointer, at index: Int) {
        let at = start(index)
        bytes.insert(contentsOf: id, at: at)
        ends.insert(at + id.count, at: index)
        for later in (index + 1)..<ends.count { ends[later] += id.count }
    }

    mutating func remove(at index: Int) {
        let range = start(index)..<ends[index]
        bytes.removeSubrange(range)
        ends.remove(at: index)
        for later in index..<ends.count { ends[later] -= range.count }
    }

    func start(_ index: Int) -> Int { index == 0 ? 0 : ends[index - 1] }

    func id(_ index: Int) -> String {
        String(decoding: bytes[start(index)..<ends[index]], as: UTF8.self)
    }

    /// Calls `body` with a way to slice one id out of the buffer: for loops over many ids without a copy.
    func withIDs<R>(_ body: (_ id: (Int) -> UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { buffer in
            try ends.withUnsafeBufferPointer { ends in
                try body { index in
                    let start = index == 0 ? 0 : ends[index - 1]
                    return UnsafeRawBufferPointer(rebasing: buffer[start..<ends[index]])
                }
            }
        }
    }

    var isInByteOrder: Bool {
        withIDs { id in (1..<max(1, count)).allSatisfy { Self.compare(id($0 - 1), id($0)) < 0 } }
    }

    /// The same ids in byte order, and where each came from (`order[i]` is the index before sorting of the id now
    /// at `i`).
    func sortedByBytes() -> (ids: PackedIDs, order: [Int]) {
        let order = withIDs { id in (0..<count).sorted { Self.compare(id($0), id($1)) < 0 } }
        var sorted = PackedIDs()
        sorted.reserveCapacity(ids: count, bytes: bytes.count)
        withIDs { id in
            for index in order { sorted.append(id(index)) }
        }
        return (sorted, order)
    }

    /// Where `wanted` is, by binary search.
    func index(of wanted: UnsafeRawBufferPointer) -> Int? {
        let low = insertionIndex(of: wanted)
        return low < count && withIDs({ Self.compare($0(low), wanted) == 0 }) ? low : nil
    }

    /// The first index at or after `from` whose id is not before `wanted`, searched by galloping from `from`: for
    /// ids looked up in byte order one after another (a burst of changed tenants in a folder's listing), k of
    /// them cost k·log(n/k) comparisons, neither a binary search each (k·log n) nor a walk of every id (n).
    func insertionIndex(of wanted: UnsafeRawBufferPointer, from: Int = 0) -> Int {
        withIDs { id in
            var low = from
            var high = from
            var step = 1
            while high < count && Self.compare(id(high), wanted) < 0 {
                low = high + 1
                high = from + step
                step *= 2
            }
            high = min(high, count)
            while low < high {
                let middle = (low + high) / 2
                if Self.compare(id(middle), wanted) < 0 { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }

    /// `memcmp` order: negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let order = memcmp(a.baseAddress!, b.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }

    /// `compare` of a String's UTF-8 bytes with `b`, without a copy when the String is stored as UTF-8.
    static func compare(_ a: String, _ b: UnsafeRawBufferPointer) -> Int {
        if let order = a.utf8.withContiguousStorageIfAvailable({ compare(UnsafeRawBufferPointer($0), b) }) {
            return order
        }
        var a = a
        return a.withUTF8 { compare(UnsafeRawBufferPointer($0), b) }
    }

    /// Whether `a` sorts before `b` in byte order.
    static func precedes(_ a: String, _ b: String) -> Bool {
        if let order = b.utf8.withContiguousStorageIfAvailable({ compare(a, UnsafeRawBufferPointer($0)) }) {
            return order < 0
        }
        var b = b
        return b.withUTF8 { compare(a, UnsafeRawBufferPointer($0)) } < 0
    }
}
