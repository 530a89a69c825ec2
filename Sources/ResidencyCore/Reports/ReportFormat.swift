/// How a report is written: JSON for programs, CSV for spreadsheets, one self-contained HTML page for people.
package enum ReportFormat: String, Sendable, Hashable, CaseIterable {
    case json, csv, html

    package var contentType: String {
        switch self {
        case .json: return "application/json"
        case .csv: return "text/csv; charset=utf-8"
        case .html: return "text/html; charset=utf-8"
        }
    }
}

/// CSV as RFC 4180 and spreadsheets read it: CRLF line ends, fields quoted when they hold a comma, quote or
/// line break, and a leading `'` on any cell a spreadsheet could take for a formula (`mayBeReadAsFormula`).
struct CSVWriter {
    private(set) var text = ""

    mutating func row(_ fields: [String]) {
        text += fields.map(Self.field).joined(separator: ",") + "\r\n"
    }

    static func field(_ value: String) -> String {
        var value = value
        if mayBeReadAsFormula(value) { value = "'" + value }
        // By byte, not by Character: "\r\n" is one Character (equal to neither "\r" nor "\n"), and so is a
        // quote followed by a combining mark; compared by Character, a line break or a quote in the text got
        // through unquoted or undoubled and split or forged rows.
        let special: (UInt8) -> Bool = { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        guard value.utf8.contains(where: special) else { return value }
        var quoted: [UInt8] = [0x22]
        quoted.reserveCapacity(value.utf8.count + 8)
        for byte in value.utf8 {
            quoted.append(byte)
            if byte == 0x22 { quoted.append(0x22) }
        }
        quoted.append(0x22)
        return String(decoding: quoted, as: UTF8.self)
    }

    /// Whether the first character that counts is `=`, `+`, `-` or `@` (or their full-width forms). Spreadsheets
    /// skip leading blanks and invisible characters before deciding a cell is a formula, so they are skipped here
    /// too: whitespace of every kind (tab, CR, LF, no-break and ideographic spaces), control characters and
    /// format characters such as zero-width spaces and the byte-order mark. Plain integers (`-5`) stay numbers.
    static func mayBeReadAsFormula(_ value: String) -> Bool {
        if Int(value) != nil { return false }
        for scalar in value.unicodeScalars {
            let properties = scalar.properties
            if properties.isWhitespace || properties.generalCategory == .control
                || properties.generalCategory == .format
            {
                continue
            }
            return formulaStarts.contains(scalar)
        }
        return false
    }

    private static let formulaStarts: Set<Unicode.Scalar> = ["=", "+", "-", "@", "\u{FF1D}", "\u{FF0B}", "\u{FF0D}", "\u{FF20}"]
}

/// The pieces of the HTML reports: escaping, tables and horizontal bar charts drawn as inline SVG — no
/// script, font or style sheet from anywhere else, so the page reads and prints offline.
package enum HTMLReport {
    /// Per Unicode scalar, not per Character: a `<` or `"` followed by a combining mark is one Character that
    /// equals neither, and would pass unescaped.
    package static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func page(title: String, subtitle: String, body: String) -> String {
        pageHead(title: title, subtitle: subtitle) + body + pageTail
    }

    /// A page up to where its body starts, so a long report can write its body in pieces.
    static func pageHead(title: String, subtitle: String) -> String {
        """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(escape(title))</title>
        <style>
        body{font-family:system-ui,-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;margin:2rem;color:#1b1f24;max-width:72rem}
        h1{font-size:1.6rem;margin:0 0 .2rem}h2{font-size:1.15rem;margin:2rem 0 .5rem;border-bottom:1px solid #d0d7de;padding-bottom:.2rem}
        .sub{color:#57606a;margin:0 0 1rem}table{border-collapse:collapse;width:100%;font-size:.85rem;margin:.5rem 0}
        th,td{border:1px solid #d0d7de;padding:.25rem .45rem;text-align:left;vertical-align:top}th{background:#f6f8fa}
        td.n{text-align:right;font-variant-numeric:tabular-nums}td.t{white-space:nowrap}.charts{display:flex;flex-wrap:wrap;gap:1.5rem}
        .chart{flex:1 1 20rem}.note{font-family:ui-monospace,monospace;font-size:.75rem;white-space:pre-wrap;background:#f6f8fa;padding:.5rem}
        .overdue{color:#cf222e;font-weight:600}@media print{body{margin:0}h2{break-after:avoid}table{break-inside:auto}tr{break-inside:avoid}}
        @media (max-width:700px){body{margin:.75rem}table{display:block;overflow-x:auto}svg{max-width:100%;height:auto}p,.note{overflow-wrap:anywhere}}
        </style></head><body>
        <h1>\(escape(title))</h1><p class="sub">\(escape(subtitle))</p>

        """
    }

    static let pageTail = "\n</body></html>\n"

    /// A figure for people: 12,345 (ledger indexes are not passed through this: they are copied into commands).
    package static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (offset, digit) in digits.enumerated() {
            if offset > 0 && (digits.count - offset) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return (value < 0 ? "-" : "") + out
    }

    static func table(_ headers: [String], _ rows: [[String]], numeric: Set<Int> = []) -> String {
        var html = tableHead(headers)
        for row in rows { html += tableRow(row, numeric: numeric) }
        return html + tableEnd(columns: headers.count, empty: rows.isEmpty)
    }

    /// A table in pieces (head, rows, end), so a long one is written row by row.
    static func tableHead(_ headers: [String]) -> String {
        "<table><thead><tr>" + headers.map { "<th>\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
    }

    static func tableRow(_ row: [String], numeric: Set<Int>) -> String {
        var html = "<tr>"
        for (index, cell) in row.enumerated() { html += tableCell(cell, numeric: numeric.contains(index)) }
        return html + "</tr>"
    }

    static func tableCell(_ cell: String, numeric: Bool) -> String {
        // Timestamps never wrap: a time broken over two lines is misread.
        let isTime = cell.utf8.count >= 20 && cell.hasSuffix("Z") && cell.utf8.dropFirst(10).first == 0x54
        let kind = numeric ? " class=\"n\"" : isTime ? " class=\"t\"" : ""
        return "<td\(kind)>\(escape(cell))</td>"
    }

    /// `empty`: no row was written, so the table says "none".
    static func tableEnd(columns: Int, empty: Bool) -> String {
        (empty ? "<tr><td colspan=\"\(columns)\">none</td></tr>" : "") + "</tbody></table>"
    }

    /// A horizontal bar chart of `values` (at most `limit` bars), with labels and counts as SVG text.
    static func barChart(title: String, _ values: [(key: String, count: Int)], limit: Int = 12) -> String {
        let shown = Array(values.prefix(limit))
        let rowHeight = 22
        let labelWidth = 150
        let barWidth = 260
        let height = max(1, shown.count) * rowHeight + 28
        let maximum = max(1, shown.map(\.count).max() ?? 1)
        var svg = """
            <div class="chart"><svg xmlns="http://www.w3.org/2000/svg" width="\(labelWidth + barWidth + 60)" height="\(height)" viewBox="0 0 \(labelWidth + barWidth + 60) \(height)" role="img" aria-label="\(escape(title))">
            <text x="0" y="14" font-size="13" font-weight="600" fill="#1b1f24">\(escape(title))</text>
            """
        if shown.isEmpty {
            svg += "<text x=\"0\" y=\"40\" font-size=\"12\" fill=\"#57606a\">none</text>"
        }
        for (index, item) in shown.enumerated() {
            let y = 24 + index * rowHeight
            let width = max(2, item.count * barWidth / maximum)
            svg += """
                <text x="\(labelWidth - 6)" y="\(y + 14)" font-size="12" text-anchor="end" fill="#1b1f24">\(escape(item.key))</text>
                <rect x="\(labelWidth)" y="\(y + 3)" width="\(width)" height="15" fill="#0969da"/>
                <text x="\(labelWidth + width + 5)" y="\(y + 14)" font-size="12" fill="#1b1f24">\(grouped(item.count))</text>
                """
        }
        return svg + "</svg></div>"
    }
}
