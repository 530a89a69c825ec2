import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// A report page's figures come from the day rows `CrossBorderSummary` keeps, its lines from the ledger a page at
/// a time: both must be the full report's — for whole days, part days and one part day, per region, with the rows
/// folded in at many checkpoints or with part of the ledger not yet folded in, and after a store from before the
/// rows is upgraded.
@Suite struct CrossBorderSummaryTests {
    let directory: URL
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-summary-\(UUID())")
        controller = try MigrationTests.open(directory)
    }

    static let start: Int64 = 1_780_000_000_000  // 2026-05-28T20:26:40Z, mid-day
    static let day: Int64 = 86_400_000

    /// Four and a half days of uses, filings, decisions (one by its own filer), refusals and break-glass grants,
    /// signed in several checkpoints, with the clock stepping back an hour part way.
    func fill(count: Int) throws {
        for chunk in stride(from: 0, to: count, by: 700) {
            try controller.pool.write { database in
                let entries = AccessEntries(database: database)
                for i in chunk..<min(count, chunk + 700) {
                    var time = Self.start + Int64(i) * (Self.day * 9 / 2) / Int64(count)
                    if (1_000..<1_100).contains(i) { time -= 3_600_000 }
                    let request = "ar_test\(i % 30)"
                    let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W\(i % 7)"
                    let region = i % 5 == 0 ? "us" : "eu"
                    let staff = "s-\(i % 4)"
                    if i < 30 {
                        try entries.filed(
                            auto: i % 3 == 0, time: time, tenant: tenant, request: request, staff: staff,
                            justification: ["incident", "ticket", "audit"][i % 3], detail: "T-\(i)",
                            basis: ["scc", "idta"][i % 2], basisRule: "r\(i)")
                    }
                    if i == 500 || i == 1_300 {
                        try entries.approved(
                            time: time, by: "lead-\(i)", tenant: tenant, request: "ar_test1",
                            justification: "incident", detail: "approved at \(i)", basis: "scc")
                    }
                    if i == 900 {
                        // Decided by the token that filed it: counted among the grants decided by their filer.
                        try entries.approved(
                            time: time, by: "desk", tenant: tenant, request: "ar_test2", justification: "ticket",
                            basis: "idta")
                    }
                    switch i % 9 {
                    case 4:
                        try entries.refused(
                            time: time, tenant: tenant, region: region, staff: staff, country: "RU",
                            code: "forbidden_destination", rule: "no-ru")
                    case 7 where i % 63 == 7:
                        try entries.breakGlass(
                            time: time, tenant: tenant, region: region, request: "ar_glass\(i)", staff: staff,
                            country: "US", justification: "security_incident")
                    default: break
                    }
                    try entries.used(
                        time: time, tenant: tenant, region: region,
                        request: i % 63 == 8 ? "ar_glass\(i - 1)" : request, staff: staff,
                        country: ["US", "IN", "PH"][i % 3], dataClass: "customer_data", mode: "read",
                        resource: "contacts/\(i)")
                }
            }
            _ = try controller.ledger.signCheckpoint(force: true)
        }
    }

    /// The figures a report's summary shows, as text, so a difference prints readably.
    static func figures(_ report: CrossBorderReport) -> [String] {
        [
            "accesses \(report.accessCount)", "filer \(report.grantsDecidedByFiler)",
            "break-glass \(report.breakGlassCount)", "overdue \(report.overdueReviews)",
            "refused \(report.refusalCount)", "destination \(report.byDestination.map { "\($0.key)=\($0.count)" })",
            "basis \(report.byBasis.map { "\($0.key)=\($0.count)" })",
            "justification \(report.byJustification.map { "\($0.key)=\($0.count)" })",
            "staff \(report.byStaff.map { "\($0.key)=\($0.count)" })",
        ]
    }

    /// Every window and filter: the page's figures, its break-glass grants and refusals, and its lines read page
    /// after page, against the full report.
    func expectPagesMatchTheFullReport(pageLines: Int = 97) throws {
        let day = Self.day
        let midnight = (Self.start / day + 1) * day
        let windows: [(Int64, Int64)] = [
            (0, 2_000_000_000_000),  // everything
            (midnight, midnight + 3 * day),  // three whole days
            (midnight + day, midnight + 2 * day),  // one whole day
            (midnight - 5_000_000, midnight + 2 * day + 7_000_000),  // whole days with part days at both ends
            (midnight + 1_000, midnight + 9_000_000),  // within one day
            (midnight + 3 * day - 1_000, midnight + 3 * day + 1_000),  // across one midnight, no whole day
            (Self.start + 86_000_000, Self.start + 87_000_000),  // across the clock's step back
        ]
        for region in [nil, "us"] as [String?] {
            for (from, to) in windows {
                let label = "\(from)..<\(to) \(region ?? "all")"
                let full = try controller.reports.crossBorderReport(from: from, to: to, region: region, tenant: nil)
                var page = try controller.reports.crossBorderPage(
                    from: from, to: to, region: region, tenant: nil, after: nil, limit: pageLines)
                #expect(Self.figures(page.report) == Self.figures(full), "\(label)")
                #expect(page.report.breakGlass == Array(full.breakGlass.prefix(pageLines)), "\(label)")
                #expect(page.report.refusals == Array(full.refusals.prefix(pageLines)), "\(label)")
                try expectListsPageThrough(full, from: from, to: to, region: region, label: label)
                var lines = page.report.accesses
                var pages = 1
                while let next = page.nextAfter {
                    page = try controller.reports.crossBorderPage(
                        from: from, to: to, region: region, tenant: nil, after: next, limit: pageLines)
                    #expect(page.report.accesses.count <= pageLines)
                    lines += page.report.accesses
                    pages += 1
                }
                let sameLines = lines == full.accesses
                #expect(sameLines, "\(label): \(lines.count) lines in \(pages) pages, expected \(full.accesses.count)")
            }
        }
    }

    /// The break-glass grants and the refusals walked a few at a time, each list by its own cursor (the other's
    /// left where it is): every page within the limit with the full figures, and the pages together the full lists.
    func expectListsPageThrough(
        _ full: CrossBorderReport, from: Int64, to: Int64, region: String?, label: String
    ) throws {
        // About six pages of the longer list; never fewer than 4 rows a page.
        let rows = max(4, (max(full.breakGlass.count, full.refusals.count) + 5) / 6)
        func page(_ cursors: CrossBorderPageCursors) throws -> CrossBorderPage {
            let page = try controller.reports.crossBorderPage(
                from: from, to: to, region: region, tenant: nil, after: nil, limit: rows, cursors: cursors)
            #expect(page.report.breakGlass.count <= rows && page.report.refusals.count <= rows, "\(label)")
            #expect(Self.figures(page.report) == Self.figures(full), "\(label)")
            return page
        }
        var cursors = CrossBorderPageCursors()
        var current = try page(cursors)
        var glass = current.report.breakGlass
        while let next = current.nextBreakGlassAfter {
            cursors.breakGlass = next
            current = try page(cursors)
            #expect(current.report.refusals == Array(full.refusals.prefix(rows)), "\(label): refusals kept their place")
            glass += current.report.breakGlass
        }
        #expect(
            glass == full.breakGlass,
            "\(label): \(glass.count) break-glass grants paged, \(full.breakGlass.count) in all")
        cursors = CrossBorderPageCursors(breakGlass: full.breakGlass.first?.ledgerIndex)
        current = try page(cursors)
        var refused = current.report.refusals
        while let next = current.nextRefusalsAfter {
            cursors.refusals = next
            current = try page(cursors)
            #expect(current.report.breakGlass == Array(full.breakGlass.dropFirst().prefix(rows)), "\(label)")
            refused += current.report.refusals
        }
        #expect(refused == full.refusals, "\(label): \(refused.count) refusals paged, \(full.refusals.count) in all")
    }

    @Test func pagesOfAFoldedLedgerAreTheFullReport() throws {
        try fill(count: 3_000)
        #expect(
            try controller.pool.read { try ReportSummaryRepository($0).summarisedSize() }
                == controller.ledger.currentCheckpoint().size)
        let everything = try controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)
        // The fill has every shape the summary adds up.
        #expect(everything.grantsDecidedByFiler == 1)
        #expect(everything.byBasis.count == 3 && everything.byJustification.count == 4)
        #expect(everything.breakGlass.count > 8 && everything.refusals.count > 8)  // several pages of each
        try expectPagesMatchTheFullReport()
    }

    /// Part of the signed ledger not folded in yet (as after a fold bounded per checkpoint): the page reads that
    /// part from the ledger and its figures are still the full report's.
    @Test func aLedgerFoldedPartWayGivesTheSameFigures() throws {
        try fill(count: 2_000)
        let size = try controller.ledger.currentCheckpoint().size
        try controller.pool.write { database in
            try database.execute(
                "DELETE FROM report_access_days; DELETE FROM report_filer_grants; UPDATE report_summary_state SET size = 0"
            )
            #expect(try CrossBorderSummary.fold(in: database, below: size, limit: size / 3) == size / 3)
            #expect(try CrossBorderSummary.fold(in: database, below: size, limit: size / 3) == 2 * (size / 3))
        }
        try expectPagesMatchTheFullReport(pageLines: 250)
    }

    /// A store written before the day rows (schema version 11): the controller opening it adds up its whole signed
    /// ledger, and the figures are the full report's.
    @Test func aStoreFromBeforeTheDayRowsIsAddedUpWhenOpened() throws {
        try fill(count: 1_500)
        try controller.pool.write { database in
            try database.execute(
                """
                DROP TABLE report_access_days; DROP TABLE report_filer_grants; DROP TABLE report_summary_state;
                DROP INDEX tenants_region_id; DROP INDEX tenants_status;
                CREATE INDEX tenants_region_status ON tenants (region, status, id);
                CREATE INDEX tenants_status ON tenants (status, id);
                DROP TRIGGER ledger_nodes_no_update; DROP TRIGGER ledger_nodes_no_delete;
                CREATE TABLE ledger_nodes_by_level (
                    level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL CHECK (length(hash) = 32),
                    PRIMARY KEY (level, idx)
                ) STRICT, WITHOUT ROWID;
                INSERT INTO ledger_nodes_by_level SELECT level, (size >> level) - 1, hash FROM ledger_nodes;
                DROP TABLE ledger_nodes; ALTER TABLE ledger_nodes_by_level RENAME TO ledger_nodes;
                DROP TRIGGER tenant_location_inserted; DROP TRIGGER tenant_location_deleted;
                DROP TRIGGER tenant_location_updated; DROP TABLE tenant_location_changes;
                DROP TABLE tenant_location_log; DROP INDEX idempotency_keys_tenant; DROP INDEX migrations_tenant;
                PRAGMA user_version = 11
                """
            )
        }
        let reopened = try MigrationTests.open(directory)
        #expect(try reopened.pool.read { try $0.schemaVersion() } == Schema.latestVersion)
        #expect(
            try reopened.pool.read { try ReportSummaryRepository($0).summarisedSize() }
                == reopened.ledger.currentCheckpoint().size)
        let full = try reopened.reports.crossBorderReport(from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)
        let page = try reopened.reports.crossBorderPage(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, after: nil, limit: 10)
        #expect(full.accessCount == 1_500)
        #expect(Self.figures(page.report) == Self.figures(full))
        #expect(page.report.accesses == Array(full.accesses.prefix(10)))
    }

    /// A tenant's own report (the day rows are not kept per tenant; read off the tenant index) is the full
    /// report's, cut into pages — for any period and region.
    @Test func aTenantsReportIsPagedToo() throws {
        try fill(count: 800)
        let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W3"
        let midnight = (Self.start / Self.day + 1) * Self.day
        for (from, to, region) in [
            (0, 2_000_000_000_000, nil), (midnight, midnight + 2 * Self.day, nil),
            (midnight - 5_000_000, midnight + 9_000_000, "us"), (0, 2_000_000_000_000, "us"),
        ] as [(Int64, Int64, String?)] {
            let label = "\(from)..<\(to) \(region ?? "all")"
            let full = try controller.reports.crossBorderReport(from: from, to: to, region: region, tenant: tenant)
            var page = try controller.reports.crossBorderPage(
                from: from, to: to, region: region, tenant: tenant, after: nil, limit: 30)
            #expect(Self.figures(page.report) == Self.figures(full), "\(label)")
            #expect(page.report.refusals == full.refusals && page.report.breakGlass == full.breakGlass, "\(label)")
            var lines = page.report.accesses
            while let next = page.nextAfter {
                page = try controller.reports.crossBorderPage(
                    from: from, to: to, region: region, tenant: tenant, after: next, limit: 30)
                lines += page.report.accesses
            }
            #expect(lines == full.accesses, "\(label)")
            if region == nil && from == 0 { #expect(lines.count > 30) }
        }
    }
}
