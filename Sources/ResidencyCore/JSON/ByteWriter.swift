#if canImport(Glibc)
    import Glibc
#endif

/// Bytes written into one raw buffer that grows when full, for answers written piece by piece on the hot path.
///
/// A placement answer is some 70 small pieces (keys, literals, escaped runs, digits). Appended to a `[UInt8]`,
/// each went through the array's generic append — uniqueness and capacity checks, the sequence copy — at
/// about 70 instructions a piece, more than the copying; here a piece is a capacity check and a `memcpy`.
/// Not copyable: one owner, which frees the buffer.
package struct ByteWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    package private(set) var count = 0
    private var capacity: Int

    package init(capacity: Int = 1024) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    @inline(__always)
    package mutating func append(_ byte: UInt8) {
        if count == capacity { grow(toHold: 1) }
        base[count] = byte
        count += 1
    }

    @inline(__always)
    package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        guard let start = bytes.baseAddress else { return }
        if capacity - count < bytes.count { grow(toHold: bytes.count) }
        memcpy(base + count, start, bytes.count)
        count += bytes.count
    }

    /// Fixed text, copied as it is.
    @inline(__always)
    package mutating func append(_ text: StaticString) {
        // withUTF8Buffer, not utf8Start: a one-character literal may be held as a scalar, without a pointer.
        text.withUTF8Buffer { appendBytes(UnsafeRawBufferPointer($0)) }
    }

    /// `text` as a JSON string (quotes and escapes), or `null` for nil.
    package mutating func appendJSONString(_ text: String?) {
        if let text { quoted(text) } else { literal("null") }
    }

    /// An integer's decimal digits, as `String(value)` writes them.
    package mutating func appendDecimal(_ value: Int) { decimal(value) }

    /// Forgets what was written, keeping the buffer.
    package mutating func removeAll() { count = 0 }

    /// What was written, as an array (one copy).
    package var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { memcpy(buffer.baseAddress!, base, count) }
            initialized = count
        }
    }

    package func withBytes<Result>(_ body: (UnsafeRawBufferPointer) throws -> Result) rethrows -> Result {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    @inline(never)
    private mutating func grow(toHold needed: Int) {
        let newCapacity = max(capacity * 2, count + needed)
        let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        grown.update(from: base, count: count)
        base.deallocate()
        base = grown
        capacity = newCapacity
    }
}

/// Where JSON writers put their bytes: a `[UInt8]` or a `ByteWriter`. The writers are generic over it inside
/// this module (and specialized for both), so each escape and number format is written once.
package protocol JSONByteSink: ~Copyable {
    mutating func append(_ byte: UInt8)
    mutating func appendBytes(_ bytes: UnsafeRawBufferPointer)
}

extension Array: JSONByteSink where Element == UInt8 {
    @inline(__always)
    package mutating func appendBytes(_ bytes: UnsafeRawBufferPointer) {
        append(contentsOf: bytes.assumingMemoryBound(to: UInt8.self))
    }
}

extension ByteWriter: JSONByteSink {}

extension JSONByteSink where Self: ~Copyable {
    /// Fixed text copied as it is (callers' literals need no JSON escaping: no quote, backslash or control byte).
    @inline(__always)
    mutating func literal(_ text: StaticString) {
        // withUTF8Buffer, not utf8Start: a one-character literal may be held as a scalar, without a pointer.
        text.withUTF8Buffer { appendBytes(UnsafeRawBufferPointer($0)) }
    }

    @inline(__always)
    mutating func appendBytes(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { appendBytes($0) }
    }

    /// `text` with JSON's escapes, without quotes (`JSONValue.writeEscaped`).
    mutating func escaped(_ text: String) {
        JSONValue.appendEscaped(text, to: &self)
    }

    /// `text` as a JSON string, quotes included (`JSONValue.writeString`).
    mutating func quoted(_ text: String) {
        append(UInt8(ascii: "\""))
        JSONValue.appendEscaped(text, to: &self)
        append(UInt8(ascii: "\""))
    }

    /// An integer's decimal digits, as `String(value)` writes them.
    mutating func decimal(_ value: Int) {
        // Int.min has no positive counterpart: its magnitude is taken as unsigned.
        if value < 0 { append(UInt8(ascii: "-")) }
        var rest = value.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: room for UInt64.max's 20 digits
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            repeat {
                buffer[23 - count] = UInt8(48 + rest % 10)
                rest /= 10
                count += 1
            } while rest > 0
            appendBytes(UnsafeRawBufferPointer(rebasing: buffer[(24 - count)...]))
        }
    }
}
