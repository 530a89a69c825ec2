import Foundation
import Testing

@testable import ResidencyCore

/// `trimmingSpaces` removes what Foundation's `trimmingCharacters(in: .whitespaces)` removes, and nothing else.
@Suite struct SpaceTrimmingTests {
    /// Every space separator and the tab at either end; line breaks, other controls, a no-break space's
    /// look-alikes that are not Zs (U+200B, U+FEFF), a combining mark after a space, letters of several scripts.
    static let alphabet: [Unicode.Scalar] = [
        " ", "\t", "\n", "\r", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2000}", "\u{2007}", "\u{200A}",
        "\u{200B}", "\u{2028}", "\u{202F}", "\u{205F}", "\u{3000}", "\u{FEFF}", "\u{301}", "\u{0}", "a", "Z", "é",
        "ß", "中", "\u{1F600}", "-",
    ]

    @Test func agreesWithFoundationOnEveryStringOfTheAlphabet() {
        var generator = SystemRandomNumberGenerator()
        for length in 0..<7 {
            for _ in 0..<(length == 0 ? 1 : 3_000) {
                var text = String.UnicodeScalarView()
                for _ in 0..<length { text.append(Self.alphabet.randomElement(using: &generator)!) }
                let string = String(text)
                #expect(
                    string.trimmingSpaces() == string.trimmingCharacters(in: .whitespaces),
                    "\(string.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    /// Every scalar of the Basic Multilingual Plane (where every space is) and one in 97 beyond, alone at both ends
    /// of a letter.
    @Test func everyScalarIsTrimmedExactlyWhenFoundationTrimsIt() {
        var differing: [String] = []
        for value in Array(UInt32(0)...0xFFFF) + Array(stride(from: UInt32(0x10000), through: 0x10FFFF, by: 97)) {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let string = String(scalar) + "x" + String(scalar)
            if string.trimmingSpaces() != string.trimmingCharacters(in: .whitespaces) {
                differing.append("U+" + String(value, radix: 16))
            }
        }
        #expect(differing.isEmpty, "\(differing)")
    }
}
