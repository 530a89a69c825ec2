import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// Text an attacker or a careless operator can put in a report — tenant names, staff ids, justifications,
/// tickets, resources — with quotes, commas, line breaks, markup, control characters, backslash escapes that
/// look like JSON's, non-ASCII and characters a spreadsheet reads as a formula. The streamed report (encoded
/// byte by byte on worker threads) must write exactly what the report rendered whole writes, each format must
/// carry the text back intact when read by its own rules, and the three must agree on the figures. (No NUL: the
/// day rows the summary is read from hold text as SQLite binds it, up to a NUL — see the notes of issue 23.)
@Suite struct CrossBorderHostileTextTests {
    let ledger: CrossBorderReportTests

    init() throws {
        ledger = try CrossBorderReportTests(clockStoppedAt: 1_790_000_000_000)
    }

    static let hostile: [String] = [
        "plain", "comma, inside", "\"quoted\" text", "line\nbreak", "carriage\r\nreturn", "quote and combining mark \"\u{301}, comma", "<script>alert(1)</script>",
        "a & b > c < d 'single'", "=SUM(A1:A9)", "+1", "-1", "@cmd", " leading space", "tab\there",
        "control \u{1}\u{7}\u{1F} bytes", "backslash \\ and \\u00e9 and \\ud800 and \\\"",
        "caf\u{E9} na\u{EF}ve \u{1F600}", "right-to-left \u{202E}override", "replacement \u{FFFD}", "",
        String(repeating: "long,\"", count: 300),
    ]

    /// A ledger whose every free-text field is one of `hostile`: filings (justification, ticket), uses (staff,
    /// resource, data class), refusals (message) and break-glass grants, for tenants with hostile names (as hostile
    /// as signup accepts: no control characters).
    func fillWithHostileText() throws -> [String: String] {
        var tenants: [String: String] = [:]
        for (i, name) in ["Acme \"Kft.\", <b>bold</b>", "O'Brien & Co; =1+1", "=caf\u{E9}, \u{1F600} \"q\""].enumerated() {
            let tenant = try ledger.controller.directory.signUp(
                Signup(name: name, plan: .paid, declaredCountry: CountryCode(["FR", "DE", "IE"][i]))
            ).tenant
            tenants[tenant.id] = name
        }
        let ids = tenants.keys.sorted() + ["tn_\"unknown\",<x>"]
        let hostile = Self.hostile
        try ledger.controller.pool.write { database in
            let entries = AccessEntries(database: database)
            for i in 0..<600 {
                let text = hostile[i % hostile.count]
                let tenant = ids[i % ids.count]
                let time = 1_780_000_000_000 + Int64(i) * 10
                let request = "ar_h\(i % 25)"
                if i < 25 {
                    try entries.filed(
                        auto: i % 2 == 0, time: time, tenant: tenant, request: request, justification: text,
                        detail: hostile[(i + 3) % hostile.count], basis: "scc",
                        basisRule: i % 3 == 0 ? "eu-to-us-scc" : hostile[(i + 5) % hostile.count])
                }
                if i == 300 {
                    try entries.approved(
                        time: time, by: "lead \"<x>\",\n", tenant: tenant, request: "ar_h1", justification: text,
                        detail: "approved, \"again\"\n<script>", basis: "scc")
                }
                if i % 50 == 7 {
                    try entries.refused(
                        time: time, tenant: tenant, region: "eu", staff: text, country: "RU",
                        code: "forbidden,\"code\"", rule: text, message: hostile[(i + 1) % hostile.count])
                }
                if i % 100 == 11 {
                    try entries.breakGlass(
                        time: time, tenant: tenant, region: "eu", request: "ar_glass\(i)", staff: text, country: "US",
                        justification: text)
                }
                try entries.used(
                    time: time + 1, tenant: tenant, region: "eu", request: request,
                    staff: hostile[(i + 7) % hostile.count], country: ["US", "IN", "PH", "Z\"<"][i % 4],
                    dataClass: hostile[(i + 9) % hostile.count], mode: i % 2 == 0 ? "read" : "wr,ite",
                    resource: hostile[(i + 11) % hostile.count])
            }
        }
        _ = try ledger.controller.ledger.signCheckpoint(force: true)
        return tenants
    }

