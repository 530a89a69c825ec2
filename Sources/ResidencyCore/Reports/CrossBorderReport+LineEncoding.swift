/// The access lines of a streamed report encoded straight into bytes: a whole-history report writes millions of
/// them, and building a `JSONValue` tree, a `[String]` row or an HTML string per line cost more than reading the
/// ledger. Each writes exactly the bytes of the general rendering (`accessJSON`, `csvAccessRow`,
/// `htmlAccessRow`), which `CrossBorderStreamingTests` and `CrossBorderFoldedStreamTests` compare the streamed
/// report against; text that is not plain ASCII goes through the general escaping.
extension CrossBorderReport {
    /// One line of the JSON array, as `accessJSON(a, names:).write(into:pretty: true, indent: 2)` writes it.
    /// `details` keeps the encoded `basis_detail` of each rule met. The fixed text between the values (a comma,
    /// the indent, the member name) is appended as one piece from static bytes: appending it from a String's
    /// UTF-8 view piece by piece cost more than the values.
    func appendJSONLine(
        _ a: Access, names: Names, details: inout [ReportNames.BasisKey: [UInt8]], into out: inout [UInt8]
    ) {
        func fixed(_ text: StaticString) {
            out.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func string(_ key: StaticString, _ value: String) {
            fixed(key)
            JSONValue.writeString(value, into: &out)
        }
        func optional(_ key: StaticString, _ value: String?) {
            fixed(key)
            if let value { JSONValue.writeString(value, into: &out) } else { fixed("null") }
        }
        let grant = a.grant
        fixed("{\n      \"ledger_index\": ")
        Self.appendDecimal(a.ledgerIndex, to: &out)
        fixed(",\n      \"time\": \"")
        Timestamp.append(rfc3339: a.time, to: &out)
        out.append(UInt8(ascii: "\""))
        string(",\n      \"tenant\": ", a.tenant)
        string(",\n      \"region\": ", a.region)
        string(",\n      \"request\": ", a.request)
        string(",\n      \"staff\": ", a.staff)
        string(",\n      \"destination\": ", a.destination)
        string(",\n      \"data_class\": ", a.dataClass)
        string(",\n      \"mode\": ", a.mode)
        string(",\n      \"resource\": ", a.resource)
        string(",\n      \"justification\": ", grant.justification)
        string(",\n      \"ticket\": ", grant.ticket)
        string(",\n      \"basis\": ", grant.basis)
        string(",\n      \"basis_rule\": ", grant.basisRule)
        string(",\n      \"decision\": ", grant.decision)
        string(",\n      \"decided_by\": ", grant.decidedBy)
        fixed(grant.breakGlass ? ",\n      \"break_glass\": true" : ",\n      \"break_glass\": false")
        fixed(grant.decidedByFiler ? ",\n      \"decided_by_filer\": true" : ",\n      \"decided_by_filer\": false")
        optional(",\n      \"tenant_name\": ", names.tenants[a.tenant])
        optional(",\n      \"destination_name\": ", names.countries[a.destination])
        fixed(",\n      \"basis_detail\": ")
        let rule = ReportNames.BasisKey(region: a.region, rule: grant.basisRule)
        if let detail = details[rule] {
            out.append(contentsOf: detail)
        } else {
            var detail: [UInt8] = []
            Self.basisJSON(names.bases[rule]).write(into: &detail, pretty: true, indent: 3)
            details[rule] = detail
            out.append(contentsOf: detail)
        }
        fixed("\n    }")
    }

    /// One CSV row, as `CSVWriter.row(csvAccessRow(a, names:))` writes it.
    func appendCSVLine(_ a: Access, names: Names, into out: inout [UInt8]) {
        out.appendStatic("access,")
        Self.appendDecimal(a.ledgerIndex, to: &out)
        out.append(UInt8(ascii: ","))
        if Self.fourDigitYears.contains(a.time) {
            Timestamp.append(rfc3339: a.time, to: &out)
        } else {
            Self.appendCSVField(Self.time(a.time), to: &out)  // a year before 0 starts with "-"
        }
        // Field by field rather than through an array of the row's strings: no allocation per line.
        func field(_ value: String) {
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(value, to: &out)
        }
        let grant = a.grant
        field(a.tenant)
        field(a.region)
        field(a.request)
        field(a.staff)
        field(a.destination)
        field(a.dataClass)
        field(a.mode)
        field(grant.justification)
        field(grant.ticket)
        field(grant.basis)
        field(grant.basisRule)
        field(grant.decision)
        field(grant.decidedBy)
        if grant.decidedByFiler {
            out.appendStatic(",,,,,,true")
        } else {
            out.appendStatic(",,,,,,false")
        }
        field(names.tenants[a.tenant] ?? "")
        field(names.countries[a.destination] ?? "")
        if let basis = names.basis(region: a.region, rule: grant.basisRule) {
            field(basis.summary)
            if let module = basis.sccModule {
                out.append(UInt8(ascii: ","))
                Self.appendDecimal(module, to: &out)
            } else {
                out.append(UInt8(ascii: ","))
            }
            field(basis.contract ?? "")
            field(basis.impactAssessment ?? "")
            field(basis.reference ?? "")
            out.appendStatic(",\r\n")
        } else {
            out.appendStatic(",,,,,,\r\n")
        }
    }

    /// One row of the HTML access table, as `htmlAccessRow(a, names:)` writes it. The cells made of several
    /// pieces ("name (id)", "summary (rule r)", "decision by x") are put together in `scratch` (kept by the
    /// caller across lines) rather than as a new String per cell.
    func appendHTMLLine(_ a: Access, names: Names, scratch: inout [UInt8], into out: inout [UInt8]) {
        out.appendStatic("<tr><td class=\"n\">")
        Self.appendDecimal(a.ledgerIndex, to: &out)
        out.appendStatic("</td>")
        if Self.fourDigitYears.contains(a.time) {
            out.appendStatic("<td class=\"t\">")
            Timestamp.append(rfc3339: a.time, to: &out)
            out.appendStatic("</td>")
        } else {
            HTMLReport.appendCell(Self.time(a.time), numeric: false, to: &out)
        }
        func cell(_ text: String) { HTMLReport.appendCell(text, numeric: false, to: &out) }
        func composite(_ build: (inout [UInt8]) -> Void) {
            scratch.removeAll(keepingCapacity: true)
            build(&scratch)
            HTMLReport.appendCell(bytes: scratch, to: &out)
        }
        func named(_ name: String?, _ id: String) {
            guard let name else { return cell(id) }
            composite { text in
                text.appendUTF8(name)
                text.appendStatic(" (")
                text.appendUTF8(id)
                text.append(UInt8(ascii: ")"))
            }
        }
        let grant = a.grant
        named(names.tenants[a.tenant], a.tenant)
        cell(a.region)
        cell(a.staff)
        named(names.countries[a.destination], a.destination)
        cell(a.dataClass)
        cell(a.mode)
        cell(grant.justification)
        cell(grant.ticket)
        let summary = names.basis(region: a.region, rule: grant.basisRule)?.summary ?? grant.basis
        composite { text in
            text.appendUTF8(summary)
            text.appendStatic(" (rule ")
            text.appendUTF8(grant.basisRule)
            text.append(UInt8(ascii: ")"))
        }
        composite { text in
            text.appendUTF8(grant.decision)
            if !grant.decidedBy.isEmpty {
                text.appendStatic(" by ")
                text.appendUTF8(grant.decidedBy)
            }
            if grant.decidedByFiler { text.appendStatic(" (decided by its filer)") }
        }
        out.appendStatic("</tr>")
    }

    /// Times whose RFC 3339 form has a four-digit year (0000 to 9999): `YYYY-MM-DDTHH:MM:SS.fffZ`.
    static let fourDigitYears: Range<Int64> = -62_167_219_200_000..<253_402_300_800_000

    static func appendDecimal(_ value: Int, to out: inout [UInt8]) {
        guard value >= 0 else {
            out.append(contentsOf: String(value).utf8)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var value = value
            var start = 20
            repeat {
                start -= 1
                digits[start] = UInt8(48 + value % 10)
                value /= 10
            } while value > 0
            out.append(contentsOf: UnsafeBufferPointer(rebasing: digits[start...]))
        }
    }

    /// `CSVWriter.field(value)`: plain printable ASCII that no spreadsheet reads as a formula is copied as it
    /// is; anything else goes through `CSVWriter.field`.
    static func appendCSVField(_ value: String, to out: inout [UInt8]) {
        var value = value
        let plain = value.withUTF8 { bytes -> Bool in
            guard let first = bytes.first else { return true }
            if first == 0x20 || first == UInt8(ascii: "=") || first == UInt8(ascii: "+") || first == UInt8(ascii: "-")
                || first == UInt8(ascii: "@")
            {
                return false
            }
            for byte in bytes where byte < 0x20 || byte > 0x7E || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") {
                return false
            }
            out.append(contentsOf: bytes)
            return true
        }
        if !plain { out.append(contentsOf: CSVWriter.field(value).utf8) }
    }
}

