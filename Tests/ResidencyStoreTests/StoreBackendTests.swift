import Foundation
import ResidencyCore
import Synchronization
import Testing

@testable import ResidencyStore

/// The store's behaviour on both backends: the same repositories, the same schema versions, the same answers.
/// Where SQL differs between SQLite and PostgreSQL (`PostgresDialect`), these tests would fail on the backend
/// whose spelling broke.
@Suite struct StoreBackendTests {
    static func migrated(_ backend: StoreBackend) throws -> Database? {
        guard let store = try backend.store() else { return nil }
        let database = try store.connect()
        try database.migrate()
        return database
    }

    static func entry(
        _ index: Int, kind: String = "tenant.created", tenant: String = "t1", time: Int64
    ) throws
        -> [UInt8]
    {
        try LedgerEntry(
            index: index, time: time, kind: kind, actor: "test", tenant: tenant, region: "eu",
            body: .object([("request", .string("r\(index)"))])
        ).canonicalBytes()
    }

    @Test(arguments: StoreBackend.allCases)
    func migratesToTheLatestVersionOnce(_ backend: StoreBackend) throws {
        guard let store = try backend.store() else { return }
        let database = try store.connect()
        #expect(try database.schemaVersion() == 0)
        try database.migrate()
        #expect(try database.schemaVersion() == Schema.latestVersion)
        try database.migrate()
        #expect(try database.schemaVersion() == Schema.latestVersion)
    }

    @Test func theTwoSchemasAreNumberedAndNamedAlike() {
        #expect(PostgresSchema.migrations.map(\.version) == Schema.migrations.map(\.version))
        #expect(PostgresSchema.migrations.map(\.name) == Schema.migrations.map(\.name))
    }

