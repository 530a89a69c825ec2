#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads the members of an encoded JSON object in place, without building a tree.
///
/// Reports read a handful of fields from each of millions of ledger entries; parsing every entry into a
/// `JSONValue` tree costs several times what reading it from SQLite does. The scanner walks the bytes once,
/// hands each member's key and value span to the caller, and decodes only the values asked for. It checks
/// the framing it walks (quotes, brackets, separators) and throws on anything else rather than guessing;
/// full validation of the ledger's bytes is the parser's and the Merkle tree's job.
package enum JSONObjectScanner {
    /// Calls `body` with each member of the object `bytes` holds (whitespace before it allowed), and returns
    /// where the object ends (the offset after its `}`); what follows is the caller's to check.
    @discardableResult
    package static func forEachMember(
        of bytes: UnsafeRawBufferPointer,
        _ body: (_ key: UnsafeRawBufferPointer, _ value: JSONRawValue) throws -> Void
    ) throws -> Int {
        var cursor = Cursor(bytes: bytes)
        cursor.skipWhitespace()
        try cursor.expect(UInt8(ascii: "{"))
        cursor.skipWhitespace()
        if cursor.peek == UInt8(ascii: "}") {
            cursor.index += 1
            return cursor.index
        }
        while true {
            cursor.skipWhitespace()
            let key = try cursor.stringContents()
            cursor.skipWhitespace()
            try cursor.expect(UInt8(ascii: ":"))
            cursor.skipWhitespace()
            let start = cursor.index
            try cursor.skipValue()
            try body(
                UnsafeRawBufferPointer(rebasing: bytes[key]),
                JSONRawValue(bytes: UnsafeRawBufferPointer(rebasing: bytes[start..<cursor.index])))
            cursor.skipWhitespace()
            guard let next = cursor.peek else { throw JSONScanError(offset: cursor.index, expected: "',' or '}'") }
            cursor.index += 1
            if next == UInt8(ascii: "}") { return cursor.index }
            guard next == UInt8(ascii: ",") else {
                throw JSONScanError(offset: cursor.index - 1, expected: "',' or '}'")
            }
        }
    }

    /// Whether `key` is exactly the ASCII text of `name`.
    @inline(__always)
    package static func key(_ key: UnsafeRawBufferPointer, is name: StaticString) -> Bool {
        key.count == name.utf8CodeUnitCount
            && (key.count == 0 || memcmp(key.baseAddress!, name.utf8Start, key.count) == 0)
    }

    struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func expect(_ byte: UInt8) throws(JSONScanError) {
            guard peek == byte else {
                throw JSONScanError(offset: index, expected: "'\(Character(Unicode.Scalar(byte)))'")
            }
            index += 1
        }

        /// Steps over a string and returns the range of its contents (between the quotes, still escaped).
        mutating func stringContents() throws(JSONScanError) -> Range<Int> {
            try expect(UInt8(ascii: "\""))
            let start = index
            while index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "\""):
                    index += 1
                    return start..<(index - 1)
                case UInt8(ascii: "\\"): index += 2
                default: index += 1
                }
            }
            throw JSONScanError(offset: bytes.count, expected: "the end of a string")
        }

        /// Steps over one value of any type. Nested containers are tracked by depth alone; strings inside
        /// them are stepped over whole so brackets in text do not count.
        mutating func skipValue() throws(JSONScanError) {
            guard let first = peek else { throw JSONScanError(offset: index, expected: "a value") }
            switch first {
            case UInt8(ascii: "\""):
                _ = try stringContents()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var depth = 0
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: "\""):
                        _ = try stringContents()
                        continue
                    case UInt8(ascii: "{"), UInt8(ascii: "["):
                        depth += 1
                        if depth > JSONParser.maximumDepth {
                            throw JSONScanError(
                                offset: index, expected: "nesting within \(JSONParser.maximumDepth) levels")
                        }
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        depth -= 1
                        if depth == 0 {
                            index += 1
                            return
                        }
                    default: break
                    }
                    index += 1
                }
                throw JSONScanError(offset: bytes.count, expected: "the end of a container")
            default:
                let start = index
                while index < bytes.count {
                    switch bytes[index] {
                    case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
                        if index == start { throw JSONScanError(offset: index, expected: "a value") }
                        return
                    default: index += 1
                    }
                }
            }
        }
    }
}

/// One member's value as its encoded bytes; decoded on request.
package struct JSONRawValue {
    /// The value's encoded span, quotes and brackets included.
    package let bytes: UnsafeRawBufferPointer

    package var isString: Bool { bytes.first == UInt8(ascii: "\"") }
    package var isObject: Bool { bytes.first == UInt8(ascii: "{") }

    /// The value as text if it is a string. Strings without escapes are read straight from the bytes; the
    /// rare escaped one goes through the strict parser.
    package func string() throws -> String? {
        guard isString, bytes.count >= 2 else { return nil }
        let contents = UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
        if contents.isEmpty { return "" }
        if memchr(contents.baseAddress!, Int32(UInt8(ascii: "\\")), contents.count) == nil {
            return String(decoding: contents, as: UTF8.self)
        }
        guard case .string(let text) = try JSONParser.parse(Array(bytes)) else { return nil }
        return text
    }

    /// The unescaped contents of a string value, or nil when it has escapes (or is not a string): lets a
    /// caller look text up without making a `String`.
    package var plainStringContents: UnsafeRawBufferPointer? {
        guard isString, bytes.count >= 2 else { return nil }
        let contents = UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)])
        if !contents.isEmpty, memchr(contents.baseAddress!, Int32(UInt8(ascii: "\\")), contents.count) != nil {
            return nil
        }
        return contents
    }

    /// The value as an integer if it is one (no fraction or exponent) and fits in 64 bits.
    package var int64: Int64? {
        var index = 0
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            index = 1
        }
        guard index < bytes.count else { return nil }
        var value: Int64 = 0
        while index < bytes.count {
            let digit = bytes[index] &- UInt8(ascii: "0")
            guard digit < 10 else { return nil }
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) =
                negative
                ? times.subtractingReportingOverflow(Int64(digit)) : times.addingReportingOverflow(Int64(digit))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
            index += 1
        }
        return value
    }

    /// Whether the value is a string of printable ASCII without escapes: the text is its bytes as they stand.
    package var isPlainASCIIString: Bool {
        guard isString, bytes.count >= 2 else { return false }
        return JSONRawValue.isPlainASCII(UnsafeRawBufferPointer(rebasing: bytes[1..<(bytes.count - 1)]))
    }

    /// Printable ASCII (0x20-0x7E) without a backslash — or a quote, which a string's contents can hold only
    /// escaped.
    package static func isPlainASCII(_ contents: UnsafeRawBufferPointer) -> Bool {
        for byte in contents where byte < 0x20 || byte >= 0x7F || byte == UInt8(ascii: "\\") { return false }
        return true
    }

    package var bool: Bool? {
        switch bytes.count {
        case 4 where bytes[0] == UInt8(ascii: "t"): return true
        case 5 where bytes[0] == UInt8(ascii: "f"): return false
        default: return nil
        }
    }
}

package struct JSONScanError: Error, CustomStringConvertible {
    package let offset: Int
    package let expected: String
    package var description: String { "malformed JSON at byte \(offset): expected \(expected)" }
}
