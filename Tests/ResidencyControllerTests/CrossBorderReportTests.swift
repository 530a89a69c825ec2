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
            let entries = AccessEntries(database: database)
            for i in 0..<count {
                let request = "ar_test\(i % 30)"
                let time = 1_780_000_000_000 + Int64(i)
                let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W\(i % 7)"
                if i < 30 {
                    try entries.filed(
                        auto: i % 3 == 0, time: time, tenant: tenant, request: request, justification: "incident",
                        detail: "T-\(i)", basis: "scc", basisRule: "r\(i)")
                }
                if i == 500 || i == 1_000 {
                    // Decisions part way through: earlier uses keep the grant as it was.
                    try entries.approved(
                        time: time, by: "lead-\(i)", tenant: tenant, request: "ar_test1", justification: "incident",
                        detail: "T-1 approved at \(i)", basis: "scc")
                }
                try entries.used(
                    time: time, tenant: tenant, region: i % 5 == 0 ? "us" : "eu", request: request,
                    staff: "s-\(i % 4)", country: ["US", "IN", "PH"][i % 3], dataClass: "customer_data", mode: "read",
                    resource: "contacts/\(i)", note: "escaped \"quote\" and \\ slash")
            }
        }
        _ = try controller.ledger.signCheckpoint(force: true)
    }

    @Test func slicedAndSinglePassReportsAreTheSame() throws {
        try fill(count: 3_000)
        for (region, tenant) in [(nil, nil), ("us", nil), (nil, "tn_01JH6Q8K4V3M2X9Z7Y5W3")] as [(String?, String?)] {
            let whole = try controller.reports.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: region, tenant: tenant, entriesPerSlice: 1_000_000)
            let sliced = try controller.reports.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: region, tenant: tenant, entriesPerSlice: 97)
            #expect(whole.accesses.count > 0)
            #expect(whole.accesses == sliced.accesses)
            #expect(whole.accesses.map(\.ledgerIndex) == whole.accesses.map(\.ledgerIndex).sorted())
        }
        let all = try controller.reports.crossBorderReport(
            from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, entriesPerSlice: 50)
        #expect(all.accesses.count == 3_000)
        #expect(all.byDestination.map(\.count) == [1_000, 1_000, 1_000])
    }

    @Test func eachAccessCarriesTheGrantAsItStoodThen() throws {
        try fill(count: 1_200)
        let report = try controller.reports.crossBorderReport(
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

    /// Uses, filings, decisions, refusals at filing and at use, and break-glass grants, with the clock
    /// stepping back part way (entries 400-499 are stamped a second earlier than those before them).
    func fillWithEverything(count: Int) throws {
        try fill(count: count)
        try controller.pool.write { database in
            let entries = AccessEntries(database: database)
            for i in 0..<count {
                var time = 1_780_000_010_000 + Int64(i) * 3
                if (400..<500).contains(i) { time -= 1_000 }
                let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W\(i % 7)"
                let region = i % 5 == 0 ? "us" : "eu"
                let staff = "s-\(i % 4)"
                switch i % 4 {
                case 0:
                    try entries.refused(
                        time: time, tenant: tenant, region: region, staff: staff, country: "RU",
                        code: "forbidden_destination", rule: "no-ru")
                case 1:
                    try entries.useRefused(
                        time: time, tenant: tenant, region: region, request: "ar_test\(i % 30)", staff: staff,
                        country: "IN", refusal: "outside_scope")
                case 2 where i % 40 == 2:
                    try entries.breakGlass(
                        time: time, tenant: tenant, region: region, request: "ar_glass\(i)", staff: staff,
                        country: "US", justification: "security_incident")
                default:
                    try entries.used(
                        time: time, tenant: tenant, region: region,
                        request: i % 40 == 3 ? "ar_glass\(i - 1)" : "ar_test\(i % 30)", staff: staff, country: "PH",
                        dataClass: "customer_data", mode: "write", resource: "accounts/\(i)")
                }
            }
        }
        _ = try controller.ledger.signCheckpoint(force: true)
    }

    /// A report over a window, read through the (kind, time) and request indexes, is the whole report cut to
    /// the window: the same accesses carrying the same grants (filed and decided long before the window), the
    /// same refusals and break-glass grants — for windows anywhere, with filters, and across the clock's step
    /// back.
    @Test func aWindowReadThroughTheIndexesIsTheWholeReportCutToIt() throws {
        try fillWithEverything(count: 1_000)
        var state: UInt64 = 11
        func next() -> UInt64 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return state >> 33
        }
        var windows: [(Int64, Int64)] = [
            (0, 2_000_000_000_000), (1_780_000_000_000, 1_780_000_000_001), (1_780_000_011_000, 1_780_000_011_400),
            (1_780_000_010_900, 1_780_000_011_300), (1_780_000_002_000, 1_780_000_012_000),
        ]
        for _ in 0..<12 {
            let a = 1_780_000_000_000 + Int64(next() % 14_000)
            windows.append((a, a + 1 + Int64(next() % 3_000)))
        }
        let filters: [(String?, String?)] = [(nil, nil), ("us", nil), (nil, "tn_01JH6Q8K4V3M2X9Z7Y5W3")]
        for (region, tenant) in filters {
            let whole = try controller.reports.crossBorderReport(
                from: 0, to: 2_000_000_000_000, region: region, tenant: tenant, entriesPerSlice: 1_000_000)
            for (from, to) in windows {
                let windowed = try controller.reports.crossBorderReport(
                    from: from, to: to, region: region, tenant: tenant, entriesPerSlice: 1_000_000,
                    forceIndexes: true)
                let label = "\(from)..<\(to) \(region ?? "-") \(tenant ?? "-")"
                // Compared as booleans: a failure prints the window and the counts, not thousands of lines.
                let accesses = whole.accesses.filter { $0.time >= from && $0.time < to }
                let sameAccesses = windowed.accesses == accesses
                #expect(sameAccesses, "\(label): \(windowed.accesses.count) lines, expected \(accesses.count)")
                let sameRefusals = windowed.refusals == whole.refusals.filter { $0.time >= from && $0.time < to }
                #expect(sameRefusals, "\(label)")
                let sameBreakGlass = windowed.breakGlass == whole.breakGlass.filter { $0.time >= from && $0.time < to }
                #expect(sameBreakGlass, "\(label)")
            }
        }
        // The fill really has every shape in the window that spans the step back.
        let step = try controller.reports.crossBorderReport(
            from: 1_780_000_010_900, to: 1_780_000_011_300, region: nil, tenant: nil, entriesPerSlice: 1_000_000,
            forceIndexes: true)
        #expect(!step.accesses.isEmpty && !step.refusals.isEmpty && !step.breakGlass.isEmpty)
        #expect(step.accesses.contains { $0.decision == "break-glass" })
        #expect(step.accesses.contains { $0.decidedBy == "lead-500" })
    }

    /// A corrupt entry (written around the append path, as a damaged file would be) fails the report — read by
    /// scanning slices or through the indexes — instead of being skipped.
    @Test func aCorruptEntryFailsTheReportInsteadOfDroppingLines() throws {
        try fill(count: 200)
        try controller.pool.write { database in
            try database.execute("DROP TRIGGER ledger_entries_no_update")
            // The windowed-report indexes evaluate every entry as JSON and would refuse the damage outright.
            try database.execute("DROP INDEX ledger_entries_kind_time; DROP INDEX ledger_entries_access_request; DROP INDEX ledger_entries_tenant")
            try database.execute("UPDATE ledger_entries SET entry = CAST('{\"kind\":' AS BLOB) WHERE idx = 150")
        }
        for forceIndexes in [false, true] {
            #expect(throws: (any Error).self) {
                _ = try controller.reports.crossBorderReport(
                    from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, entriesPerSlice: 10,
                    forceIndexes: forceIndexes)
            }
        }
    }

    /// Grants decided by their filer, as the ledger could hold them before separation of duties was enforced:
    /// flagged on every access under them and counted, in every format; a refused decision is listed as one.
    @Test func grantsDecidedByTheirFilerAreFlagged() throws {
        let tenant = "tn_01JH6Q8K4V3M2X9Z7Y5W0"
        let time: Int64 = 1_780_000_000_000
        try controller.pool.write { database in
            var index = 0
            func append(
                _ kind: String, actor: String, request: String, staff: String,
                extra: [(key: String, value: JSONValue)] = []
            ) throws {
                index += 1
                try Ledger.append(
                    in: database, time: time + Int64(index), kind: try #require(LedgerKind(rawValue: kind)),
                    actor: actor, tenant: tenant, region: "eu",
                    body: .object(
                        [
                            ("request", .string(request)), ("staff", .string(staff)),
                            ("justification", .string("incident")), ("basis", .string("eu_scc")),
                            ("physical_country", .string("US")),
                        ] + extra))
            }
            // Filed and approved by the same token; approved by the staff member it was for; done properly.
            for (request, decider) in [("ar_self", "desk"), ("ar_staff", "s-2"), ("ar_fine", "lead")] {
                let staff = request == "ar_staff" ? "s-2" : "s-1"
                try append("access.requested", actor: "desk", request: request, staff: staff)
                try append("access.approved", actor: decider, request: request, staff: staff)
                for _ in 0..<2 {
                    try append(
                        "access.used", actor: "desk", request: request, staff: staff,
                        extra: [("data_class", .string("logs")), ("mode", .string("read"))])
                }
            }
            try append(
                "access.refused", actor: "desk", request: "ar_late", staff: "s-1",
                extra: [("stage", .string("decision")), ("code", .string("separation_of_duties"))])
        }
        _ = try controller.ledger.signCheckpoint(force: true)
        let report = try controller.reports.crossBorderReport(from: time, to: time + 1_000, region: nil, tenant: nil)
        let flagged = Dictionary(
            report.accesses.map { ($0.request, $0.decidedByFiler) }, uniquingKeysWith: { a, _ in a })
        #expect(flagged == ["ar_self": true, "ar_staff": true, "ar_fine": false])
        #expect(report.grantsDecidedByFiler == 2)
        #expect(report.refusals.map(\.stage) == ["decision"])
        #expect(report.refusals.map(\.code) == ["separation_of_duties"])

        let json = report.jsonValue
        #expect(json["summary"]?["grants_decided_by_filer"] == .integer(2))
        guard case .array(let accesses) = json["accesses"] ?? .null else { throw ReportFailure("no accesses") }
        #expect(accesses.filter { $0["decided_by_filer"] == .bool(true) }.count == 4)
        let csv = report.csv.components(separatedBy: "\r\n")
        // Columns added since (names, basis, review due) follow: here only the destination's name, as the
        // tenant is not in the directory and the grants name no transfer rule.
        let noAdded = String(repeating: ",", count: 8)
        let namesOnly = ",,United States" + String(repeating: ",", count: 6)
        #expect(csv.first?.contains(",count,decided_by_filer,tenant_name,") == true)
        #expect(csv.contains { $0.hasPrefix("decided_by_filer,") && $0.hasSuffix(",grants,2," + noAdded) })
        #expect(csv.filter { $0.hasPrefix("access,") && $0.hasSuffix(",true" + namesOnly) }.count == 4)
        #expect(csv.filter { $0.hasPrefix("access,") && $0.hasSuffix(",false" + namesOnly) }.count == 2)
        #expect(report.html.contains("approved by desk (decided by its filer)"))
        #expect(report.html.contains("grants decided by their filer"))
    }
}

