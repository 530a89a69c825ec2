/// A cross-border report written while its access lines are read, never held whole. `self` is the frame:
/// everything but the access lines, with `tally` (their summary, which comes before them) already worked
/// out. The bytes are the same as `rendered(_:)` gives for the report with those lines in `accesses`
/// (`CrossBorderStreamingTests` holds the two equal in every format).
extension CrossBorderReport {
    /// `accesses` calls its argument once per access line, in ledger order.
    package func stream(
        _ format: ReportFormat, to output: ReportOutput,
        accesses: ((Access) throws -> Void) throws -> Void
    ) throws {
        switch format {
        case .json: try streamJSON(to: output, accesses: accesses)
        case .csv:
            var head = CSVWriter()
            csvHead(into: &head)
            try output.write(head.text)
            try accesses { access in
                var row = CSVWriter()
                row.row(csvAccessRow(access))
                try output.write(row.text)
            }
            var tail = CSVWriter()
            csvTail(into: &tail)
            try output.write(tail.text)
        case .html:
            try output.write(htmlHead())
            var written = false
            try accesses { access in
                written = true
                try output.write(htmlAccessRow(access))
            }
            try output.write(htmlTail(accessesWritten: written))
        }
        try output.flush()
    }

    /// The frame is encoded once with a marker string where the access array goes, and the array is written
    /// element by element in its place, indented as `JSONValue`'s pretty form indents the second level.
    private func streamJSON(to output: ReportOutput, accesses: ((Access) throws -> Void) throws -> Void) throws {
        let marker = "\u{1}cross-border access lines\u{1}"
        // Found with its member name and indent: a quote inside a string is escaped, so no value in the frame
        // (a tenant filter, a checkpoint note) can hold these bytes.
        let key = Array("\n  \"accesses\": ".utf8)
        var quoted = key
        JSONValue.writeString(marker, into: &quoted)
        let frame = jsonValue(accesses: .string(marker)).encodedBytes(pretty: true) + [UInt8(ascii: "\n")]
        guard let at = Self.firstRange(of: quoted, in: frame) else {
            preconditionFailure("the report's JSON frame lost its access marker")
        }
        try output.write(bytes: Array(frame[..<at.lowerBound]) + key + [UInt8(ascii: "[")])
        var first = true
        var line: [UInt8] = []
        try accesses { access in
            line.removeAll(keepingCapacity: true)
            if !first { line.append(UInt8(ascii: ",")) }
            first = false
            line.append(contentsOf: "\n    ".utf8)
            accessJSON(access).write(into: &line, pretty: true, indent: 2)
            try output.write(bytes: line)
        }
        try output.write(bytes: (first ? [] : Array("\n  ".utf8)) + [UInt8(ascii: "]")] + Array(frame[at.upperBound...]))
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
        }
        return nil
    }
}
