import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// A ledger entry the report cannot read — an access without its body, a filing without its body — stops the
/// report with an error naming the entry, in every way the report is read, rather than a report that quietly
/// leaves the access out (or lists it under an empty grant).
@Suite struct CrossBorderDamagedEntryTests {
    let ledger: CrossBorderReportTests

    init() throws {
        ledger = try CrossBorderReportTests(clockStoppedAt: 1_790_000_000_000)
    }

    /// Strips the body of the first entry of `kind` past `after`, as damage to the stored bytes would (the
    /// append-only trigger is dropped to do it). Returns the entry's index.
    func damage(kind: LedgerKind, after: Int) throws -> Int {
        try ledger.controller.pool.write { database -> Int in
            var found: Int?
            try LedgerRepository(database).forEachEntry(kind: kind.rawValue, indices: (after + 1)..<Int(Int32.max)) {
                index, _ in found = found ?? index
            }
            let index = try #require(found)
            try database.execute("DROP TRIGGER ledger_entries_no_update")
            try database.execute(
                """
                UPDATE ledger_entries SET entry = CAST(json_remove(CAST(entry AS TEXT), '$.body') AS BLOB)
                WHERE idx = \(index)
                """)
            return index
        }
    }

    func expectNamed(_ index: Int, _ kind: LedgerKind, _ body: () throws -> Void) {
        do {
            try body()
            Issue.record("the report was written over a damaged entry \(index)")
        } catch let error as ControllerError {
            guard case .storage(let message) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(message.contains("ledger entry \(index) (\(kind.rawValue)) has no body object"), "\(message)")
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    func everyWay(_ index: Int, _ kind: LedgerKind) {
        let reports = ledger.controller.reports
        for format in ReportFormat.allCases {
            expectNamed(index, kind) {
                try reports.streamCrossBorderReport(
                    from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, format: format,
                    to: ReportOutput { _ in }, entriesPerSlice: 97)
            }
        }
        expectNamed(index, kind) {
            _ = try reports.crossBorderReport(from: 0, to: 2_000_000_000_000, region: nil, tenant: nil)
        }
        // A tenant's report (no day rows: the summary pass reads the entries too).
        expectNamed(index, kind) {
            try reports.streamCrossBorderReport(
                from: 0, to: 2_000_000_000_000, region: nil, tenant: "tn_01JH6Q8K4V3M2X9Z7Y5W\(index % 7)",
                format: .csv, to: ReportOutput { _ in }, entriesPerSlice: 97)
        }
    }

    @Test func anAccessWithoutItsBodyIsNamed() throws {
        try ledger.fill(count: 1_000)
        let index = try damage(kind: .accessUsed, after: 400)
        everyWay(index, .accessUsed)
        // A window over it, read through the indexes.
        expectNamed(index, .accessUsed) {
            _ = try ledger.controller.reports.crossBorderReport(
                from: 1_780_000_000_300, to: 1_780_000_000_600, region: nil, tenant: nil)
        }
    }

    @Test func aFilingWithoutItsBodyIsNamed() throws {
        try ledger.fill(count: 1_000)
        let index = try damage(kind: .accessRequested, after: 0)
        everyWay(index, .accessRequested)
    }

    /// An undamaged ledger is reported as before (the check does not refuse good entries).
    @Test func anUndamagedLedgerIsReported() throws {
        try ledger.fill(count: 300)
        var bytes = 0
        try ledger.controller.reports.streamCrossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, format: .csv,
            to: ReportOutput { bytes += $0.count }, entriesPerSlice: 97)
        #expect(bytes > 300 * 50)
    }
}
