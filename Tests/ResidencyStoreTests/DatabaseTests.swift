import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

@Suite struct DatabaseTests {
    static func tenant(
        _ id: String, region: String = "eu", status: TenantStatus = .active, name: String? = nil
    ) -> Tenant {
        Tenant(
            id: id, name: name ?? "Tenant \(id)", plan: .paid, country: CountryCode("DE"), region: region,
            site: "eu-de-frankfurt", status: status, createdAt: 1_700_000_000_000, policyVersion: "abc")
    }

    @Test func migratesToTheLatestVersion() throws {
        let database = try Database(path: ":memory:")
        #expect(try database.schemaVersion() == 0)
        try database.migrate()
        #expect(try database.schemaVersion() == Schema.latestVersion)
        try database.migrate()  // idempotent
        #expect(try database.schemaVersion() == Schema.latestVersion)
    }

    /// A ledger entry as version 7 wrote it (the append-only triggers allow inserts).
    static func ledgerEntry(
        _ database: Database, _ index: Int, kind: String, actor: String, tenant: String, time: Int64,
        body: JSONValue
    ) throws {
        let entry = LedgerEntry(
            index: index, time: time, kind: kind, actor: actor, tenant: tenant, region: "eu", body: body)
        try database.statement("INSERT INTO ledger_entries (idx, kind, entry, leaf_hash) VALUES (?, ?, ?, ?)").run([
            .integer(Int64(index)), .text(kind), .blob(try entry.canonicalBytes()),
            .blob(Array(repeating: 0, count: 32)),
        ])
    }

    /// Version 8 fills its new columns from the ledger of a version 7 file: the latest non-activity event's time
    /// and when it was recorded.
    @Test func version8FillsTheLifecycleEventTimesFromTheLedger() throws {
        let database = try Database(path: ":memory:")
        try database.migrate(upTo: 7)
        try TenantRepository(database).insert(Self.tenant("tn_a"))
        try TenantRepository(database).insert(Self.tenant("tn_b"))
        let day: Int64 = 86_400_000
        let created: Int64 = 1_700_000_000_000
        for (index, (event, at, recorded)) in [
            ("payment_failed", created + day, created + day), ("cancelled", created + 2 * day, created + 3 * day),
            ("activity", created + 5 * day, created + 5 * day),
        ].enumerated() {
            try Self.ledgerEntry(
                database, index, kind: "tenant.event", actor: "billing", tenant: "tn_a", time: recorded,
                body: .object([("event", .string(event)), ("at", .string(Timestamp.rfc3339(milliseconds: at + 123)))]))
        }
        try database.migrate()
        let a = try #require(try TenantRepository(database).lifecycle(id: "tn_a"))
        #expect(a.lastEventAt == created + 2 * day + 123)
        #expect(a.clocksMovedRecordedAt == created + 3 * day)
        let b = try #require(try TenantRepository(database).lifecycle(id: "tn_b"))
        #expect(b.lastEventAt == nil && b.clocksMovedRecordedAt == nil)
    }