extension CrossBorderReportTests {
    /// Names beside ids and codes for people: a live tenant's name, none for a deleted one (its id alone);
    /// country names; the transfer basis spelt out; the break-glass review's due date.
    @Test func reportsNameTenantsAndCountriesAndSpellOutTheBasis() throws {
        let live = try controller.directory.signUp(Signup(name: "Acme Kft.", plan: .paid, declaredCountry: CountryCode("FR")))
            .tenant
        let gone = try controller.directory.signUp(Signup(name: "Gone Ltd", plan: .paid, declaredCountry: CountryCode("DE")))
            .tenant
        // A break-glass grant from Austin: EU data reached from the US, under the EU SCCs.
        let filed = try controller.access.fileAccess(
            AccessDesk.AccessFiling(
                tenant: live.id,
                staff: StaffMember(id: "s-1", entity: "Residency Inc.", jobRole: "sre", office: "austin"),
                physicalCountry: CountryCode("US")!, justification: "security_incident", detail: "INC-1",
                scope: AccessScope(dataClasses: [.logs], mode: .read), hours: 3),
            breakGlass: true, by: "desk")
        let due = try #require(filed.reviewDueAt)
        try controller.pool.write { try TenantRepository($0).updateStatus(id: gone.id, to: .deleted) }
        let time = controller.clock.now()
        try controller.pool.write { database in
            for (index, (tenant, request)) in [(live.id, filed.id), (gone.id, "ar_gone")].enumerated() {
                try Ledger.append(
                    in: database, time: time + Int64(index), kind: .accessUsed, actor: "desk", tenant: tenant,
                    region: "eu",
                    body: .object([
                        ("request", .string(request)), ("staff", .string("s-1")), ("physical_country", .string("US")),
                        ("data_class", .string("logs")), ("mode", .string("read")),
                    ]))
            }
        }
        _ = try controller.ledger.signCheckpoint(force: true)
        let report = try controller.reports.crossBorderReport(from: 0, to: time + 1_000, region: nil, tenant: nil)
        #expect(report.names.tenants == [live.id: "Acme Kft."])
        #expect(report.names.countries["US"] == "United States")

        let json = report.jsonValue
        guard case .array(let accesses) = json["accesses"] ?? .null, accesses.count == 2 else {
            throw ReportFailure("two accesses expected")
        }
        #expect(accesses[0]["tenant_name"] == .string("Acme Kft."))
        #expect(accesses[1]["tenant_name"] == .null)
        #expect(accesses[0]["destination_name"] == .string("United States"))
        let basis = accesses[0]["basis_detail"]
        #expect(basis?["mechanism"] == .string("eu_scc"))
        #expect(basis?["scc_module"] == .integer(3))
        #expect(basis?["contract"] == .string("DPA-2025 Annex 4 (SCC module 3, Residency Inc.)"))
        #expect(basis?["tia"] == .string("TIA-EU-US-2025-01"))

        let csv = report.csv
        #expect(csv.contains(",Acme Kft.,United States,\"EU SCC module 3, contract DPA-2025 Annex 4"))
        #expect(csv.contains(",3,\"DPA-2025 Annex 4 (SCC module 3, Residency Inc.)\",TIA-EU-US-2025-01,"))
        #expect(!csv.contains("Gone Ltd"))

        let html = report.html
        #expect(html.contains("Acme Kft. (\(live.id))"))
        #expect(!html.contains("Gone Ltd") && html.contains("<td>\(gone.id)</td>"))
        #expect(html.contains("United States (US)"))
        #expect(
            html.contains(
                "EU SCC module 3, contract DPA-2025 Annex 4 (SCC module 3, Residency Inc.), TIA TIA-EU-US-2025-01"))
        #expect(html.contains("review due") && html.contains(">\(Timestamp.rfc3339(milliseconds: due))</td>"))
        guard case .array(let breakGlass) = json["break_glass"] ?? .null else { throw ReportFailure("no break-glass") }
        #expect(breakGlass.first?["review_due_at"] == .string(Timestamp.rfc3339(milliseconds: due)))
        #expect(csv.contains("," + Timestamp.rfc3339(milliseconds: due) + "\r\n"))
    }
}

struct ReportFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
