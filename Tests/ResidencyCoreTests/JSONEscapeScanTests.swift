import Testing

@testable import ResidencyCore

/// `JSONValue.writeEscaped` skips eight bytes at a time; these hold it equal to the plain byte-by-byte escape for
/// every byte value, at every position of strings from 0 to 40 bytes long, and in multi-byte UTF-8 text.
@Suite struct JSONEscapeScanTests {
    /// The escape as JSON defines it, one byte at a time (what `writeEscaped` did before the word scan).
    static func reference(_ text: String) -> [UInt8] {
        var output: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): output += Array("\\\"".utf8)
            case UInt8(ascii: "\\"): output += Array("\\\\".utf8)
            case 0x08: output += Array("\\b".utf8)
            case 0x0C: output += Array("\\f".utf8)
            case 0x0A: output += Array("\\n".utf8)
            case 0x0D: output += Array("\\r".utf8)
            case 0x09: output += Array("\\t".utf8)
            case ..<0x20:
                let hex = Array("0123456789abcdef".utf8)
                output += Array("\\u00".utf8) + [hex[Int(byte >> 4)], hex[Int(byte & 0xF)]]
            default: output.append(byte)
            }
        }
        return output
    }

    static func escaped(_ text: String) -> [UInt8] {
        var output: [UInt8] = Array("kept".utf8)  // appends, never overwrites
        JSONValue.writeEscaped(text, into: &output)
        return Array(output.dropFirst(4))
    }

    @Test func everyASCIIByteAtEveryPosition() {
        var compared = 0
        for byte in UInt8(0)...0x7F {
            for length in 1...40 {
                for position in 0..<length {
                    var bytes = Array(repeating: UInt8(ascii: "a"), count: length)
                    bytes[position] = byte
                    let text = String(decoding: bytes, as: UTF8.self)
                    #expect(Self.escaped(text) == Self.reference(text), "byte \(byte) at \(position) of \(length)")
                    compared += 1
                }
            }
        }
        #expect(compared == 128 * 820)
    }

    @Test func mixedTextAndEdges() {
        let texts = [
            "", "a", "\"", "\\", "\n", "\u{0}", "\u{1F}", " ", "~", "\u{7F}",
            "12345678", "1234567\"", "\"1234567", "customers from GB may be hosted in eu-west, eu-central (rule gb)",
            "Zürich — 東京 \u{1F600} \"quoted\" \\ back\tslash\r\n",
            String(repeating: "\u{7}\"\\x", count: 17), String(repeating: "é", count: 33),
            String(repeating: "abcdefgh", count: 9) + "\u{1}",
        ]
        for text in texts {
            #expect(Self.escaped(text) == Self.reference(text), "\(text.debugDescription)")
        }
    }

    /// The word test says "nothing to escape" only when no byte needs escaping: every byte value alone in a word,
    /// at each of the eight places, and pairs of neighbours (a borrow from one byte must not hide the next).
    @Test func wordTestNeverMissesAByte() {
        for byte in UInt8(0)...0xFF {
            for place in 0..<8 {
                var bytes = Array(repeating: UInt8(ascii: "a"), count: 8)
                bytes[place] = byte
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(JSONEscapeScan.mayNeedEscaping(word) == JSONEscapeScan.needsEscaping(byte))
            }
        }
        for first in UInt8(0)...0xFF {
            for second in UInt8(0)...0xFF {
                let bytes = [UInt8](repeating: 0x61, count: 3) + [first, second] + [UInt8](repeating: 0x61, count: 3)
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                let expected = JSONEscapeScan.needsEscaping(first) || JSONEscapeScan.needsEscaping(second)
                if JSONEscapeScan.mayNeedEscaping(word) != expected {
                    Issue.record("bytes \(first), \(second)")
                }
            }
        }
    }
}
