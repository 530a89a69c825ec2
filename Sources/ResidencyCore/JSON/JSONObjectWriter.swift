/// Writes one compact JSON object member by member straight into bytes — the same bytes `JSONValue.encoded()`
/// gives for the same members in the same order. For hot paths (every request's log line, every placement),
/// where building a `JSONValue` tree first cost more than the encoding itself.
package struct JSONObjectWriter {
    package private(set) var output: [UInt8]
    private var empty = true

    package init(capacity: Int = 256) {
        output = []
        output.reserveCapacity(capacity)
        output.append(UInt8(ascii: "{"))
    }

    /// A writer that appends the object to `output`, which it holds until `finish(into:)` gives it back (no copy):
    /// for an answer that wraps the object in a few bytes of its own.
    package init(appendingTo output: inout [UInt8]) {
        self.output = []
        swap(&self.output, &output)
        self.output.append(UInt8(ascii: "{"))
    }

    /// A writer for a nested object, which borrows its parent's buffer.
    private init(nested: Void) { output = [] }

    private mutating func key(_ name: StaticString) {
        if !empty { output.append(UInt8(ascii: ",")) }
        empty = false
        output.append(UInt8(ascii: "\""))
        name.withUTF8Buffer { output.append(contentsOf: $0) }
        output.append(UInt8(ascii: "\""))
        output.append(UInt8(ascii: ":"))
    }

    /// A string member; nil writes `null`.
    package mutating func string(_ name: StaticString, _ value: String?) {
        key(name)
        if let value { JSONValue.writeString(value, into: &output) } else { output.append(contentsOf: "null".utf8) }
    }

    /// An integer member; nil writes `null`.
    package mutating func integer(_ name: StaticString, _ value: Int?) {
        key(name)
        // Copied whole: a String's `utf8` view is appended byte by byte.
        var text = value.map(String.init) ?? "null"
        text.withUTF8 { output.append(contentsOf: $0) }
    }

    /// A member whose value the caller writes (an array, a nested object, a number in its own format).
    package mutating func member(_ name: StaticString, _ writeValue: (inout [UInt8]) -> Void) {
        key(name)
        writeValue(&output)
    }

    /// A nested object member, written into the same buffer (no intermediate array).
    package mutating func object(_ name: StaticString, _ body: (inout JSONObjectWriter) -> Void) {
        key(name)
        appendObject(body)
    }

    private mutating func appendObject(_ body: (inout JSONObjectWriter) -> Void) {
        var nested = JSONObjectWriter(nested: ())
        // Lend the buffer to the nested writer and take it back: no copy.
        swap(&nested.output, &output)
        nested.output.append(UInt8(ascii: "{"))
        body(&nested)
        nested.output.append(UInt8(ascii: "}"))
        swap(&nested.output, &output)
    }

    /// Closes the object and hands the buffer back to the `output` it was taken from.
    package consuming func finish(into output: inout [UInt8]) {
        self.output.append(UInt8(ascii: "}"))
        swap(&self.output, &output)
    }

    /// The object, closed.
    package consuming func finish() -> [UInt8] {
        output.append(UInt8(ascii: "}"))
        return output
    }
}
