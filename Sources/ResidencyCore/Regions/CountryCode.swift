/// An ISO 3166-1 alpha-2 code, upper case. Construction only checks the shape; whether the code names a
/// real country is the `CountryTable`'s answer.
package struct CountryCode: Sendable, Hashable, Comparable, CustomStringConvertible {
    package let rawValue: String

    /// Accepts two ASCII letters in either case and upper-cases them.
    package init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 2, bytes.allSatisfy({ (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) })
        else { return nil }
        rawValue = text.uppercased()
    }

    /// Two bytes already known to be upper-case ASCII letters, as geolocation databases store them; avoids
    /// the case conversion on the lookup path.
    package init?(upperCaseASCII first: UInt8, _ second: UInt8) {
        guard (0x41...0x5A).contains(first), (0x41...0x5A).contains(second) else {
            guard let code = CountryCode(String(decoding: [first, second], as: UTF8.self)) else { return nil }
            self = code
            return
        }
        // Written in place: an array of the two bytes would be allocated on every lookup.
        rawValue = String(unsafeUninitializedCapacity: 2) { buffer in
            buffer[0] = first
            buffer[1] = second
            return 2
        }
    }

    package var description: String { rawValue }

    package static func < (lhs: CountryCode, rhs: CountryCode) -> Bool { lhs.rawValue < rhs.rawValue }
}