    /// Version 8 takes who filed each access request from its filing entry, and marks customer approval as the
    /// tenant's own where the latest switch was a token scoped to that tenant. The ledger is only read.
    @Test func version8FillsFilersAndTheTenantsCustomerApprovalFromTheLedger() throws {
        let database = try Database(path: ":memory:")
        try database.migrate(upTo: 7)
        let tenants = TenantRepository(database)
        for id in ["tn_a", "tn_b", "tn_c"] { try tenants.insert(Self.tenant(id)) }
        try TokenRepository(database).insert(
            name: "a-admin", role: "compliance", hash: Array(repeating: 1, count: 32), createdAt: 0, tenant: "tn_a")
        try TokenRepository(database).insert(
            name: "ops", role: "ops", hash: Array(repeating: 2, count: 32), createdAt: 0)
        let switches: [(String, String, Bool)] = [
            ("tn_a", "ops", true), ("tn_a", "a-admin", true), ("tn_b", "a-admin", true), ("tn_b", "ops", true),
            ("tn_c", "ops", true),
        ]
        for (index, (tenant, actor, enabled)) in switches.enumerated() {
            try Self.ledgerEntry(
                database, index, kind: "tenant.customer_approval", actor: actor, tenant: tenant, time: 1,
                body: .object([("enabled", .bool(enabled))]))
            try database.statement("UPDATE tenants SET customer_approval = ? WHERE id = ?").run([
                .integer(enabled ? 1 : 0), .text(tenant),
            ])
        }
        try database.execute(
            """
            INSERT INTO access_requests (id, tenant, region, state, created_at, record)
            VALUES ('ar_1', 'tn_a', 'eu', 'approved', 1, '{"id":"ar_1","state":"approved"}')
            """)
        try Self.ledgerEntry(
            database, 10, kind: "access.requested", actor: "desk", tenant: "tn_a", time: 2,
            body: .object([("request", .string("ar_1"))]))
        try Self.ledgerEntry(
            database, 11, kind: "access.approved", actor: "desk", tenant: "tn_a", time: 3,
            body: .object([("request", .string("ar_1"))]))
        let ledgerBefore = try database.scalarText("SELECT group_concat(hex(entry)) FROM ledger_entries")
        try database.migrate()
        func setting(_ id: String) throws -> String {
            let value = try TenantRepository(database).customerApprovalSetting(id: id)
            return "\(value.enabled ? "on" : "off"), by tenant: \(value.byTenant)"
        }
        #expect(
            try database.scalarText("SELECT json_extract(record, '$.filed_by') FROM access_requests WHERE id = 'ar_1'")
                == "desk")
        #expect(try setting("tn_a") == "on, by tenant: true")
        // Another tenant's administrator does not count, nor staff after the tenant.
        #expect(try setting("tn_b") == "on, by tenant: false")
        #expect(try setting("tn_c") == "on, by tenant: false")
        #expect(try database.scalarText("SELECT group_concat(hex(entry)) FROM ledger_entries") == ledgerBefore)
    }

    @Test func refusesASchemaFromANewerRelease() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        try database.execute("PRAGMA user_version = \(Schema.latestVersion + 5)")
        #expect {
            try database.migrate()
        } throws: { error in
            guard let error = error as? StoreError, case .schemaTooNew(_, let found, let supported) = error else {
                return false
            }
            return found == Schema.latestVersion + 5 && supported == Schema.latestVersion
                && error.description.contains("newer than this residency supports")
        }
    }

    @Test func aFailedMigrationLeavesTheVersionUnchanged() throws {
        let database = try Database(path: ":memory:")
        let migrations = [
            SchemaMigration(version: 1, name: "ok", sql: "CREATE TABLE a (x INTEGER)"),
            SchemaMigration(version: 2, name: "broken", sql: "CREATE TABLE b (x INTEGER); CREATE TABLE a (y INTEGER)"),
        ]
        #expect(throws: DatabaseError.self) { try database.migrate(migrations) }
        #expect(try database.schemaVersion() == 1)
        // Table b was created inside the failed transaction and must be gone.
        #expect(try database.scalarInteger("SELECT count(*) FROM sqlite_master WHERE name = 'b'") == 0)
    }

    @Test func fileDatabasesUseWAL() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "residency-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try DataDirectory(directory).openDatabase()
        let mode = try database.statement("PRAGMA journal_mode").first { $0.text(0) }
        #expect(mode == "wal")
        #expect(try database.scalarInteger("PRAGMA synchronous") == 2)  // FULL
        #expect(try database.scalarInteger("PRAGMA foreign_keys") == 1)
        let attributes = try FileManager.default.attributesOfItem(atPath: directory.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o700)
    }

    @Test func writeRollsBackOnError() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try database.write {
                try tenants.insert(Self.tenant("t1"))
                throw Boom()
            }
        }
        #expect(try tenants.tenant(id: "t1") == nil)
        #expect(!database.isInTransaction)
    }

    @Test func valuesAreBoundNotPasted() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        let hostile = "x'); DROP TABLE tenants; --"
        try tenants.insert(Self.tenant(hostile, name: "Robert\"); DELETE FROM tenants; --"))
        let stored = try #require(try tenants.tenant(id: hostile))
        #expect(stored.name == "Robert\"); DELETE FROM tenants; --")
        #expect(try database.scalarInteger("SELECT count(*) FROM tenants") == 1)
    }

    @Test func duplicateIDIsAConstraintError() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        try tenants.insert(Self.tenant("t1"))
        #expect {
            try tenants.insert(Self.tenant("t1"))
        } throws: { error in
            (error as? DatabaseError)?.isConstraintViolation == true
        }
    }

    @Test func schemaChecksRefuseBadValues() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        #expect(throws: DatabaseError.self) {
            try database.statement(
                "INSERT INTO tenants VALUES ('t', 'n', 'platinum', NULL, 'eu', 's', 'active', 0, 'v')"
            ).run()
        }
    }

    @Test func paginatesInIDOrderWithFilters() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        try database.write {
            for index in 0..<25 {
                try tenants.insert(Self.tenant(String(format: "t%03d", index), region: index % 2 == 0 ? "eu" : "us"))
            }
        }
        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try tenants.tenants(region: "eu", after: cursor, limit: 5)
            seen += page.map(\.id)
            cursor = page.count == 5 ? page.last?.id : nil
        } while cursor != nil
        #expect(seen == (0..<25).filter { $0 % 2 == 0 }.map { String(format: "t%03d", $0) })
        try tenants.updateStatus(id: "t000", to: .deleted)
        #expect(try tenants.liveCounts() == ["eu": 12, "us": 12])
        #expect(try tenants.tenants(status: .deleted, limit: 10).map(\.id) == ["t000"])
    }

    @Test func reopeningKeepsData() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "residency-store-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let database = try DataDirectory(directory).openDatabase()
            try TenantRepository(database).insert(Self.tenant("kept"))
        }
        let reopened = try DataDirectory(directory).openDatabase()
        #expect(try TenantRepository(reopened).tenant(id: "kept")?.name == "Tenant kept")
    }

    @Test func errorsNameTheStatement() throws {
        let database = try Database(path: ":memory:")
        #expect {
            try database.statement("SELECT * FROM nowhere")
        } throws: { error in
            let text = String(describing: error)
            return text.contains("no such table: nowhere") && text.contains("SELECT * FROM nowhere")
        }
    }
}
