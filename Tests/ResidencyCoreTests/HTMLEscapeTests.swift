import Testing

@testable import ResidencyCore

/// Escaped text holds no markup character however it is dressed — a combining mark after `<` or `"` makes one
/// Swift Character that equals neither — and reads back to the text it was.
@Suite struct HTMLEscapeTests {
    static let hostile = [
        "<script>alert(1)</script>", "\"\u{301} onmouseover=alert(1) x=\"", "<\u{301}img src=x onerror=alert(1)>",
        "&\u{301}amp;", "'\u{20DD}", ">\u{FE0F}", "caf\u{E9} \u{1F600} <b>", "a\u{0}b<", "",
        String(repeating: "<\"&\u{301}", count: 200),
    ]

    @Test(arguments: hostile)
    func noMarkupCharacterSurvivesAndTheTextReadsBack(_ text: String) {
        let escaped = HTMLReport.escape(text)
        let markup: Set<Unicode.Scalar> = ["<", ">", "\"", "'"]
        #expect(!escaped.unicodeScalars.contains { markup.contains($0) }, "\(escaped)")
        #expect(Self.unescape(escaped) == text)
    }

    /// The five entities `escape` writes, read back scalar by scalar; any other `&` is a failure.
    static func unescape(_ text: String) -> String? {
        var out = String.UnicodeScalarView()
        var rest = Substring(text).unicodeScalars
        let entities: [(String, Unicode.Scalar)] = [
            ("&amp;", "&"), ("&lt;", "<"), ("&gt;", ">"), ("&quot;", "\""), ("&#39;", "'"),
        ]
        while let ampersand = rest.firstIndex(of: "&") {
            out.append(contentsOf: rest[..<ampersand])
            rest = rest[ampersand...]
            guard let (entity, scalar) = entities.first(where: { rest.starts(with: $0.0.unicodeScalars) }) else {
                return nil
            }
            out.append(scalar)
            rest = rest.dropFirst(entity.unicodeScalars.count)
        }
        out.append(contentsOf: rest)
        return String(out)
    }
}
