import Foundation

/// A C2SP signed note taken apart: its text (ending in a newline) and its signature lines.
///
/// Read leniently about what shells and editors do to a saved file — trailing newlines beyond the one that
/// ends the last signature (what `jq -r .note > file` or an editor adds), and CRLF line ends — and strictly
/// about everything that is signed: the text is exactly the bytes up to the last blank line.
package struct SignedNote: Sendable, Hashable {
    /// The signed text, ending in one newline.
    package let text: String
    /// `— <name> <base64>` lines, without their newline.
    package let signatures: [String]

    package init(text: String, signatures: [String]) {
        self.text = text
        self.signatures = signatures
    }

    package init(parsing note: String) throws(CryptoError) {
        var normalized = note.replacingOccurrences(of: "\r\n", with: "\n")
        while normalized.hasSuffix("\n\n") { normalized.removeLast() }
        guard normalized.hasSuffix("\n") else {
            throw CryptoError("not a signed note: it must end with a signature line and a newline")
        }
        guard let separator = normalized.range(of: "\n\n", options: .backwards) else {
            throw CryptoError("not a signed note: no blank line between the text and its signatures")
        }
        let text = String(normalized[..<separator.lowerBound]) + "\n"
        let lines = normalized[separator.upperBound...].split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast()
        guard !lines.isEmpty, lines.allSatisfy({ $0.hasPrefix("— ") }) else {
            throw CryptoError("not a signed note: every line after the blank line must be a signature (— name sig)")
        }
        self.init(text: text, signatures: lines.map(String.init))
    }

    /// The note as text: the text, a blank line, the signatures.
    package var encoded: String { text + "\n" + signatures.map { $0 + "\n" }.joined() }

    /// The same note with more signature lines (duplicates dropped).
    package func adding(_ lines: [String]) -> SignedNote {
        var all = signatures
        for line in lines where !all.contains(line) { all.append(line) }
        return SignedNote(text: text, signatures: all)
    }

    /// A signature line split into its key name and decoded bytes; nil when it is not one.
    package static func split(_ line: String) -> (name: String, bytes: [UInt8])? {
        let parts = line.split(separator: " ", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == "—", !parts[1].isEmpty, let data = Data(base64Encoded: String(parts[2]))
        else { return nil }
        return (String(parts[1]), Array(data))
    }
}
