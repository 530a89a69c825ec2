import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyServer

/// WAL checkpoints run after commits, where no caller hears of a failure: `/readyz` must show them, and a failure
/// must reach the failure log.
@Suite struct WALCheckpointReadinessTests {
    static func readyz(_ application: APIApplication) -> JSONValue? {
        var parser = HTTPRequestParser()
        parser.append(Array("GET /readyz HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
        guard case .request(let request) = try! parser.next() else { return nil }
        return try? JSONParser.parse(application.respond(to: request).body)
    }

    static func fill(_ pool: DatabasePool, commits: Int) throws {
        try pool.write { try $0.execute("CREATE TABLE IF NOT EXISTS filler (x BLOB)") }
        for _ in 0..<commits {
            try pool.write {
                try $0.execute(
                    """
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 25)
                    INSERT INTO filler SELECT randomblob(4000) FROM n
                    """)
            }
        }
    }

    static func application(in directory: URL) throws -> (APIApplication, Controller, DatabasePool) {
        let policies = try PolicySet.load(
            regions: APIHarness.root.appendingPathComponent("Regions"),
            policies: APIHarness.root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(directory: DataDirectory(directory))
        let controller = try Controller(policies: policies, locator: nil, pool: pool)
        return (APIApplication(controller: controller) { _ in }, controller, pool)
    }

    @Test func readyzCountsWALCheckpoints() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-walready-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (application, _, pool) = try Self.application(in: directory)
        try Self.fill(pool, commits: 60)
        pool.walCheckpointer?.waitForBackground()
        let ready = try #require(Self.readyz(application))
        #expect(ready["status"] == .string("ready"))
        let checkpoints = try #require(ready["wal_checkpoints"])
        #expect(checkpoints["completed"] != .integer(0))
        #expect(checkpoints["completed"] != nil)
        #expect(checkpoints["failures"] == .integer(0))
        #expect(checkpoints["latest_failure"] == .null)
    }

    /// The database file is removed from under the server (its connections keep the old file): the background
    /// connection cannot open it, and that is reported, counted and shown, while the writes go on.
    @Test func aFailedWALCheckpointIsReportedCountedAndShownByReadyz() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-walfail-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let (application, controller, pool) = try Self.application(in: directory)
        // A reader is opened now and kept idle, so /readyz does not open the removed file anew.
        #expect(Self.readyz(application)?["failures"] == .integer(0))
        try FileManager.default.removeItem(atPath: pool.path)
        try Self.fill(pool, commits: 60)
        pool.walCheckpointer?.waitForBackground()
        #expect(controller.failures.count >= 1)
        #expect(controller.failures.latest.last?.what == "checkpointing the database's write-ahead log")
        let ready = try #require(Self.readyz(application))
        let checkpoints = try #require(ready["wal_checkpoints"])
        #expect(checkpoints["failures"] != .integer(0))
        #expect(checkpoints["latest_failure"] != .null)
        #expect(ready["latest_failure"]?["what"] == .string("checkpointing the database's write-ahead log"))
    }
}
