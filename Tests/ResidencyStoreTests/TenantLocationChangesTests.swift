import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 14: the tenants table's location change counter, kept by triggers on both backends. What the
/// residency map keeps in memory is trusted only while this counter stands still, so every change of where a
/// tenant is must move it — by the repositories, by hand-written SQL, from another connection — and changes of
/// nothing the locations hold must not (or the map would be re-read at every lifecycle tick).
@Suite struct TenantLocationChangesTests {
    @Test(arguments: StoreBackend.allCases)
    func aVersion13StoreUpgradesWithItsTenantsAndCountsFromThere(_ backend: StoreBackend) throws {
        guard let database = try backend.database(atVersion: 13) else { return }
        let tenants = TenantRepository(database)
        try database.write { try tenants.insert(DatabaseTests.tenant("t1")) }
        #expect(throws: (any Error).self) { try tenants.locationChanges() }  // no counter before 14

        try database.migrate(upTo: 14)
        #expect(try database.schemaVersion() == 14)
        #expect(try tenants.locationChanges() == 0)
        #expect(try tenants.tenant(id: "t1")?.region == "eu")
        try database.write { try tenants.insert(DatabaseTests.tenant("t2")) }
        #expect(try tenants.locationChanges() == 1)
    }

    @Test(arguments: StoreBackend.allCases)
    func everyChangeOfWhereATenantIsMovesItAndNothingElseDoes(_ backend: StoreBackend) throws {
        guard let database = try StoreBackendTests.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        var last = try tenants.locationChanges()
        /// Runs `change` in a write transaction and says whether the counter moved.
        func moves(_ change: () throws -> Void) throws -> Bool {
            try database.write { try change() }
            let now = try tenants.locationChanges()
            defer { last = now }
            return now != last
        }
        #expect(try moves { try tenants.insert(DatabaseTests.tenant("t1")) })
        #expect(try moves { try tenants.move(id: "t1", region: "uk", site: "uk-london") })
        #expect(try moves { try tenants.updateStatus(id: "t1", to: .suspended) })
        #expect(try moves { try database.execute("UPDATE tenants SET country = 'FR' WHERE id = 't1'") })
        #expect(try moves { try database.execute("UPDATE tenants SET country = NULL WHERE id = 't1'") })
        // The same values written again, and columns the locations do not hold: no move.
        #expect(try !moves { try tenants.updateStatus(id: "t1", to: .suspended) })
        #expect(try !moves { try tenants.move(id: "t1", region: "uk", site: "uk-london-2") })
        #expect(try !moves { try tenants.scrub(id: "t1") })
        let lifecycle = try #require(try tenants.lifecycle(id: "t1"))
        #expect(try !moves { try tenants.updateLifecycle(id: "t1", lifecycle) })
        var closed = lifecycle
        closed.status = .closed
        #expect(try moves { try tenants.updateLifecycle(id: "t1", closed) })
        #expect(try moves { try database.execute("DELETE FROM tenants WHERE id = 't1'") })
        // A change rolled back moves nothing: the counter is a row of the same transaction.
        struct Abandoned: Error {}
        #expect(throws: Abandoned.self) {
            try database.write {
                try tenants.insert(DatabaseTests.tenant("t2"))
                throw Abandoned()
            }
        }
        #expect(try tenants.locationChanges() == last)
    }

    /// Another writer on the same store — a second process on the SQLite file, another controller (or a psql
    /// session with its own search path, naming the table by its schema) on PostgreSQL — moves the counter this
    /// connection reads.
    @Test(arguments: StoreBackend.allCases)
    func anotherConnectionsChangeIsSeen(_ backend: StoreBackend) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("residency-changes-\(UUID()).sqlite3")
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: file.path + suffix) }
        }
        guard let store = try backend.store() else { return }
        let database = try store.url.map { try Database(postgresURL: $0) } ?? Database(path: file.path)
        try database.migrate()
        let before = try database.read { try TenantRepository(database).locationChanges() }
        if let url = store.url, let base = StoreBackend.postgresURL {
            let schema = try #require(url.split(separator: "%3D").last.map(String.init))
            let other = try Database(postgresURL: base)
            try other.execute(
                """
                INSERT INTO \(schema).tenants (id, name, plan, country, region, site, status, created_at, policy_version,
                    placement)
                VALUES ('t9', 'Hand', 'paid', 'DE', 'eu', 'eu-de-frankfurt', 'active', 1, 'abc', '{}')
                """)
        } else {
            let other = try Database(path: file.path)
            try other.write { try TenantRepository(other).insert(DatabaseTests.tenant("t9")) }
        }
        let after = try database.read { try TenantRepository(database).locationChanges() }
        #expect(after == before + 1)
    }
}
