import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

extension CrossBorderReportTests {
    /// The same ledger under a clock that stands still, so a report built whole and one streamed are stamped
    /// alike and can be compared byte for byte.
    init(clockStoppedAt time: Int64) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-xstream-\(UUID())")
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(directory: DataDirectory(directory)),
            clock: Clock { time }, dataDirectory: directory)
    }
}

/// The streamed cross-border report (read twice in rounds, written in chunks) is byte for byte the report
/// built whole and rendered as one document, in every format, and it is handed over in pieces.
@Suite struct CrossBorderStreamingTests {
    let ledger: CrossBorderReportTests

    init() throws {
        ledger = try CrossBorderReportTests(clockStoppedAt: 1_790_000_000_000)
    }

    struct Streamed {
        var bytes: [UInt8] = []
        var chunks: [Int] = []
    }

    func stream(
        _ format: ReportFormat, from: Int64 = 0, to: Int64 = 2_000_000_000_000, region: String? = nil,
        tenant: String? = nil, entriesPerSlice: Int = 50_000, chunkSize: Int = 4_096
    ) throws -> Streamed {
        var streamed = Streamed()
        let output = ReportOutput(chunkSize: chunkSize) { chunk in
            streamed.bytes += chunk
            streamed.chunks.append(chunk.count)
        }
        try ledger.controller.reports.streamCrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, format: format, to: output,
            entriesPerSlice: entriesPerSlice)
        return streamed
    }

    func whole(
        _ format: ReportFormat, from: Int64 = 0, to: Int64 = 2_000_000_000_000, region: String? = nil,
        tenant: String? = nil
    ) throws -> [UInt8] {
        Array(
            try ledger.controller.reports.crossBorderReport(from: from, to: to, region: region, tenant: tenant)
                .rendered(format).utf8)
    }

    @Test func theStreamedReportIsTheWholeDocumentInEveryFormat() throws {
        try ledger.fillWithEverything(count: 3_000)
        let filters: [(String?, String?)] = [(nil, nil), ("us", nil), (nil, "tn_01JH6Q8K4V3M2X9Z7Y5W3")]
        for (region, tenant) in filters {
            for format in ReportFormat.allCases {
                let expected = try whole(format, region: region, tenant: tenant)
                for slice in [97, 50_000] {
                    let streamed = try stream(format, region: region, tenant: tenant, entriesPerSlice: slice)
                    #expect(streamed.bytes == expected, "\(format) region \(region ?? "-") tenant \(tenant ?? "-")")
                    // Handed over in pieces of about the chunk size (a piece is whole writes; one line can
                    // carry it past), never as one document. The first and last pieces are the frame around
                    // the lines (summary, charts, refusals, break-glass grants), written whole.
                    #expect(streamed.chunks.count > expected.count / 8_192)
                    #expect(streamed.chunks.dropFirst().dropLast().allSatisfy { $0 < 4_096 + 2_048 })
                }
            }
        }
        // The whole-history JSON holds every access with its grant: the test would see a lost line.
        let json = try JSONParser.parse(try stream(.json).bytes)
        guard case .array(let lines) = json["accesses"] ?? .null else { throw ReportFailure("no accesses") }
        #expect(lines.count > 3_000)
    }

    /// No access admitted (a tenant with none): the empty forms — `[]`, the table's "none" row — are the same.
    @Test func aReportWithNoAccessIsTheSame() throws {
        try ledger.fillWithEverything(count: 200)
        for format in ReportFormat.allCases {
            let streamed = try stream(format, tenant: "tn_nobody")
            #expect(streamed.bytes == (try whole(format, tenant: "tn_nobody")))
        }
    }

    /// A window narrower than the accesses (read through the indexes) is streamed the same way.
    @Test func aWindowIsStreamedTheSame() throws {
        try ledger.fillWithEverything(count: 1_000)
        for format in ReportFormat.allCases {
            let streamed = try stream(format, from: 1_780_000_000_300, to: 1_780_000_011_000)
            #expect(streamed.bytes == (try whole(format, from: 1_780_000_000_300, to: 1_780_000_011_000)))
        }
    }

    /// A reader that goes away (its delivery throws) stops the report at that chunk.
    @Test func aReaderGoneStopsTheReport() throws {
        try ledger.fillWithEverything(count: 3_000)
        struct Gone: Error {}
        var chunks = 0
        let output = ReportOutput(chunkSize: 1_024) { _ in
            chunks += 1
            if chunks == 2 { throw Gone() }
        }
        #expect(throws: Gone.self) {
            try ledger.controller.reports.streamCrossBorderReport(
                from: 0, to: 2_000_000_000_000, region: nil, tenant: nil, format: .csv, to: output)
        }
        #expect(chunks == 2)
    }
}
