/// A cross-border report written while its access lines are read, never held whole. `self` is the frame:
/// everything but the access lines, with `tally` (their summary, which comes before them) already worked
/// out. The bytes are the same as `rendered(_:)` gives for the report with those lines in `accesses`
/// (`CrossBorderStreamingTests` holds the two equal in every format).
///
/// The frame is written in two pieces around the lines (`StreamFrame`), and the lines in runs
/// (`encodeLines`) that a caller may encode on several threads at once and write in order: a run is encoded
/// as if it came first, and `StreamFrame.separator` goes between two runs that both hold lines.
extension CrossBorderReport {
    /// The bytes before the first access line and after the last.
    package struct StreamFrame: Sendable {
        package let head: [UInt8]
        /// What goes between the last line of one run and the first of the next (JSON's comma).
        package let separator: [UInt8]
        private let tailAfterLines: [UInt8]
        private let tailWithoutLines: [UInt8]

        init(head: [UInt8], separator: [UInt8], tailAfterLines: [UInt8], tailWithoutLines: [UInt8]) {
            self.head = head
            self.separator = separator
            self.tailAfterLines = tailAfterLines
            self.tailWithoutLines = tailWithoutLines
        }

        /// The rest of the report, `linesWritten`: whether any access line was written.
        package func tail(linesWritten: Bool) -> [UInt8] { linesWritten ? tailAfterLines : tailWithoutLines }
    }

    package func streamFrame(_ format: ReportFormat) -> StreamFrame {
        switch format {
        case .json:
            return jsonStreamFrame()
        case .csv:
            var head = CSVWriter()
            csvHead(into: &head)
            var tail = CSVWriter()
            csvTail(into: &tail)
            return StreamFrame(
                head: Array(head.text.utf8), separator: [], tailAfterLines: Array(tail.text.utf8),
                tailWithoutLines: Array(tail.text.utf8))
        case .html:
            return StreamFrame(
                head: Array(htmlHead().utf8), separator: [],
                tailAfterLines: Array(htmlTail(accessesWritten: true).utf8),
                tailWithoutLines: Array(htmlTail(accessesWritten: false).utf8))
        }
    }

    /// `lines` in `format`, each with the names in `names` (which must cover their tenants, destinations and
    /// rules), appended to `output` as the report writes them when the first of them is the report's first line.
    package func encodeLines(
        _ lines: some Collection<Access>, _ format: ReportFormat, names: ReportNames, into output: inout [UInt8]
    ) {
        switch format {
        case .json:
            var first = true
            var details: [ReportNames.BasisKey: [UInt8]] = [:]
            for access in lines {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                output.append(contentsOf: "\n    ".utf8)
                appendJSONLine(access, names: names, details: &details, into: &output)
            }
        case .csv:
            for access in lines { appendCSVLine(access, names: names, into: &output) }
        case .html:
            var scratch: [UInt8] = []
            for access in lines { appendHTMLLine(access, names: names, scratch: &scratch, into: &output) }
        }
    }

    /// Writes the report with its own `accesses` (a window's, held) to `output`, in runs, ending with a flush.
    package func stream(_ format: ReportFormat, to output: ReportOutput) throws {
        let frame = streamFrame(format)
        try output.write(bytes: frame.head)
        var run: [UInt8] = []
        var start = accesses.startIndex
        while start < accesses.endIndex {
            let end = min(accesses.endIndex, start + 256)
            run.removeAll(keepingCapacity: true)
            if start > accesses.startIndex { run.append(contentsOf: frame.separator) }
            encodeLines(accesses[start..<end], format, names: names, into: &run)
            try output.write(bytes: run)
            start = end
        }
        try output.write(bytes: frame.tail(linesWritten: !accesses.isEmpty))
        try output.flush()
    }

    /// The frame is encoded once with a marker string where the access array goes, and cut there: the lines
    /// go in its place, indented as `JSONValue`'s pretty form indents the second level.
    private func jsonStreamFrame() -> StreamFrame {
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
        let rest = [UInt8(ascii: "]")] + Array(frame[at.upperBound...])
        return StreamFrame(
            head: Array(frame[..<at.lowerBound]) + key + [UInt8(ascii: "[")], separator: [UInt8(ascii: ",")],
            tailAfterLines: Array("\n  ".utf8) + rest, tailWithoutLines: rest)
    }

    private static func firstRange(of needle: [UInt8], in haystack: [UInt8]) -> Range<Int>? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        for start in 0...(haystack.count - needle.count) where haystack[start] == needle[0] {
            if haystack[start..<(start + needle.count)].elementsEqual(needle) { return start..<(start + needle.count) }
        }
        return nil
    }
}
