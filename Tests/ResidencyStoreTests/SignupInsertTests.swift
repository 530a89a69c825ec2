import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 16 and `TenantRepository.insert` (INSERT OR ROLLBACK): a signup's insert into tenants keeps no
/// statement journal and reads no table whole, a constraint it breaks still fails it alone with SQLite's error
/// naming the constraint, and the console's name search reads the new index in the same order as before.
@Suite struct SignupInsertTests {
    static func scratchFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-signup-\(UUID().uuidString).sqlite3")
    }

    /// The program SQLite compiles `sql` to now, trigger programs included: (opcode, p1, p2).
    static func program(_ database: Database, _ sql: String) throws -> [(opcode: String, p1: Int64, p2: Int64)] {
        try Statement(database: database, sql: "EXPLAIN " + sql).rows { ($0.text(1), $0.integer(2), $0.integer(3)) }
    }

    static let tenantInsert =
        "INSERT OR ROLLBACK INTO tenants (\(TenantRepository.columns), placement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

    /// What makes SQLite open a statement journal for a statement that writes several rows (its triggers): an
    /// opcode that may abort it alone — a function call, or a constraint halt that aborts (P2 = 2, OE_Abort)
    /// rather than rolls back (1). `sqlite3VdbeAssertMayAbort` in SQLite's vdbeaux.c lists the same.
    static func mayAbortAlone(_ program: [(opcode: String, p1: Int64, p2: Int64)]) -> [String] {
        program.compactMap { step in
            switch step.opcode {
            case "Function", "PureFunc": return step.opcode
            case "Halt", "HaltIfNull": return step.p1 != 0 && step.p2 == 2 ? "\(step.opcode) \(step.p1) ABORT" : nil
            default: return nil
            }
        }
    }

    /// A file at version 15 with tenants, migrated to 16 while another connection has it open: the rows and
    /// indexes are intact, and on both connections the insert has nothing that may abort it alone and no full
    /// scan of a table (before: `lower`, `length`, and scans of idempotency keys and migrations, the tables that
    /// refer to tenants without an index).
    @Test func version16LeavesTheInsertNothingThatAbortsItAloneAndNoScan() throws {
        let path = Self.scratchFile().path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try Database(path: path)
        try database.migrate(upTo: 15)
        let tenants = TenantRepository(database)
        try database.write {
            try tenants.insert(DatabaseTests.tenant("tn_a", name: "alpha"))
            try tenants.insert(DatabaseTests.tenant("tn_b", name: "Beta"))
        }
        let other = try Database(path: path)
        let before = try Self.program(other, Self.tenantInsert)
        #expect(Self.mayAbortAlone(before).contains("PureFunc"), "version 15 called lower and length")
        #expect(before.contains { $0.opcode == "Rewind" }, "version 15 scanned the tables referring to tenants")

        try database.migrate(upTo: 16)
        #expect(try database.schemaVersion() == 16)
        #expect(try database.scalarText("PRAGMA integrity_check") == "ok")
        #expect(try other.scalarInteger("SELECT count(*) FROM tenants") == 2)
        for connection in [database, other] {
            let program = try Self.program(connection, Self.tenantInsert)
            #expect(Self.mayAbortAlone(program) == [])
            #expect(!program.contains { $0.opcode == "Rewind" || $0.opcode == "OpenEphemeral" })
        }
        try TenantRepository(other).insert(DatabaseTests.tenant("tn_c", name: "ALPHABET"))
        #expect(try tenants.tenants(namePrefix: "ALP", limit: 10).map(\.id) == ["tn_a", "tn_c"])
    }

    /// The country's constraint without `length`: a code outside 'AA'–'ZZ' is refused (lower case, a digit,
    /// empty, 'A', past 'ZZ'), two upper-case letters and NULL are taken. What comparisons cannot refuse: a single
    /// letter B–Z or three letters or more inside the range (`length` refused those, and let lower case through).
    @Test func theCountryConstraintRefusesWhatItRefused() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        func insert(_ id: String, country: DatabaseValue) throws {
            try database.statement(Self.tenantInsert).run([
                .text(id), .text("N"), .text("paid"), country, .text("eu"), .text("eu-de-frankfurt"), .text("active"),
                .integer(1), .text("abc"), .text("{}"),
            ])
        }
        for (index, bad) in ["de", "A", "", "1A", "Zz", "ZZA"].enumerated() {
            #expect(throws: DatabaseError.self, "country \"\(bad)\"") { try insert("bad\(index)", country: .text(bad)) }
        }
        try insert("t1", country: .text("DE"))
        try insert("t2", country: .text("ZZ"))
        try insert("t3", country: .null)
        #expect(try database.scalarInteger("SELECT count(*) FROM tenants") == 3)
    }

    /// A store whose tenants hold a country the new constraint refuses (written by hand) is not upgraded: the
    /// error names the table and counts the rows, and the store stays at version 15 as it was.
    @Test func aStoreWithACountryOutsideTheRangeIsRefused() throws {
        let database = try Database(path: ":memory:")
        try database.migrate(upTo: 15)
        try database.write {
            try TenantRepository(database).insert(DatabaseTests.tenant("tn_a"))
            try database.execute("UPDATE tenants SET country = 'de' WHERE id = 'tn_a'")
        }
        #expect {
            try database.migrate()
        } throws: { error in
            guard let error = error as? StoreError,
                case .rowsRefusedByConstraint(_, let object, _, let rows, _) = error
            else { return false }
            return object == "tenants" && rows == 1 && error.description.contains("country >= 'AA'")
        }
        #expect(try database.schemaVersion() == 15)
        #expect(try database.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'tenants'")?.contains("length(") == true)
        #expect(try database.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'tenants_name'")?.contains("lower(") == true)
    }

    /// A tenant whose id is taken, in the middle of a group of inserts: SQLite's error names the constraint, the
    /// whole transaction was rolled back by it (OR ROLLBACK), and the group's other inserts commit, with the
    /// location counter moved once for each of them.
    @Test func aTakenIdInAGroupFailsAloneWithTheConstraintNamed() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let tenants = TenantRepository(database)
        try database.write { try tenants.insert(DatabaseTests.tenant("taken")) }
        let counter = try tenants.locationChanges()
        let ids = ["g1", "g2", "taken", "g4"]
        let outcomes = database.writeGroup(ids.map { id in { try tenants.insert(DatabaseTests.tenant(id)) } })
        #expect(outcomes[0] == nil && outcomes[1] == nil && outcomes[3] == nil)
        let error = try #require(outcomes[2] as? DatabaseError)
        #expect(error.code & 0xFF == 19)  // SQLITE_CONSTRAINT
        #expect(error.description.contains("tenants.id"), "\(error)")
        #expect(try database.scalarInteger("SELECT count(*) FROM tenants") == 4)
        #expect(try tenants.locationChanges() == counter + 3)
        #expect(!database.isInTransaction)
    }

    /// The console's name search on both stores: a prefix in any case, names in the order of the name with its
    /// ASCII letters folded, then id; a name that only starts alike further on is not found.
    @Test(arguments: StoreBackend.allCases)
    func theNameSearchIgnoresCaseInNameOrder(_ backend: StoreBackend) throws {
        guard let database = try StoreBackendTests.migrated(backend) else { return }
        let tenants = TenantRepository(database)
        try database.write {
            for (id, name) in [("t1", "acme b"), ("t2", "ACME a"), ("t3", "Acme"), ("t4", "Acmezone"), ("t5", "the acme")]
            {
                try tenants.insert(DatabaseTests.tenant(id, name: name))
            }
        }
        #expect(try tenants.tenants(namePrefix: "aCmE", limit: 10).map(\.id) == ["t3", "t2", "t1", "t4"])
        #expect(try tenants.tenants(namePrefix: "acme ", limit: 1).map(\.id) == ["t2"])
        #expect(try tenants.tenants(namePrefix: "zz", limit: 10) == [])
    }
}
