import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// A streamed report over a period that takes in every access adds its summary up from the day rows
/// (`ReportService.foldedTally`) instead of reading the ledger twice. These tests hold it byte for byte equal to
/// the same report with the summary read from the ledger and to the report built whole, over generated
/// histories: times out of ledger order, accesses either side of midnight, periods starting and ending inside a
/// folded day, part of the ledger not folded in, filings and decisions (some by their own filer), refusals and
/// break-glass grants, tenants that exist and ones that do not, and one region or all.
@Suite struct CrossBorderFoldedStreamTests {
    let directory: URL
    let controller: Controller
    static let start: Int64 = 1_780_000_000_000  // 2026-05-28T20:26:40Z, mid-day
    static let day: Int64 = 86_400_000

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-folded-\(UUID())")
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(directory: DataDirectory(directory)),
            clock: Clock { 1_790_000_000_000 }, dataDirectory: directory)
    }

    /// Times spread over `days` days from `start` with random steps back; a checkpoint signed every few hundred
    /// entries. Returns the earliest and latest access times.
    @discardableResult
    func generate(count: Int, days: Int64, seed: UInt64) throws -> (earliest: Int64, latest: Int64) {
        var random = FoldedHistorySeed(state: seed)
        let tenants =
            try (0..<3).map { i in
                try controller.directory.signUp(Signup(name: "Folded \(i)", plan: .paid, declaredCountry: CountryCode("DE")))
                    .tenant.id
            } + ["tn_01JH6Q8K4V3M2X9Z7Y5W1", "tn_01JH6Q8K4V3M2X9Z7Y5W2"]
        let countries = ["US", "IN", "PH", "GB", "ZA"]
        let rules = ["eu-us-scc", "eu-asia-pacific-scc", "eu-adequacy", "no-such-rule"]
        var filed = Set<Int>()
        var earliest = Int64.max
        var latest = Int64.min
        var i = 0
        while i < count {
            let batch = min(count - i, Int.random(in: 50...400, using: &random))
            try controller.pool.write { database in
                for j in i..<(i + batch) {
                    var time = Self.start + Int64(j) * days * Self.day / Int64(count)
                    if Int.random(in: 0..<10, using: &random) == 0 { time -= Int64.random(in: 0...7_200_000, using: &random) }
                    let tenant = tenants[Int.random(in: 0..<tenants.count, using: &random)]
                    let region = Int.random(in: 0..<4, using: &random) == 0 ? "us" : "eu"
                    let request = Int.random(in: 0..<40, using: &random)
                    let staff = "s-\(request % 5)"
                    if !filed.contains(request) || Int.random(in: 0..<60, using: &random) == 0 {
                        filed.insert(request)
                        let breakGlass = request % 13 == 0
                        try Ledger.append(
                            in: database, time: time,
                            kind: breakGlass ? .accessBreakGlass : request % 3 == 0 ? .accessAutoApproved : .accessRequested,
                            actor: "desk", tenant: tenant, region: region,
                            body: .object([
                                ("request", .string("ar_f\(request)")), ("staff", .string(staff)),
                                ("physical_country", .string(countries[request % countries.count])),
                                ("justification", .string(["incident", "ticket", "audit, \"quoted\""][request % 3])),
                                ("detail", .string(["T-\(j)", "=HYPERLINK(\"x\")", " -5", "Zoë's <b>ticket</b>\r\nnext", "-7", "e\u{301}&"][request % 6])), ("basis", .string(["scc", "adequacy"][request % 2])),
                                ("basis_rule", .string(rules[request % rules.count])), ("break_glass", .bool(breakGlass)),
                            ]))
                    }
                    switch Int.random(in: 0..<40, using: &random) {
                    case 0:
                        // A decision: by a lead, or by the token that filed it (a grant decided by its filer).
                        try Ledger.append(
                            in: database, time: time,
                            kind: [LedgerKind.accessApproved, .accessDenied, .accessDismissed][request % 3],
                            actor: request % 2 == 0 ? "desk" : "lead", tenant: tenant, region: region,
                            body: .object([
                                ("request", .string("ar_f\(request)")), ("justification", .string("decided at \(j)")),
                                ("basis", .string("scc")), ("basis_rule", .string(rules[(request + 1) % rules.count])),
                            ]))
                    case 1:
                        try Ledger.append(
                            in: database, time: time, kind: .accessRefused, actor: "desk", tenant: tenant,
                            region: region,
                            body: .object([
                                ("staff", .string(staff)), ("physical_country", .string("RU")),
                                ("code", .string("forbidden_destination")), ("rule", .string("eu-sanctioned")),
                            ]))
                    default: break
                    }
                    try Ledger.append(
                        in: database, time: time, kind: .accessUsed, actor: "desk", tenant: tenant, region: region,
                        body: .object([
                            ("request", .string("ar_f\(request)")), ("staff", .string(staff)),
                            ("physical_country", .string(countries[Int.random(in: 0..<countries.count, using: &random)])),
                            ("data_class", .string("customer_data")), ("mode", .string("read")),
                            ("resource", .string("contacts/\(j)")),
                        ]))
                    earliest = min(earliest, time)
                    latest = max(latest, time)
                }
            }
            _ = try controller.ledger.signCheckpoint(force: true)
            i += batch
        }
        return (earliest, latest)
    }

    func streamed(
        _ format: ReportFormat, from: Int64, to: Int64, region: String?, useDayRows: Bool, slice: Int
    ) throws -> [UInt8] {
        var bytes: [UInt8] = []
        let output = ReportOutput(chunkSize: 1_000) { bytes += $0 }
        try controller.reports.prepareCrossBorderReport(
            from: from, to: to, region: region, tenant: nil, entriesPerSlice: slice, useDayRows: useDayRows
        ).write(format, to: output)
        return bytes
    }

    /// Every covering period (starting and ending mid-day, at the first and last access, or far out), each region
    /// and format: the summary from the day rows is the one read from the ledger, and the bytes are the same.
    func expectFoldedReportsMatch(_ span: (earliest: Int64, latest: Int64), label: String) throws {
        let periods: [(Int64, Int64)] = [
            (0, 2_000_000_000_000),
            (span.earliest, span.latest + 1),  // both ends inside a folded day, at its first and last access
            ((span.earliest / Self.day) * Self.day, (span.latest / Self.day + 1) * Self.day),  // whole days
            (span.earliest - 1, span.latest + Self.day),
        ]
        for region in [nil, "us"] as [String?] {
            for (from, to) in periods {
                let what = "\(label) \(from)..<\(to) \(region ?? "all")"
                let filter = CrossBorderFilter(from: from, to: to, region: region, tenant: nil)
                let folded = try #require(
                    try controller.reports.foldedTally(filter: filter, entriesPerSlice: 97), "\(what)")
                let full = try controller.reports.crossBorderReport(from: from, to: to, region: region, tenant: nil)
                let fromRows = CrossBorderReport(
                    from: from, to: to, region: region, tenant: nil, generatedAt: 0, policyVersion: "",
                    checkpoint: full.checkpoint, accesses: [], breakGlass: full.breakGlass, refusals: full.refusals,
                    tally: folded.1)
                #expect(CrossBorderSummaryTests.figures(fromRows) == CrossBorderSummaryTests.figures(full), "\(what)")
                #expect(folded.0.size == full.checkpoint.size, "\(what)")
                for format in ReportFormat.allCases {
                    let whole = Array(full.rendered(format).utf8)
                    for slice in [97, 50_000] {
                        let rows = try streamed(
                            format, from: from, to: to, region: region, useDayRows: true, slice: slice)
                        let scanned = try streamed(
                            format, from: from, to: to, region: region, useDayRows: false, slice: slice)
                        #expect(rows == scanned, "\(what) \(format) slice \(slice): day rows against two passes")
                        #expect(rows == whole, "\(what) \(format) slice \(slice): streamed against whole")
                    }
                }
            }
        }
    }

    @Test func theDayRowsGiveTheScannedReportOverGeneratedHistories() throws {
        let span = try generate(count: 2_500, days: 4, seed: 7)
        #expect(
            try controller.pool.read { try ReportSummaryRepository($0).summarisedSize() }
                == controller.ledger.currentCheckpoint().size)
        let whole = try controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)
        // The history has every shape the summary adds up and the lines name.
        #expect(whole.grantsDecidedByFiler > 0 && !whole.breakGlass.isEmpty && !whole.refusals.isEmpty)
        #expect(Set(whole.accesses.map(\.decision)).count >= 4)
        #expect(!whole.names.tenants.isEmpty && whole.names.tenants.count < Set(whole.accesses.map(\.tenant)).count)
        #expect(!whole.names.bases.isEmpty)
        try expectFoldedReportsMatch(span, label: "folded")
    }

    /// All of one day (many accesses either side of the period's ends inside it), and a second history folded
    /// only part way: the rest is read from the ledger.
    @Test func aLedgerFoldedPartWayAndOneDayGiveTheSame() throws {
        let span = try generate(count: 1_500, days: 0, seed: 11)
        #expect(span.earliest / Self.day == span.latest / Self.day)
        let size = try controller.ledger.currentCheckpoint().size
        try controller.pool.write { database in
            try database.execute(
                "DELETE FROM report_access_days; DELETE FROM report_filer_grants; UPDATE report_summary_state SET size = 0"
            )
            #expect(try CrossBorderSummary.fold(in: database, below: size, limit: size / 2 + 13) == size / 2 + 13)
        }
        try expectFoldedReportsMatch(span, label: "half folded")
        try controller.pool.write { database in
            try database.execute(
                "DELETE FROM report_access_days; DELETE FROM report_filer_grants; UPDATE report_summary_state SET size = 0"
            )
        }
        try expectFoldedReportsMatch(span, label: "nothing folded")
    }

    /// A period that leaves out an access — as one recorded after the caller looked, with a time outside it,
    /// would be — is not added up from the day rows (a row of its day would count it); nor is a tenant's report.
    @Test func theDayRowsAreNotUsedWhenTheyWouldCountTooMuch() throws {
        let span = try generate(count: 600, days: 2, seed: 3)
        let inside = CrossBorderFilter(from: span.earliest, to: span.latest + 1, region: nil, tenant: nil)
        #expect(try controller.reports.foldedTally(filter: inside, entriesPerSlice: 50_000) != nil)
        let cut = CrossBorderFilter(from: span.earliest + 1, to: span.latest + 1, region: nil, tenant: nil)
        #expect(try controller.reports.foldedTally(filter: cut, entriesPerSlice: 50_000) == nil)
        let early = CrossBorderFilter(from: span.earliest, to: span.latest, region: nil, tenant: nil)
        #expect(try controller.reports.foldedTally(filter: early, entriesPerSlice: 50_000) == nil)
        let tenant = CrossBorderFilter(from: 0, to: 2_000_000_000_000, region: nil, tenant: "tn_01JH6Q8K4V3M2X9Z7Y5W1")
        #expect(try controller.reports.foldedTally(filter: tenant, entriesPerSlice: 50_000) == nil)
    }
}

/// SplitMix64: the same history from the same seed, so a failure can be replayed.
private struct FoldedHistorySeed: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