    func streamed(_ format: ReportFormat, entriesPerSlice: Int, tenant: String? = nil) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try ledger.controller.reports.streamCrossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: tenant, format: format,
            to: ReportOutput(chunkSize: 1_000) { bytes += $0 }, entriesPerSlice: entriesPerSlice)
        return bytes
    }

    @Test func hostileTextIsWrittenAsTheWholeReportWritesIt() throws {
        let tenants = try fillWithHostileText()
        let whole = try ledger.controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)
        #expect(whole.accesses.count == 600)
        for format in ReportFormat.allCases {
            let expected = Array(whole.rendered(format).utf8)
            for slice in [1, 7, 50_000] {
                #expect(try streamed(format, entriesPerSlice: slice) == expected, "\(format), slices of \(slice)")
            }
        }
        // A tenant's report (read twice, no day rows) too.
        let one = try #require(tenants.keys.sorted().first)
        let wholeOne = try ledger.controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: one)
        for format in ReportFormat.allCases {
            #expect(try streamed(format, entriesPerSlice: 13, tenant: one) == Array(wholeOne.rendered(format).utf8))
        }
    }

    @Test func eachFormatCarriesTheTextBackAndTheFiguresAgree() throws {
        let tenants = try fillWithHostileText()
        let whole = try ledger.controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)

        // JSON: parsed back, every line's text is the ledger's.
        let json = try JSONParser.parse(try streamed(.json, entriesPerSlice: 7))
        guard case .array(let lines) = json["accesses"] ?? .null else { throw ReportFailure("no accesses") }
        #expect(lines.count == whole.accesses.count)
        for (line, access) in zip(lines, whole.accesses) {
            #expect(line["staff"] == .string(access.staff))
            #expect(line["resource"] == .string(access.resource))
            #expect(line["data_class"] == .string(access.dataClass))
            #expect(line["justification"] == .string(access.justification))
            #expect(line["ticket"] == .string(access.ticket))
            #expect(line["tenant_name"] == (tenants[access.tenant].map(JSONValue.string) ?? .null))
        }
        #expect(Set(whole.accesses.map(\.staff)).isSuperset(of: Self.hostile.filter { !$0.isEmpty }.prefix(5)))

        // CSV: read by RFC 4180's rules, the access rows give back the same fields.
        let csv = Self.csvRows(String(decoding: try streamed(.csv, entriesPerSlice: 7), as: UTF8.self))
        let header = try #require(csv.first)
        let column = { (name: String) throws -> Int in try #require(header.firstIndex(of: name)) }
        let accessRows = csv.filter { $0.first == "access" }
        #expect(accessRows.count == whole.accesses.count)
        #expect(accessRows.allSatisfy { $0.count == header.count })
        for (row, access) in zip(accessRows, whole.accesses) {
            #expect(row[try column("ledger_index")] == String(access.ledgerIndex))
            #expect(Self.csvText(row[try column("staff")]) == access.staff)
            #expect(Self.csvText(row[try column("justification")]) == access.justification)
            #expect(Self.csvText(row[try column("ticket")]) == access.ticket)
            #expect(Self.csvText(row[try column("tenant_name")]) == tenants[access.tenant] ?? "")
        }

        // HTML: no markup from the text survives; every access has its row.
        let html = String(decoding: try streamed(.html, entriesPerSlice: 7), as: UTF8.self)
        #expect(!html.contains("<script>alert"))
        #expect(!html.contains("<b>bold"))
        #expect(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"))
        for access in whole.accesses {
            #expect(html.contains("<tr><td class=\"n\">\(access.ledgerIndex)</td>"))
        }

        // The figures: the same count per destination in the three.
        var fromLines: [String: Int] = [:]
        for line in lines {
            if case .string(let destination)? = line["destination"] { fromLines[destination, default: 0] += 1 }
        }
        var fromJSONSummary: [String: Int] = [:]
        if case .object(let members)? = json["summary"]?["by_destination"] {
            for (key, value) in members { if case .number(let n) = value, let count = n.int64Value { fromJSONSummary[key] = Int(count) } }
        }
        var fromCSV: [String: Int] = [:]
        for row in csv where row.first == "by_destination" {
            fromCSV[Self.csvText(row[try column("key")])] = Int(row[try column("count")])
        }
        var fromCSVLines: [String: Int] = [:]
        for row in accessRows { fromCSVLines[Self.csvText(row[try column("destination")]), default: 0] += 1 }
        let expected = Dictionary(uniqueKeysWithValues: whole.byDestination.map { ($0.key, $0.count) })
        #expect(expected.count == 4 && expected.values.reduce(0, +) == 600)
        #expect(fromLines == expected)
        #expect(fromJSONSummary == expected)
        #expect(fromCSV == expected)
        #expect(fromCSVLines == expected)
        for (destination, count) in expected {
            let escaped = destination.replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(
                of: "<", with: "&lt;")
            #expect(html.contains(escaped) && html.contains(">\(count)</td>"))
        }
    }

    /// Rows and fields by RFC 4180: quoted fields may hold commas, quotes (doubled) and line breaks.
    static func csvRows(_ text: String) -> [[String]] {
        var rows: [[String]] = []
        var row: [String] = []
        var field = ""
        var quoted = false
        var characters = Array(text.unicodeScalars)[...]
        while let c = characters.popFirst() {
            if quoted {
                if c == "\"" {
                    if characters.first == "\"" {
                        field.unicodeScalars.append("\"")
                        characters.removeFirst()
                    } else {
                        quoted = false
                    }
                } else {
                    field.unicodeScalars.append(c)
                }
            } else if c == "\"" {
                quoted = true
            } else if c == "," {
                row.append(field)
                field = ""
            } else if c == "\r" && characters.first == "\n" {
                characters.removeFirst()
                row.append(field)
                rows.append(row)
                row = []
                field = ""
            } else {
                field.unicodeScalars.append(c)
            }
        }
        if !field.isEmpty || !row.isEmpty { rows.append(row + [field]) }
        return rows
    }

    /// A CSV field's text: the report guards a field a spreadsheet would read as a formula with a leading `'`
    /// (no text here starts with one of its own).
    static func csvText(_ field: String) -> String {
        field.hasPrefix("'") ? String(field.dropFirst()) : field
    }
}
