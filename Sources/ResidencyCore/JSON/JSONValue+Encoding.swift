extension JSONValue {
    /// Canonical bytes: object keys sorted by their UTF-8 bytes, no insignificant whitespace, strings with the
    /// minimal escapes, integers in plain decimal.
    ///
    /// Ledger entries refuse fractions (`allowsFractions: false`) because two implementations can print the
    /// same double differently; catalog files contain coordinates, so their version hash allows them and
    /// prints each one in Swift's shortest round-tripping form.
    package func canonicalBytes(allowsFractions: Bool = false) throws(JSONEncodingError) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(512)
        try writeCanonical(into: &output, allowsFractions: allowsFractions)
        return output
    }

    private func writeCanonical(into output: inout [UInt8], allowsFractions: Bool) throws(JSONEncodingError) {
        switch self {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let value): output.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let number):
            if let integer = number.int64Value {
                output.append(contentsOf: String(integer).utf8)
            } else if number.isInteger {
                throw JSONEncodingError(message: "integer \(number.text) does not fit in 64 bits")
            } else if allowsFractions, let double = number.doubleValue, double.isFinite {
                output.append(contentsOf: double.description.utf8)
            } else {
                throw JSONEncodingError(
                    message: "number \(number.text) is not an integer; canonical JSON here has none")
            }
        case .string(let string): Self.writeString(string, into: &output)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                try element.writeCanonical(into: &output, allowsFractions: allowsFractions)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            // Objects built in key order (a ledger entry's own members) are written as they are: sorting made a
            // copy of the members, retaining every key and value, for each object of every entry appended.
            let inOrder = zip(members, members.dropFirst()).allSatisfy {
                !$1.key.utf8.lexicographicallyPrecedes($0.key.utf8)
            }
            let sorted = inOrder ? members : members.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
            for (offset, member) in sorted.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                Self.writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                try member.value.writeCanonical(into: &output, allowsFractions: allowsFractions)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Human-facing JSON in member order, two-space indented when `pretty`.
    /// The compact (or pretty) form as UTF-8 bytes, without a detour through `String`.
    package func encodedBytes(pretty: Bool = false) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(into: &output, pretty: pretty, indent: 0)
        return output
    }

    package func encoded(pretty: Bool = false) -> String {
        var output: [UInt8] = []
        write(into: &output, pretty: pretty, indent: 0)
        return String(decoding: output, as: UTF8.self)
    }

    func write(into output: inout [UInt8], pretty: Bool, indent: Int) {
        func newline(_ level: Int) {
            guard pretty else { return }
            output.append(UInt8(ascii: "\n"))
            output.append(contentsOf: repeatElement(UInt8(ascii: " "), count: level * 2))
        }
        switch self {
        case .null, .bool, .string:
            try! writeCanonical(into: &output, allowsFractions: true)
        case .number(let number):
            output.append(contentsOf: number.text.utf8)
        case .array(let elements):
            output.append(UInt8(ascii: "["))
            for (offset, element) in elements.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                element.write(into: &output, pretty: pretty, indent: indent + 1)
            }
            if !elements.isEmpty { newline(indent) }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (offset, member) in members.enumerated() {
                if offset > 0 { output.append(UInt8(ascii: ",")) }
                newline(indent + 1)
                Self.writeString(member.key, into: &output)
                output.append(UInt8(ascii: ":"))
                if pretty { output.append(UInt8(ascii: " ")) }
                member.value.write(into: &output, pretty: pretty, indent: indent + 1)
            }
            if !members.isEmpty { newline(indent) }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ string: String, into output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        writeEscaped(string, into: &output)
        output.append(UInt8(ascii: "\""))
    }

    /// The inside of `writeString`'s string: the text with JSON's escapes, without the quotes.
    static func writeEscaped(_ string: String, into output: inout [UInt8]) {
        appendEscaped(string, to: &output)
    }

    /// `writeEscaped` into any byte sink (specialized in this module for arrays and `ByteWriter`).
    static func appendEscaped<Sink: JSONByteSink & ~Copyable>(_ string: String, to output: inout Sink) {
        var string = string
        string.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            let count = bytes.count
            // Copy runs that need no escaping in one go; most strings are one such run. The run is found eight
            // bytes at a time (a placement answer escapes some 400 bytes, and the byte-at-a-time scan cost
            // 2.6 k instructions an answer); a word that may hold a byte to escape is looked at byte by byte.
            var runStart = 0
            var index = 0
            while index < count {
                if count - index >= 8 {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    if !JSONEscapeScan.mayNeedEscaping(word) {
                        index += 8
                        continue
                    }
                }
                let wordEnd = min(index + 8, count)
                while index < wordEnd {
                    let byte = base[index]
                    index += 1
                    guard JSONEscapeScan.needsEscaping(byte) else { continue }
                    output.appendBytes(UnsafeRawBufferPointer(start: base + runStart, count: index - 1 - runStart))
                    runStart = index
                    appendEscape(of: byte, to: &output)
                }
            }
            output.appendBytes(UnsafeRawBufferPointer(start: base + runStart, count: count - runStart))
        }
    }

    private static func appendEscape<Sink: JSONByteSink & ~Copyable>(of byte: UInt8, to output: inout Sink) {
        switch byte {
        case UInt8(ascii: "\""): output.literal("\\\"")
        case UInt8(ascii: "\\"): output.literal("\\\\")
        case 0x08: output.literal("\\b")
        case 0x0C: output.literal("\\f")
        case 0x0A: output.literal("\\n")
        case 0x0D: output.literal("\\r")
        case 0x09: output.literal("\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            output.literal("\\u00")
            output.append(hex.utf8Start[Int(byte >> 4)])
            output.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

/// Which bytes a JSON string must escape, and a test for eight of them at once.
package enum JSONEscapeScan {
    @inline(__always)
    package static func needsEscaping(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// False only when none of the word's eight bytes needs escaping (true may come from any of them). The classic
    /// bit tests: `(x - 0x01..) & ~x & 0x80..` is non-zero exactly when some byte of x is zero, and
    /// `(x - 0x20..) & ~x & 0x80..` exactly when some byte is below 0x20.
    @inline(__always)
    package static func mayNeedEscaping(_ word: UInt64) -> Bool {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quotes = word ^ (ones &* 0x22)
        let backslashes = word ^ (ones &* 0x5C)
        let control = (word &- ones &* 0x20) & ~word
        let quote = (quotes &- ones) & ~quotes
        let backslash = (backslashes &- ones) & ~backslashes
        return (control | quote | backslash) & highs != 0
    }
}

/// A value that cannot be written as canonical JSON.
package struct JSONEncodingError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package var description: String { "cannot encode canonical JSON: \(message)" }
}
