import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// The cross-border report read in slices on several threads must be the report read in one pass, and
/// each access must carry its grant as the ledger stood at that access.
@Suite struct CrossBorderReportTests {
    let directory: URL
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-xborder-\(UUID())")
        controller = try MigrationTests.open(directory)
    }

    /// Writes `count` uses spread over 30 requests whose filings and decisions are interleaved with them.
    func fill(count: Int) throws {
        try controller.pool.write { database in
            for i in 0..<count {
                let request = "ar_test\(i % 30)"
                let time = 1_780_000_000_000 + Int64(i)
                let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W\(i % 7)"
                if i < 30 {
                    try Ledger.append(
                        in: database, time: time, kind: i % 3 == 0 ? "access.auto_approved" : "access.requested",
                        actor: "desk", tenant: tenant, region: "eu",
                        body: .object([
                            ("request", .string(request)), ("justification", .string("incident")),
                            ("detail", .string("T-\(i)")), ("basis", .string("scc")), ("basis_rule", .string("r\(i)")),
                        ]))
                }
                if i == 500 || i == 1_000 {
                    // Decisions part way through: earlier uses keep the grant as it was.
                    try Ledger.append(
                        in: database, time: time, kind: "access.approved", actor: "lead-\(i)", tenant: tenant,
                        region: "eu",
                        body: .object([
                            ("request", .string("ar_test1")), ("justification", .string("incident")),
                            ("detail", .string("T-1 approved at \(i)")), ("basis", .string("scc")),
                        ]))
                }
                try Ledger.append(
                    in: database, time: time, kind: "access.used", actor: "desk", tenant: tenant,
                    region: i % 5 == 0 ? "us" : "eu",
                    body: .object([
                        ("request", .string(request)), ("staff", .string("s-\(i % 4)")),
                        ("physical_country", .string(["US", "IN", "PH"][i % 3])),
                        ("data_class", .string("customer_data")),
                        ("mode", .string("read")), ("resource", .string("contacts/\(i)")),
                        ("note", .string("escaped \"quote\" and \\ slash")),
                    ]))
            }
        }
        _ = try controller.ledger.signCheckpoint(force: true)
    }

    @Test func slicedAndSinglePassReportsAreTheSame() throws {
        try fill(count: 3_000)
        for (region, tenant) in [(nil, nil), ("us", nil), (nil, "tn_01JH6Q8K4V3M2X9Z7Y5W3")] as [(String?, String?)] {
            let whole = try controller.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: region, tenant: tenant, entriesPerSlice: 1_000_000)
            let sliced = try controller.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: region, tenant: tenant, entriesPerSlice: 97)
            #expect(whole.accesses.count > 0)
            #expect(whole.accesses == sliced.accesses)
            #expect(whole.accesses.map(\.ledgerIndex) == whole.accesses.map(\.ledgerIndex).sorted())
        }
        let all = try controller.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, entriesPerSlice: 50)
        #expect(all.accesses.count == 3_000)
        #expect(all.byDestination.map(\.count) == [1_000, 1_000, 1_000])
    }

    @Test func eachAccessCarriesTheGrantAsItStoodThen() throws {
        try fill(count: 1_200)
        let report = try controller.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, entriesPerSlice: 64)
        let underOne = report.accesses.filter { $0.request == "ar_test1" }
        let early = try #require(underOne.first)
        #expect(early.decision == "pending")
        #expect(early.ticket == "T-1")
        let middle = try #require(underOne.first { $0.time > 1_780_000_000_500 && $0.time < 1_780_000_001_000 })
        #expect(middle.decision == "approved")
        #expect(middle.decidedBy == "lead-500")
        #expect(middle.ticket == "T-1 approved at 500")
        let late = try #require(underOne.last)
        #expect(late.decidedBy == "lead-1000")
        let auto = try #require(report.accesses.first { $0.request == "ar_test0" })
        #expect(auto.decision == "auto-approved")
        #expect(auto.decidedBy == "policy")
        #expect(auto.basisRule == "r0")
        #expect(auto.tenant == "tn_01JH6Q8K4V3M2X9Z7Y5W0")
    }

    @Test func aSliceThatCannotBeReadFailsTheReportInsteadOfDroppingLines() throws {
        try fill(count: 200)
        // A corrupt entry (written around the append path, as a damaged file would be) must not be skipped.
        try controller.pool.write { database in
            try database.execute("DROP TRIGGER ledger_entries_no_update")
            try database.execute("UPDATE ledger_entries SET entry = CAST('{\"kind\":' AS BLOB) WHERE idx = 150")
        }
        #expect(throws: JSONScanError.self) {
            _ = try controller.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, entriesPerSlice: 10)
        }
    }
}
