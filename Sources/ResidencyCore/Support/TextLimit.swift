/// A free-text field a caller sends (a tenant's name, a reason, a ticket reference), bounded in UTF-8 bytes.
///
/// Bytes, not characters: Swift counts a letter followed by 500,000 combining marks as one character, so a
/// "1–200 characters" name could be a megabyte — in the directory, in every report and in the ledger. A byte
/// limit bounds what is stored and what every reader pays, whatever the script. Control characters are refused:
/// they break logs, CSV and terminals.
package struct TextLimit: Sendable, Hashable {
    package let field: String
    package let maximumBytes: Int
    /// Must hold something other than whitespace.
    package let required: Bool

    package init(field: String, maximumBytes: Int, required: Bool) {
        self.field = field
        self.maximumBytes = maximumBytes
        self.required = required
    }

    package static let tenantName = TextLimit(field: "name", maximumBytes: 200, required: true)
    package static let migrationReason = TextLimit(field: "reason", maximumBytes: 500, required: true)
    package static let accessDetail = TextLimit(field: "detail", maximumBytes: 500, required: false)
    package static let decisionReason = TextLimit(field: "reason", maximumBytes: 1000, required: false)
    package static let reviewNote = TextLimit(field: "note", maximumBytes: 1000, required: true)
    package static func staff(_ part: String) -> TextLimit {
        TextLimit(field: "staff.\(part)", maximumBytes: 128, required: true)
    }

    /// What is accepted, as error messages and the API document say it.
    package var accepted: String {
        "\(required ? "1" : "0")-\(maximumBytes) bytes of UTF-8 text (counted in bytes, not characters) without control characters"
    }

    /// Why `text` is refused, or nil when it is accepted. The length is checked first, so an oversized text
    /// costs one pass over its bytes and no more.
    package func problem(in text: String) -> String? {
        let bytes = text.utf8.count
        if bytes > maximumBytes {
            return "is \(bytes) bytes long; accepted: \(accepted)"
        }
        if let control = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control }) {
            let code = String(control.value, radix: 16, uppercase: true)
            return "contains the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code); accepted: \(accepted)"
        }
        if required && !text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }) {
            return "must not be empty; accepted: \(accepted)"
        }
        return nil
    }
}
