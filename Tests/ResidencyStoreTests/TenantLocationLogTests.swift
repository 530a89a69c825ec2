import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 15: the ring log of tenant location changes, written by the triggers that move the counter of
/// version 14. The residency map re-reads only the tenants the log names after a change, so the log must name
/// every changed tenant whoever wrote the change, and must refuse to vouch (nil) whenever it cannot: more changes
/// than it holds, a counter that went backwards, a row that no longer holds its change, a TRUNCATE.
@Suite struct TenantLocationLogTests {
    typealias Entry = TenantRepository.LocationLogEntry

    /// `count` tenants `prefix1`… inserted by one statement (8,192 single inserts would take seconds on PostgreSQL).
    static func insertMany(_ database: Database, prefix: String, count: Int) throws {
        let columns = "id, name, plan, country, region, site, status, created_at, policy_version, placement"
        let values = "'\(prefix)' || i, 'N', 'paid', 'DE', 'eu', 'eu-de-frankfurt', 'active', 1, 'abc', '{}'"
        try database.write {
            if database.isPostgres {
                try database.execute(
                    "INSERT INTO tenants (\(columns)) SELECT \(values) FROM generate_series(1, \(count)) AS i")
            } else {
                try database.execute(
                    """
                    WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count))
                    INSERT INTO tenants (\(columns)) SELECT \(values) FROM n
                    """)
            }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func aVersion14StoreUpgradesAndTheLogStartsAtItsCounter(_ backend: StoreBackend) throws {
        guard let database = try backend.database(atVersion: 14) else { return }
        let tenants = TenantRepository(database)
        try database.write {
            try tenants.insert(DatabaseTests.tenant("t1"))
            try tenants.insert(DatabaseTests.tenant("t2"))
        }
        #expect(try tenants.locationChanges() == 2)
        #expect(throws: (any Error).self) { try tenants.locationLog(after: 1, through: 2) }  // no log before 15

        try database.migrate(upTo: 15)
        #expect(try database.schemaVersion() == 15)
        #expect(try database.scalarInteger("SELECT count(*) FROM tenant_location_log") == 8_192)
        #expect(try tenants.locationChanges() == 2)
        #expect(try tenants.locationLog(after: 2, through: 2) == [])
        #expect(try tenants.locationLog(after: 1, through: 2) == nil, "changes made before the log are not in it")
        try database.write { try tenants.updateStatus(id: "t1", to: .suspended) }
        #expect(try tenants.locationLog(after: 2, through: 3) == [Entry(change: 3, tenant: "t1", former: nil)])
        #expect(try tenants.tenant(id: "t2")?.region == "eu")
    }

    @Test(arguments: StoreBackend.allCases)
    func everyChangeIsNotedWithItsTenant(_ backend: StoreBackend) throws {
        guard let database = try StoreBackendTests.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        let start = try tenants.locationChanges()
        try database.write { try tenants.insert(DatabaseTests.tenant("t1")) }
        try database.write { try tenants.move(id: "t1", region: "uk", site: "uk-london") }
        try database.write { try tenants.updateStatus(id: "t1", to: .suspended) }
        try database.write { try tenants.scrub(id: "t1") }  // nothing the locations hold: not noted
        try database.execute("UPDATE tenants SET country = 'FR' WHERE id = 't1'")
        try database.execute("UPDATE tenants SET id = 't9' WHERE id = 't1'")
        try database.execute("DELETE FROM tenants WHERE id = 't9'")
        let now = try tenants.locationChanges()
        #expect(now == start + 6)
        let log = try #require(try tenants.locationLog(after: start, through: now))
        #expect(log.map(\.change) == Array((start + 1)...now))
        #expect(log.map(\.tenant) == ["t1", "t1", "t1", "t1", "t9", "t9"])
        #expect(log.map(\.former) == [nil, nil, nil, nil, "t1", nil])
        #expect(try tenants.locationLog(after: start + 2, through: now) == Array(log.dropFirst(2)))
        #expect(try tenants.locationLog(after: now, through: now - 1) == nil, "the counter went backwards")
        #expect(try tenants.locationLog(after: -1, through: now) == nil)
    }

    /// The ring holds the last 8,192 changes: exactly that many back it vouches for, one more it cannot; a row
    /// edited by hand, or a TRUNCATE on PostgreSQL, makes it refuse.
    @Test(arguments: StoreBackend.allCases)
    func theLogVouchesForItsLast8192ChangesAndNoMore(_ backend: StoreBackend) throws {
        guard let database = try StoreBackendTests.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        try Self.insertMany(database, prefix: "w", count: 8_300)
        let now = try tenants.locationChanges()
        #expect(now == 8_300)
        let all = try #require(try tenants.locationLog(after: now - 8_192, through: now))
        #expect(all.count == 8_192 && all.first?.tenant == "w109" && all.last?.tenant == "w8300")
        #expect(try tenants.locationLog(after: now - 8_193, through: now) == nil)
        // A row that no longer holds its change.
        try database.write { try database.execute("UPDATE tenant_location_log SET change = 5 WHERE slot = 8000") }
        #expect(try tenants.locationLog(after: 7_990, through: now) == nil)
        #expect(try tenants.locationLog(after: 8_000, through: now)?.count == 300)
        if database.isPostgres {
            try database.write { try database.execute("TRUNCATE tenants CASCADE") }
            let truncated = try tenants.locationChanges()
            #expect(truncated == now + 1)
            #expect(
                try tenants.locationLog(after: now, through: truncated) == [
                    Entry(change: truncated, tenant: nil, former: nil)
                ])
        }
    }

    /// Statements typed by hand with a conflict clause of their own: inside a trigger the outer statement's clause
    /// replaces the trigger statements' own, so the log's rows must never conflict — also once every row has been
    /// written (the ring wrapped) — and must never be skipped by `OR IGNORE`.
    @Test func handWrittenConflictClausesWorkOnceTheRingWrapped() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        try Self.insertMany(database, prefix: "w", count: 9_000)
        let columns = "id, name, plan, country, region, site, status, created_at, policy_version, placement"
        func row(_ id: String, region: String = "eu") -> String {
            "('\(id)', 'H', 'paid', 'DE', '\(region)', 'eu-de-frankfurt', 'active', 1, 'abc', '{}')"
        }
        var last = try tenants.locationChanges()
        func noted(_ sql: String) throws -> [Entry] {
            try database.write { try database.execute(sql) }
            let now = try tenants.locationChanges()
            defer { last = now }
            return try #require(try tenants.locationLog(after: last, through: now))
        }
        for clause in ["OR ABORT", "OR FAIL", "OR ROLLBACK", "OR IGNORE", "OR REPLACE"] {
            let id = "h" + clause.dropFirst(3).lowercased()
            #expect(try noted("INSERT \(clause) INTO tenants (\(columns)) VALUES \(row(id))").map(\.tenant) == [id])
            let moved = try noted("UPDATE \(clause) tenants SET region = 'uk' WHERE id = '\(id)'")
            #expect(moved.map { [$0.tenant, $0.former] } == [[id, nil]])
        }
        // OR REPLACE over an existing tenant (its old row deleted without the delete trigger) and over another id.
        #expect(
            try noted("INSERT OR REPLACE INTO tenants (\(columns)) VALUES \(row("w1", region: "us"))").map(\.tenant)
                == ["w1"])
        let renamed = try noted("UPDATE OR REPLACE tenants SET id = 'w3' WHERE id = 'w2'")
        #expect(renamed.map { [$0.tenant, $0.former] } == [["w3", "w2"]])
        #expect(try noted("INSERT OR IGNORE INTO tenants (\(columns)) VALUES \(row("w4"))") == [])  // no change
        #expect(try tenants.tenant(id: "w1")?.region == "us" && tenants.tenant(id: "w2") == nil)
    }
}
