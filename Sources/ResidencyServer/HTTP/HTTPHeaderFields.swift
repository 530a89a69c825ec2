/// A request's header fields as they arrived: one copy of their bytes and where each name and value lies in it.
///
/// The parser checks every field, but a handler reads a few of them, and most requests carry fields nobody
/// reads (a placement: four, of which two are read). Making a lower-cased name and a value String of each —
/// and an array of String pairs — was a fifth of the parser's time; now a String is made only for a value asked
/// for, and the hot path reads values as bytes without making one at all.
package struct HTTPHeaderFields: Sendable {
    /// Offsets into `bytes` of one field's name and of its value (trimmed of spaces and tabs).
    struct Span: Sendable {
        var nameStart: Int32
        var nameEnd: Int32
        var valueStart: Int32
        var valueEnd: Int32
    }

    /// The bytes the spans point into (the parser's copy of the request head).
    let bytes: [UInt8]
    let spans: [Span]

    init(bytes: [UInt8], spans: [Span]) {
        self.bytes = bytes
        self.spans = spans
    }

    /// Fields from name-value pairs (requests made in process, by tests).
    init(_ pairs: [(name: String, value: String)]) {
        var bytes: [UInt8] = []
        var spans: [Span] = []
        for (name, value) in pairs {
            let nameStart = Int32(bytes.count)
            bytes.append(contentsOf: name.utf8)
            let valueStart = Int32(bytes.count)
            bytes.append(contentsOf: value.utf8)
            spans.append(
                Span(nameStart: nameStart, nameEnd: valueStart, valueStart: valueStart, valueEnd: Int32(bytes.count)))
        }
        self.init(bytes: bytes, spans: spans)
    }

    var count: Int { spans.count }

    /// Every field in arrival order, names lower-cased (Strings made on each call).
    var pairs: [(name: String, value: String)] {
        spans.map { span in
            let name = bytes[Int(span.nameStart)..<Int(span.nameEnd)]
            return (
                String(decoding: name.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self),
                String(decoding: bytes[Int(span.valueStart)..<Int(span.valueEnd)], as: UTF8.self)
            )
        }
    }

    /// Where the first field named `name` (compared ignoring ASCII case) has its value in `bytes`.
    func valueRange(_ name: String) -> Range<Int>? {
        var name = name
        return name.withUTF8 { wanted -> Range<Int>? in
            for span in spans where Int(span.nameEnd - span.nameStart) == wanted.count {
                var index = Int(span.nameStart)
                var matches = true
                for expected in wanted {
                    if Self.folded(bytes[index]) != Self.folded(expected) {
                        matches = false
                        break
                    }
                    index += 1
                }
                if matches { return Int(span.valueStart)..<Int(span.valueEnd) }
            }
            return nil
        }
    }

    /// `valueRange` for a name known when the program is written, in lower case: compared byte for byte over the
    /// head's buffer, without taking a String's UTF-8 apart. The hot path's lookups (authorization, content-type,
    /// connection, x-request-id) cost a few hundred instructions each through the String form.
    func valueRange(lowercased name: StaticString) -> Range<Int>? {
        // A name with an upper-case letter would never match (the request's bytes are folded, the name is not).
        assert(
            name.withUTF8Buffer { !$0.contains { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } },
            "header names looked up by valueRange(lowercased:) are written in lower case")
        return name.withUTF8Buffer { wanted -> Range<Int>? in
            bytes.withUnsafeBufferPointer { head -> Range<Int>? in
                for span in spans where Int(span.nameEnd - span.nameStart) == wanted.count {
                    var index = Int(span.nameStart)
                    var matches = true
                    for expected in wanted {
                        if Self.folded(head[index]) != expected {
                            matches = false
                            break
                        }
                        index += 1
                    }
                    if matches { return Int(span.valueStart)..<Int(span.valueEnd) }
                }
                return nil
            }
        }
    }

    /// The first value of the field `name` (ignoring ASCII case), as a String.
    func value(_ name: String) -> String? {
        valueRange(name).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    /// The first value of the field `name` as bytes, without making a String; nil without the field.
    func withValue<Result>(_ name: String, _ body: (ArraySlice<UInt8>) -> Result) -> Result? {
        valueRange(name).map { body(bytes[$0]) }
    }

    /// `withValue` for a lower-case name fixed in the program (`valueRange(lowercased:)`).
    func withValue<Result>(lowercased name: StaticString, _ body: (ArraySlice<UInt8>) -> Result) -> Result? {
        valueRange(lowercased: name).map { body(bytes[$0]) }
    }

    /// The first value of the field `name` (a lower-case name fixed in the program), as a String.
    func value(lowercased name: StaticString) -> String? {
        valueRange(lowercased: name).map { String(decoding: bytes[$0], as: UTF8.self) }
    }

    @inline(__always)
    static func folded(_ byte: UInt8) -> UInt8 { (0x41...0x5A).contains(byte) ? byte | 0x20 : byte }
}
