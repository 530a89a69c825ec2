#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Hands out one shared `String` per distinct UTF-8 text, looked up by bytes without making a string first.
///
/// A report over millions of ledger entries repeats the same few hundred tenant ids, staff names and
/// countries. Strings longer than 15 bytes live on the heap, so making one per line costs an allocation and
/// tens of bytes each; interned, every line shares the first copy. Short strings are stored inline by Swift
/// and returned directly. The table stops growing at `capacity` distinct values and then simply makes new
/// strings, so unbounded text (a free-form resource name) cannot make it grow without bound.
///
/// The table starts small and doubles as it fills, up to what `capacity` needs: one made at full size (three
/// MiB to allocate, zero and free) for every checkpoint's summary fold, which usually interns nothing, had cost
/// a twentieth of the CPU of concurrent signups.
package struct StringInterner {
    private var hashes: [UInt64]
    private var values: [String]
    private var count = 0
    private var mask: Int
    /// The most slots the table grows to: the first power of two of at least twice `capacity`.
    private let maximumSize: Int

    package init(capacity: Int = 1 << 16) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        maximumSize = size
        let initial = min(size, 64)
        hashes = Array(repeating: 0, count: initial)
        values = Array(repeating: "", count: initial)
        mask = initial - 1
    }

    package mutating func string(_ bytes: UnsafeRawBufferPointer) -> String {
        if bytes.count <= 15 { return String(decoding: bytes, as: UTF8.self) }
        // FNV-1a; 0 marks an empty slot, so a zero hash is nudged.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        if hash == 0 { hash = 1 }
        var slot = Int(truncatingIfNeeded: hash) & mask
        while hashes[slot] != 0 {
            if hashes[slot] == hash, Self.equal(values[slot], bytes) { return values[slot] }
            slot = (slot + 1) & mask
        }
        let value = String(decoding: bytes, as: UTF8.self)
        if count * 2 >= hashes.count {
            // Half full: double while the limit allows, else hand out the string without keeping it.
            guard hashes.count < maximumSize else { return value }
            grow()
            slot = Int(truncatingIfNeeded: hash) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
        }
        hashes[slot] = hash
        values[slot] = value
        count += 1
        return value
    }

    /// Doubles the table, placing every kept value again.
    private mutating func grow() {
        let oldHashes = hashes
        let oldValues = values
        let size = hashes.count * 2
        hashes = Array(repeating: 0, count: size)
        values = Array(repeating: "", count: size)
        mask = size - 1
        for index in oldHashes.indices where oldHashes[index] != 0 {
            var slot = Int(truncatingIfNeeded: oldHashes[index]) & mask
            while hashes[slot] != 0 { slot = (slot + 1) & mask }
            hashes[slot] = oldHashes[index]
            values[slot] = oldValues[index]
        }
    }

    /// Distinct values kept (for tests: the table's bound).
    package var keptCount: Int { count }

    private static func equal(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            utf8.count == bytes.count && memcmp(utf8.baseAddress!, bytes.baseAddress!, bytes.count) == 0
        }
    }
}
