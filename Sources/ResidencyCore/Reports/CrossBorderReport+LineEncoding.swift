/// The access lines of a streamed report encoded straight into bytes: a whole-history report writes millions of
/// them, and building a `JSONValue` tree, a `[String]` row or an HTML string per line cost more than reading the
/// ledger. Each writes exactly the bytes of the general rendering (`accessJSON`, `csvAccessRow`,
/// `htmlAccessRow`), which `CrossBorderStreamingTests` and `CrossBorderFoldedStreamTests` compare the streamed
/// report against; text that is not plain ASCII goes through the general escaping.
extension CrossBorderReport {
    /// One line of the JSON array, as `accessJSON(a, names:).write(into:pretty: true, indent: 2)` writes it.
    /// `details` keeps the encoded `basis_detail` of each rule met.
    func appendJSONLine(
        _ a: Access, names: Names, details: inout [ReportNames.BasisKey: [UInt8]], into out: inout [UInt8]
    ) {
        func key(_ name: StaticString, first: Bool = false) {
            if !first { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: "\n      \"".utf8)
            out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
            out.append(contentsOf: "\": ".utf8)
        }
        func string(_ name: StaticString, _ value: String) {
            key(name)
            JSONValue.writeString(value, into: &out)
        }
        func optional(_ name: StaticString, _ value: String?) {
            key(name)
            if let value { JSONValue.writeString(value, into: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }
        out.append(UInt8(ascii: "{"))
        key("ledger_index", first: true)
        Self.appendDecimal(a.ledgerIndex, to: &out)
        key("time")
        out.append(UInt8(ascii: "\""))
        Timestamp.append(rfc3339: a.time, to: &out)
        out.append(UInt8(ascii: "\""))
        string("tenant", a.tenant)
        string("region", a.region)
        string("request", a.request)
        string("staff", a.staff)
        string("destination", a.destination)
        string("data_class", a.dataClass)
        string("mode", a.mode)
        string("resource", a.resource)
        string("justification", a.justification)
        string("ticket", a.ticket)
        string("basis", a.basis)
        string("basis_rule", a.basisRule)
        string("decision", a.decision)
        string("decided_by", a.decidedBy)
        bool("break_glass", a.breakGlass)
        bool("decided_by_filer", a.decidedByFiler)
        optional("tenant_name", names.tenants[a.tenant])
        optional("destination_name", names.countries[a.destination])
        key("basis_detail")
        let rule = ReportNames.BasisKey(region: a.region, rule: a.basisRule)
        if let detail = details[rule] {
            out.append(contentsOf: detail)
        } else {
            var detail: [UInt8] = []
            Self.basisJSON(names.bases[rule]).write(into: &detail, pretty: true, indent: 3)
            details[rule] = detail
            out.append(contentsOf: detail)
        }
        out.append(contentsOf: "\n    }".utf8)
    }

    /// One CSV row, as `CSVWriter.row(csvAccessRow(a, names:))` writes it.
    func appendCSVLine(_ a: Access, names: Names, into out: inout [UInt8]) {
        out.append(contentsOf: "access,".utf8)
        Self.appendDecimal(a.ledgerIndex, to: &out)
        out.append(UInt8(ascii: ","))
        if Self.fourDigitYears.contains(a.time) {
            Timestamp.append(rfc3339: a.time, to: &out)
        } else {
            Self.appendCSVField(Self.time(a.time), to: &out)  // a year before 0 starts with "-"
        }
        for value in [
            a.tenant, a.region, a.request, a.staff, a.destination, a.dataClass, a.mode, a.justification, a.ticket,
            a.basis, a.basisRule, a.decision, a.decidedBy,
        ] {
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(value, to: &out)
        }
        out.append(contentsOf: ",,,,,,".utf8)
        out.append(contentsOf: (a.decidedByFiler ? "true" : "false").utf8)
        let basis = names.basis(region: a.region, rule: a.basisRule)
        for value in [
            names.tenants[a.tenant] ?? "", names.countries[a.destination] ?? "", basis?.summary ?? "",
            basis?.sccModule.map(String.init) ?? "", basis?.contract ?? "", basis?.impactAssessment ?? "",
            basis?.reference ?? "", "",
        ] {
            out.append(UInt8(ascii: ","))
            Self.appendCSVField(value, to: &out)
        }
        out.append(contentsOf: "\r\n".utf8)
    }

    /// One row of the HTML access table, as `htmlAccessRow(a, names:)` writes it.
    func appendHTMLLine(_ a: Access, names: Names, into out: inout [UInt8]) {
        out.append(contentsOf: "<tr><td class=\"n\">".utf8)
        Self.appendDecimal(a.ledgerIndex, to: &out)
        out.append(contentsOf: "</td>".utf8)
        if Self.fourDigitYears.contains(a.time) {
            out.append(contentsOf: "<td class=\"t\">".utf8)
            Timestamp.append(rfc3339: a.time, to: &out)
            out.append(contentsOf: "</td>".utf8)
        } else {
            HTMLReport.appendCell(Self.time(a.time), numeric: false, to: &out)
        }
        let basis = names.basis(region: a.region, rule: a.basisRule)
        for cell in [
            names.tenants[a.tenant].map { "\($0) (\(a.tenant))" } ?? a.tenant, a.region, a.staff,
            names.countries[a.destination].map { "\($0) (\(a.destination))" } ?? a.destination, a.dataClass, a.mode,
            a.justification, a.ticket, (basis?.summary ?? a.basis) + " (rule \(a.basisRule))",
            a.decision + (a.decidedBy.isEmpty ? "" : " by \(a.decidedBy)")
                + (a.decidedByFiler ? " (decided by its filer)" : ""),
        ] {
            HTMLReport.appendCell(cell, numeric: false, to: &out)
        }
        out.append(contentsOf: "</tr>".utf8)
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
        let ascii = cell.withUTF8 { bytes -> Bool in
            guard bytes.allSatisfy({ $0 < 0x80 }) else { return false }
            let isTime =
                bytes.count >= 20 && bytes[bytes.count - 1] == UInt8(ascii: "Z") && bytes[10] == UInt8(ascii: "T")
            out.append(contentsOf: (numeric ? "<td class=\"n\">" : isTime ? "<td class=\"t\">" : "<td>").utf8)
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
            out.append(contentsOf: "</td>".utf8)
            return true
        }
        if !ascii { out.append(contentsOf: tableCell(cell, numeric: numeric).utf8) }
    }
}
