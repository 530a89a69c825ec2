import Foundation
import Testing

@testable import ResidencyStore

/// The day rows of the cross-border figures (schema version 12) on both backends: a store at version 11 upgrades
/// to them with nothing summarised, rows of one key add up and widen their index span, and a period's sums and
/// self-decided grants are read back per region or for all.
@Suite struct ReportSummaryRepositoryTests {
    @Test(arguments: StoreBackend.allCases)
    func aVersion11StoreUpgradesAndTheRowsAddUp(_ backend: StoreBackend) throws {
        guard let database = try backend.database(atVersion: 11) else { return }
        #expect(try database.schemaVersion() == 11)
        _ = try LedgerNodeKeyTests.writeLedgerInTheFormerLayout(database, count: 1)
        try database.migrate()
        #expect(try database.schemaVersion() == Schema.migrations.last?.version)
        let summary = ReportSummaryRepository(database)
        // An existing ledger starts unsummarised: the controller folds it in on its next start.
        #expect(try summary.summarisedSize() == 0)
        try database.write {
            func row(
                _ day: Int64, _ region: String, _ staff: String, _ count: Int, _ first: Int, _ last: Int
            )
                -> ReportSummaryRepository.DayRow
            {
                .init(
                    day: day, region: region, destination: "US", basis: "eu_scc", justification: "incident",
                    staff: staff, accesses: count, firstIndex: first, lastIndex: last)
            }
            try summary.add(row(20_000, "eu", "s-1", 2, 10, 20))
            try summary.add(row(20_000, "eu", "s-1", 3, 5, 15))  // same key: adds, span widens down
            try summary.add(row(20_001, "eu", "s-1", 1, 40, 40))
            try summary.add(row(20_001, "us", "s-2", 4, 30, 50))
            try summary.add(row(20_005, "us", "s-2", 7, 90, 99))  // outside the periods read below
            try summary.addFilerGrant(day: 20_000, region: "eu", request: "ar_1")
            try summary.addFilerGrant(day: 20_001, region: "eu", request: "ar_1")
            try summary.addFilerGrant(day: 20_001, region: "us", request: "ar_2")
            try summary.setSummarisedSize(100)
        }
        #expect(try summary.summarisedSize() == 100)
        let all = try summary.totals(days: 20_000..<20_002, region: nil).sorted { $0.staff < $1.staff }
        #expect(all.map(\.staff) == ["s-1", "s-2"])
        #expect(all.map(\.accesses) == [6, 4])
        #expect(all.map(\.firstIndex) == [5, 30])
        #expect(all.map(\.lastIndex) == [40, 50])
        let eu = try summary.totals(days: 20_000..<20_001, region: "eu")
        #expect(eu.map(\.accesses) == [5])
        #expect(eu.map(\.firstIndex) == [5])
        #expect(eu.map(\.lastIndex) == [20])
        #expect(try summary.filerGrants(days: 20_000..<20_002, region: nil).sorted() == ["ar_1", "ar_2"])
        #expect(try summary.filerGrants(days: 20_000..<20_002, region: "eu") == ["ar_1"])
        #expect(try summary.totals(days: 20_002..<20_005, region: nil).isEmpty)
    }
}