extension HTMLReport {
    /// `<td…>escaped</td>` as `tableRow` writes a cell, straight into bytes for ASCII text (escaped byte by byte,
    /// which is what escaping by character does to ASCII), through `tableCell` otherwise.
    static func appendCell(_ cell: String, numeric: Bool, to out: inout [UInt8]) {
        var cell = cell
        let ascii = cell.withUTF8 { appendASCIICell($0, numeric: numeric, to: &out) }
        if !ascii { out.append(contentsOf: tableCell(cell, numeric: numeric).utf8) }
    }

    /// `appendCell` for a (non-numeric) cell whose UTF-8 text is `bytes`.
    static func appendCell(bytes: [UInt8], to out: inout [UInt8]) {
        let ascii = bytes.withUnsafeBufferPointer { appendASCIICell($0, numeric: false, to: &out) }
        if !ascii { out.append(contentsOf: tableCell(String(decoding: bytes, as: UTF8.self), numeric: false).utf8) }
    }

    /// Writes the cell and returns true when `bytes` is ASCII; writes nothing and returns false otherwise (text
    /// with other characters is escaped by character, as `tableCell` does: a quote followed by a combining mark
    /// is one character, not a quote).
    private static func appendASCIICell(_ bytes: UnsafeBufferPointer<UInt8>, numeric: Bool, to out: inout [UInt8])
        -> Bool
    {
        guard bytes.allSatisfy({ $0 < 0x80 }) else { return false }
        let isTime =
            bytes.count >= 20 && bytes[bytes.count - 1] == UInt8(ascii: "Z") && bytes[10] == UInt8(ascii: "T")
        out.appendStatic(numeric ? "<td class=\"n\">" : isTime ? "<td class=\"t\">" : "<td>")
        var runStart = 0
        for index in 0..<bytes.count {
            let replacement: StaticString
            switch bytes[index] {
            case UInt8(ascii: "&"): replacement = "&amp;"
            case UInt8(ascii: "<"): replacement = "&lt;"
            case UInt8(ascii: ">"): replacement = "&gt;"
            case UInt8(ascii: "\""): replacement = "&quot;"
            case UInt8(ascii: "'"): replacement = "&#39;"
            default: continue
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            out.append(
                contentsOf: UnsafeBufferPointer(start: replacement.utf8Start, count: replacement.utf8CodeUnitCount))
            runStart = index + 1
        }
        out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        out.appendStatic("</td>")
        return true
    }
}

extension [UInt8] {
    /// Appends fixed text from its static bytes (a String literal's `.utf8` is appended through a slower
    /// generic path).
    @inline(__always)
    fileprivate mutating func appendStatic(_ text: StaticString) {
        append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends a String's UTF-8 bytes from its contiguous storage in one copy.
    @inline(__always)
    fileprivate mutating func appendUTF8(_ text: String) {
        var text = text
        text.withUTF8 { append(contentsOf: $0) }
    }
}