    @Test(arguments: StoreBackend.allCases)
    func aFailedWriteLeavesNothing(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        struct Boom: Error {}
        #expect(throws: Boom.self) {
            try database.write {
                try tenants.insert(DatabaseTests.tenant("t1"))
                throw Boom()
            }
        }
        #expect(try tenants.tenant(id: "t1") == nil)
        #expect(!database.isInTransaction)
    }

    @Test(arguments: StoreBackend.allCases)
    func valuesAreBoundAndConstraintsHold(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        let hostile = "x'); DROP TABLE tenants; --"
        try tenants.insert(DatabaseTests.tenant(hostile, name: "Robert\"); DELETE FROM tenants; -- ?1 $1"))
        #expect(try tenants.tenant(id: hostile)?.name == "Robert\"); DELETE FROM tenants; -- ?1 $1")
        #expect {
            try tenants.insert(DatabaseTests.tenant(hostile))
        } throws: { ($0 as? DatabaseError)?.isConstraintViolation == true }
        #expect(throws: DatabaseError.self) {
            try database.statement(
                "INSERT INTO tenants (id, name, plan, region, site, status, created_at, policy_version) VALUES ('t', 'n', 'platinum', 'eu', 's', 'active', 0, 'v')"
            ).run()
        }
    }

    /// A text with a NUL inside is stored whole on SQLite (it was bound as a C string and cut at the NUL) and
    /// refused with the reason on PostgreSQL, whose text cannot hold a NUL — never stored cut. Empty text stays
    /// empty, not NULL.
    @Test(arguments: StoreBackend.allCases)
    func aNULInsideATextIsKeptOrRefusedNeverCut(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        try database.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
        let insert = try database.statement("INSERT INTO notes (id, body) VALUES (?, ?)")
        try insert.run([.integer(1), .text("")])
        #expect(try database.scalarInteger("SELECT count(*) FROM notes WHERE body = ''") == 1)
        let text = "before\u{0}after \u{E9}"
        if database.isPostgres {
            #expect {
                try insert.run([.integer(2), .text(text)])
            } throws: { "\($0)".contains("parameter 2 holds a NUL byte") }
            #expect(try database.scalarInteger("SELECT count(*) FROM notes") == 1)
        } else {
            try insert.run([.integer(2), .text(text)])
            let stored = try database.statement("SELECT body, length(CAST(body AS BLOB)) FROM notes WHERE id = 2")
                .rows { ($0.text(0), $0.integer(1)) }
            #expect(stored.map(\.0) == [text])
            #expect(stored.map(\.1) == [Int64(text.utf8.count)])
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func tenantsPageAndCount(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        try database.write {
            for index in 0..<25 {
                try tenants.insert(
                    DatabaseTests.tenant(String(format: "t%03d", index), region: index % 2 == 0 ? "eu" : "us"))
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
        try tenants.move(id: "t002", region: "us", site: "us-east")
        #expect(try tenants.tenant(id: "t002")?.region == "us")
        #expect(try tenants.lifecycles(after: nil, limit: 3).map(\.id) == ["t001", "t002", "t003"])
        #expect(try tenants.lifecycles(after: "t022", limit: 3).map(\.id) == ["t023", "t024"])
        // The other optional filters, each with and without a value.
        #expect(try AccessRepository(database).requests(tenant: nil, state: nil, region: nil, limit: 5).isEmpty)
        #expect(
            try AccessRepository(database).requests(tenant: "t001", state: .pending, region: "eu", limit: 5).isEmpty)
        #expect(try MigrationRepository(database).migrations(tenant: nil, state: nil, plan: nil, limit: 5).isEmpty)
        #expect(
            try MigrationRepository(database).migrations(tenant: "t1", state: .requested, plan: "p", limit: 5).isEmpty)
        #expect(try MigrationRepository(database).runnable().isEmpty)
    }

    /// The ledger: appends, the tree nodes, reads by range, by kind, by time window and by request, checkpoints;
    /// and the append-only rule refusing a change.
    @Test(arguments: StoreBackend.allCases)
    func ledgerReadsAndWritesAlike(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let ledger = LedgerRepository(database)
        var leaves: [SHA256Digest] = []
        try database.write {
            for index in 0..<11 {
                let kind = index % 3 == 0 ? "access.requested" : "tenant.created"
                let bytes = try Self.entry(index, kind: kind, tenant: "t\(index % 2)", time: 1_000 + Int64(index))
                leaves.append(try ledger.append(bytes, kind: kind, at: index))
            }
        }
        #expect(try ledger.size() == 11)
        #expect(try ledger.root(size: 11) == MerkleTree.root(of: leaves[...]))
        #expect(try ledger.entries(from: 2, to: 5).map(\.index) == [2, 3, 4])
        #expect(try ledger.entries(from: 0, to: 1).first?.leafHash == leaves[0].bytes)
        var all: [Int] = []
        try ledger.forEachEntry { index, entry, leaf in
            #expect(Array(leaf) == leaves[index].bytes)
            #expect(MerkleTree.leafHash(Array(entry)) == leaves[index])
            all.append(index)
        }
        #expect(all == Array(0..<11))
        var requested: [Int] = []
        try ledger.forEachEntry(kinds: ["access.requested"], below: 10) { index, _ in requested.append(index) }
        #expect(requested == [0, 3, 6, 9])
        var sliced: [Int] = []
        try ledger.forEachEntry(kind: "tenant.created", indices: 0..<5) { index, _ in sliced.append(index) }
        #expect(sliced == [1, 2, 4])
        #expect(try ledger.timeBounds(kind: "access.requested")! == (1_000, 1_009))
        #expect(try ledger.timeBounds(kind: "nothing") == nil)
        var windowed: [Int] = []
        try ledger.forEachEntry(kinds: ["access.requested"], timeFrom: 1_003, to: 1_009, below: 11) { index, _ in
            windowed.append(index)
        }
        #expect(windowed.sorted() == [3, 6])
        var granted: [Int] = []
        try ledger.forEachGrantEntry(requests: ["r3", "r9", "r4"], below: 11) { index, _ in granted.append(index) }
        #expect(granted.sorted() == [3, 9])
        #expect(try ledger.latestEntry(kind: "access.requested").map { MerkleTree.leafHash($0) } == leaves[9])
        #expect(try ledger.latestEntry(kind: "tenant.created", tenant: "t0")?.index == 10)
        try ledger.insertCheckpoint(size: 11, root: leaves[0], note: "note", at: 5)
        #expect(try ledger.latestCheckpoint()?.size == 11)
        #expect(throws: DatabaseError.self) {
            try database.statement("UPDATE ledger_entries SET kind = 'x' WHERE idx = 0").run()
        }
        #expect(throws: DatabaseError.self) {
            try database.statement("DELETE FROM ledger_nodes WHERE size = 1").run()
        }
    }

    /// PostgreSQL scans the ledger in keyset pages (libpq would otherwise hold a whole result): every page size,
    /// including one row, an exact divisor of the matches and more than all of them, gives the same rows in the
    /// same order as one unpaged pass — also where several entries share a time (the time window's keyset).
    @Test(arguments: StoreBackend.allCases)
    func ledgerScansAnswerAlikeAtEveryPageSize(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        try database.write {
            let ledger = LedgerRepository(database)
            for index in 0..<12 {
                let kind = index % 3 == 0 ? "access.requested" : "tenant.created"
                // Times repeat in pairs, so the time-ordered scan meets ties.
                let bytes = try Self.entry(index, kind: kind, tenant: "t\(index % 2)", time: 1_000 + Int64(index / 2))
                try ledger.append(bytes, kind: kind, at: index)
            }
        }
        for pageRows in [1, 2, 4, 6, 12, 100] {
            let ledger = LedgerRepository(database, postgresPageRows: pageRows)
            try database.read {
                var all: [Int] = []
                try ledger.forEachEntry { index, entry, leaf in
                    #expect(MerkleTree.leafHash(Array(entry)).bytes == Array(leaf))
                    all.append(index)
                }
                #expect(all == Array(0..<12), "page of \(pageRows)")
                var requested: [Int] = []
                try ledger.forEachEntry(kinds: ["access.requested", "tenant.created"], below: 11) { index, _ in
                    requested.append(index)
                }
                #expect(requested == Array(0..<11), "page of \(pageRows)")
                var sliced: [Int] = []
                try ledger.forEachEntry(kind: "tenant.created", indices: 1..<11) { index, _ in sliced.append(index) }
                #expect(sliced == [1, 2, 4, 5, 7, 8, 10], "page of \(pageRows)")
                var windowed: [Int] = []
                try ledger.forEachEntry(kinds: ["tenant.created"], timeFrom: 1_000, to: 1_005, below: 12) { index, _ in
                    windowed.append(index)
                }
                #expect(windowed == [1, 2, 4, 5, 7, 8], "page of \(pageRows)")
                var tenant: [Int] = []
                try ledger.forEachEntry(tenant: "t1", kind: "tenant.created", below: 12) { index, _ in tenant.append(index) }
                #expect(tenant == [1, 5, 7, 11], "page of \(pageRows)")
            }
        }
    }

    @Test(arguments: StoreBackend.allCases)
    func tokensAndIdempotencyKeys(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let tokens = TokenRepository(database)
        let hash = [UInt8](repeating: 7, count: 32)
        try tokens.insert(name: "ops", role: "admin", hash: hash, createdAt: 10)
        #expect(try tokens.record(hash: hash)?.name == "ops")
        #expect(try tokens.record(hash: [UInt8](repeating: 8, count: 32)) == nil)
        #expect(try tokens.revoke(name: "ops", at: 20))
        #expect(try !tokens.revoke(name: "ops", at: 30))
        #expect(try tokens.record(name: "ops")?.revokedAt == 20)
        #expect(throws: DatabaseError.self) { try tokens.insert(name: "short", role: "admin", hash: [1], createdAt: 1) }
        try TenantRepository(database).insert(DatabaseTests.tenant("t1"))
        let keys = IdempotencyRepository(database)
        try keys.insert(scope: "signup", key: "k", requestHash: [0, 1, 255], tenantID: "t1", createdAt: 1)
        #expect(try keys.find(scope: "signup", key: "k")?.requestHash == [0, 1, 255])
        #expect(try keys.find(scope: "signup", key: "k")?.tenantID == "t1")
        #expect {
            try keys.insert(scope: "signup", key: "k", requestHash: [2], tenantID: "t1", createdAt: 2)
        } throws: { ($0 as? DatabaseError)?.isConstraintViolation == true }
    }

    @Test(arguments: StoreBackend.allCases)
    func accessEventsAndRegionalServices(_ backend: StoreBackend) throws {
        guard let database = try Self.migrated(backend) else { return }
        let access = AccessRepository(database)
        let first = try access.insertEvent(requestID: "r", tenant: "t", allowed: true, at: 1, record: .object([]))
        let second = try access.insertEvent(requestID: "r", tenant: "t", allowed: false, at: 2, record: .object([]))
        #expect(second == first + 1)
        let regional = RegionalServiceRepository(database)
        try regional.openEnrolment(region: "eu", site: "s1", endpoint: "https://a", secret: [1, 2], expiresAt: 9)
        try regional.openEnrolment(region: "eu", site: "s2", endpoint: "https://b", secret: [3], expiresAt: 10)
        #expect(try regional.service(region: "eu")?.endpoint == "https://b")
        #expect(try regional.markEventRecorded(region: "eu", seq: 1, ledgerIndex: 4))
        #expect(try !regional.markEventRecorded(region: "eu", seq: 1, ledgerIndex: 5))
        #expect(try regional.isEventRecorded(region: "eu", seq: 1))
        #expect(try regional.lastRecordedEvent(region: "eu") == 1)
        try TenantRepository(database).insert(DatabaseTests.tenant("t1"))
        let signed = Array(#"{"assignment":{"region":"us","site":"eu-de-frankfurt","status":"active"}}"#.utf8)
        try regional.putAssignment(tenant: "t1", epoch: 1, signed: signed)
        #expect(try regional.assignment(tenant: "t1")?.signed == signed)
        // The assignment names another region than the directory: stale (read inside the JSON on both stores).
        #expect(try regional.staleAssignments(limit: 10) == ["t1"])
    }

    /// A failing body in a group commit is rolled back alone, on either store.
    @Test(arguments: StoreBackend.allCases)
    func aFailingBodyInAGroupIsRolledBackAlone(_ backend: StoreBackend) throws {
        guard let store = try backend.store() else { return }
        let database = try store.connect()
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        var applied: Set<Int> = []
        struct Refused: Error {}
        let bodies: [() throws -> Void] = (1...5).map { number in
            {
                try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
                applied.insert(number)
                database.onRollback { applied.remove(number) }
                if number == 3 { throw Refused() }
                if number == 4 {
                    // A statement error inside a body: on PostgreSQL it aborts the transaction until the
                    // savepoint is rolled back; the group goes on.
                    try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(1)])
                }
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { $0 == nil } == [true, true, false, false, true])
        #expect(try database.statement("SELECT n FROM numbers ORDER BY n").rows { Int($0.integer(0)) } == [1, 2, 5])
        #expect(applied == [1, 2, 5])
    }

    /// Two controllers' pools on one PostgreSQL database, each with many threads appending to the ledger at once:
    /// the appends are serialised across them, so the indices are dense, each once, and the tree over them is
    /// one tree (every stored node agrees with the leaves). On SQLite, two pools on one file do the same.
    @Test(arguments: StoreBackend.allCases)
    func twoPoolsAppendingAtOnceKeepOneTree(_ backend: StoreBackend) throws {
        guard let store = try backend.store() else { return }
        let directory = store.dataDirectory()
        defer { try? FileManager.default.removeItem(at: directory.url) }
        let pools = [try DatabasePool(directory: directory), try DatabasePool(directory: directory)]
        let appended = Mutex<[Int]>([])
        DispatchQueue.concurrentPerform(iterations: 40) { thread in
            let pool = pools[thread % 2]
            for _ in 0..<5 {
                let index = try? pool.write { database -> Int in
                    let ledger = LedgerRepository(database)
                    let index = try ledger.size()
                    try ledger.append(try Self.entry(index, time: Int64(index)), kind: "tenant.created", at: index)
                    return index
                }
                if let index { appended.withLock { $0.append(index) } }
            }
        }
        #expect(appended.withLock { $0.sorted() } == Array(0..<200))
        try pools[1].read { database in
            let ledger = LedgerRepository(database)
            #expect(try ledger.size() == 200)
            let leaves = try ledger.entries(from: 0, to: 200).map { SHA256Digest(bytes: $0.leafHash)! }
            #expect(try ledger.root(size: 200) == MerkleTree.root(of: leaves[...]))
            #expect(try ledger.root(size: 128) == MerkleTree.root(of: leaves[0..<128]))
        }
    }
}
