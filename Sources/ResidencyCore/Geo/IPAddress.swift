/// An IPv4 or IPv6 address, parsed strictly.
///
/// Accepted: IPv4 dotted quads (`192.0.2.1`, no leading zeros, each part 0–255) and IPv6 in every
/// RFC 4291 §2.2 form — full, `::`-compressed, upper or lower case, with a trailing embedded IPv4. Refused,
/// with the input quoted: leading zeros in IPv4 parts (ambiguous: octal to some parsers), zone ids
/// (`fe80::1%eth0`: meaningless off the host), prefixes, brackets, whitespace and anything else.
package enum IPAddress: Sendable, Hashable {
    case v4(UInt32)
    /// The 128 bits as two big-endian halves.
    case v6(high: UInt64, low: UInt64)

    package init(_ text: String) throws(IPAddressError) {
        var utf8 = Array(text.utf8)
        if utf8.contains(UInt8(ascii: ":")) {
            self = try Self.parseV6(&utf8, original: text)
        } else {
            guard let v4 = Self.parseV4(utf8[...]) else {
                throw IPAddressError(input: text, reason: Self.v4Reason(utf8))
            }
            self = .v4(v4)
        }
    }

    /// Parses `text`, answering the error as a value (convenient where many inputs are checked in a loop).
    package static func parse(_ text: String) -> Result<IPAddress, IPAddressError> {
        do {
            return .success(try IPAddress(text))
        } catch {
            return .failure(error)
        }
    }

    /// Builds an address from 4 or 16 network-order bytes.
    package init?(bytes: [UInt8]) {
        switch bytes.count {
        case 4: self = .v4(bytes.reduce(0) { $0 << 8 | UInt32($1) })
        case 16:
            let high = bytes[0..<8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            let low = bytes[8..<16].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            self = .v6(high: high, low: low)
        default: return nil
        }
    }

    package var isIPv4: Bool {
        if case .v4 = self { return true }
        return false
    }

    /// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), which is how dual-stack
    /// sockets report IPv4 callers.
    package var unwrappingIPv4Mapped: IPAddress {
        if case .v6(let high, let low) = self, high == 0, low >> 32 == 0xFFFF {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return self
    }

    /// The IPv4 address a customer really uses when this is an IPv4-mapped (`::ffff:0:0/96`) or 6to4
    /// (`2002::/16`) address; otherwise the address itself.
    package var unwrappingEmbeddedIPv4: IPAddress {
        if case .v6(let high, _) = self, high >> 48 == 0x2002 { return .v4(UInt32(truncatingIfNeeded: high >> 16)) }
        return unwrappingIPv4Mapped
    }

    package var bytes: [UInt8] {
        switch self {
        case .v4(let value): return (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - $0 * 8)) }
        case .v6(let high, let low):
            return (0..<8).map { UInt8(truncatingIfNeeded: high >> (56 - $0 * 8)) }
                + (0..<8).map { UInt8(truncatingIfNeeded: low >> (56 - $0 * 8)) }
        }
    }

    /// Parses a dotted-quad IPv4 address from its bytes, as `init(_:)` does, without building a String; nil
    /// for anything else (including IPv6: ask `init(_:)` for those and for the reason a text was refused).
    package init?(ipv4 bytes: UnsafeRawBufferPointer) {
        guard let value = Self.parseV4(bytes[...]) else { return nil }
        self = .v4(value)
    }

    static func parseV4<Bytes: RandomAccessCollection<UInt8>>(_ bytes: Bytes) -> UInt32? where Bytes.Index == Int {
        var value: UInt32 = 0
        var parts = 0
        var index = bytes.startIndex
        while true {
            let start = index
            var part: UInt32 = 0
            while index < bytes.endIndex, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") {
                part = part * 10 + UInt32(bytes[index] - UInt8(ascii: "0"))
                index += 1
                if index - start > 3 { return nil }
            }
            let length = index - start
            guard length > 0, part <= 255, !(length > 1 && bytes[start] == UInt8(ascii: "0")) else { return nil }
            value = value << 8 | part
            parts += 1
            if parts == 4 { return index == bytes.endIndex ? value : nil }
            guard index < bytes.endIndex, bytes[index] == UInt8(ascii: ".") else { return nil }
            index += 1
        }
    }

    static func v4Reason(_ bytes: [UInt8]) -> String {
        if bytes.isEmpty { return "empty; expected an IPv4 or IPv6 address" }
        let parts = bytes.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if parts.count == 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy { $0 >= 48 && $0 <= 57 } }) {
            if parts.contains(where: { $0.count > 1 && $0.first == UInt8(ascii: "0") }) {
                return "leading zeros are not accepted in IPv4 (ambiguous octal); write e.g. 10.1.2.3"
            }
            return "each IPv4 part must be 0-255"
        }
        if bytes.contains(UInt8(ascii: "/")) { return "a prefix is not an address; give one address without /length" }
        return "not an IPv4 address (four decimal parts 0-255, e.g. 192.0.2.1) or an IPv6 address (e.g. 2001:db8::1)"
    }

    private static func parseV6(_ bytes: inout [UInt8], original: String) throws(IPAddressError) -> IPAddress {
        func fail(_ reason: String) -> IPAddressError { IPAddressError(input: original, reason: reason) }
        if bytes.contains(UInt8(ascii: "%")) {
            throw fail("zone ids (%...) are not accepted; give the address without its interface")
        }
        if bytes.contains(UInt8(ascii: "/")) {
            throw fail("a prefix is not an address; give one address without /length")
        }
        if bytes.first == UInt8(ascii: "[") { throw fail("remove the brackets; give the bare address") }

        var groups: [UInt16] = []
        var compressAt: Int?
        var index = 0
        let invalid = "not a valid IPv6 address (RFC 4291: eight groups of 1-4 hex digits, one '::' at most)"
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            compressAt = 0
            index = 2
            if bytes.count == 2 { return .v6(high: 0, low: 0) }
        } else if bytes.first == UInt8(ascii: ":") {
            throw fail(invalid)
        }
        while index < bytes.count {
            // An embedded IPv4 address ends the text.
            let rest = bytes[index...]
            if let dot = rest.firstIndex(of: UInt8(ascii: ".")), !rest[..<dot].contains(UInt8(ascii: ":")) {
                guard let v4 = parseV4(rest) else { throw fail("the embedded IPv4 address is not valid") }
                groups.append(UInt16(v4 >> 16))
                groups.append(UInt16(v4 & 0xFFFF))
                index = bytes.count
                break
            }
            var group: UInt32 = 0
            var digits = 0
            while index < bytes.count, let digit = hexValue(bytes[index]) {
                group = group << 4 | UInt32(digit)
                digits += 1
                index += 1
                if digits > 4 { throw fail("a group has more than 4 hex digits") }
            }
            guard digits > 0 else { throw fail(invalid) }
            groups.append(UInt16(group))
            if index == bytes.count { break }
            guard bytes[index] == UInt8(ascii: ":") else { throw fail(invalid) }
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: ":") {
                guard compressAt == nil else { throw fail("'::' may appear only once") }
                compressAt = groups.count
                index += 1
                if index == bytes.count { break }
            } else if index == bytes.count {
                throw fail(invalid)
            }
        }
        if let compressAt {
            guard groups.count < 8 else { throw fail("'::' must stand for at least one group") }
            groups.insert(contentsOf: repeatElement(0, count: 8 - groups.count), at: compressAt)
        }
        guard groups.count == 8 else { throw fail(invalid) }
        let high = groups[0..<4].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        let low = groups[4..<8].reduce(UInt64(0)) { $0 << 16 | UInt64($1) }
        return .v6(high: high, low: low)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

extension IPAddress: CustomStringConvertible {
    /// RFC 5952 text: lower case, the longest run of two or more zero groups compressed (the first on a tie).
    package var description: String {
        switch self {
        case .v4(let value):
            // Digits written in place: every placement reason about an address prints it.
            return String(unsafeUninitializedCapacity: 15) { buffer in
                var count = 0
                for shift in stride(from: 24, through: 0, by: -8) {
                    let octet = Int(value >> UInt32(shift) & 0xFF)
                    if octet >= 100 {
                        buffer[count] = UInt8(48 + octet / 100)
                        count += 1
                    }
                    if octet >= 10 {
                        buffer[count] = UInt8(48 + octet / 10 % 10)
                        count += 1
                    }
                    buffer[count] = UInt8(48 + octet % 10)
                    count += 1
                    if shift > 0 {
                        buffer[count] = UInt8(ascii: ".")
                        count += 1
                    }
                }
                return count
            }
        case .v6(let high, let low):
            let groups =
                (0..<4).map { UInt16(truncatingIfNeeded: high >> (48 - $0 * 16)) }
                + (0..<4).map { UInt16(truncatingIfNeeded: low >> (48 - $0 * 16)) }
            var bestStart = -1
            var bestLength = 1
            var runStart = -1
            for index in 0...8 {
                if index < 8 && groups[index] == 0 {
                    if runStart < 0 { runStart = index }
                } else if runStart >= 0 {
                    if index - runStart > bestLength {
                        bestStart = runStart
                        bestLength = index - runStart
                    }
                    runStart = -1
                }
            }
            let hex = groups.map { String($0, radix: 16) }
            if bestStart < 0 { return hex.joined(separator: ":") }
            let head = hex[..<bestStart].joined(separator: ":")
            let tail = hex[(bestStart + bestLength)...].joined(separator: ":")
            return head + "::" + tail
        }
    }
}

/// Text that is not an IP address, quoted, with what is accepted.
package struct IPAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    package let input: String
    package let reason: String

    package var description: String { "invalid IP address \"\(input)\": \(reason)" }
}
