import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 13: the constant lists of the tenants' constraints and of the ledger's access-request index
/// rewritten as comparisons in the stored schema text (`SchemaTextRewrite`).
@Suite struct SchemaRewriteTests {
    static func scratchFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-rewrite-\(UUID().uuidString).sqlite3")
    }

    /// The opcodes SQLite compiles `sql` to now (a statement of its own: a cached one keeps its program).
    static func opcodes(_ database: Database, _ sql: String) throws -> [String] {
        try Statement(database: database, sql: "EXPLAIN " + sql).rows { $0.text(1) }
    }

    static let tenantInsert =
        "INSERT INTO tenants (\(TenantRepository.columns), placement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    static let ledgerInsert = "INSERT INTO ledger_entries (idx, kind, entry, leaf_hash) VALUES (?, ?, ?, ?)"

    static func accessEntry(_ database: Database, _ index: Int, kind: String, request: String) throws {
        try DatabaseTests.ledgerEntry(
            database, index, kind: kind, actor: "desk", tenant: "tn_a", time: 1_700_000_000_000 + Int64(index),
            body: .object([("request", .string(request))]))
    }

    /// A file written at version 11, with rows, migrated to the latest (13) while another connection has it open: the rows
    /// and both indexes are intact, the constraints refuse what they refused, the access-request query still
    /// runs off its index (INDEXED BY fails otherwise) and finds entries from before and after, and neither
    /// connection compiles a temporary B-tree into the inserts of a signup any more.
    @Test func version13KeepsTheRowsAndTheRulesWithoutTemporaryTables() throws {
        let path = Self.scratchFile().path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let database = try Database(path: path)
        try database.migrate(upTo: 11)
        try TenantRepository(database).insert(DatabaseTests.tenant("tn_a"))
        try Self.accessEntry(database, 0, kind: "access.requested", request: "ar_1")
        try Self.accessEntry(database, 1, kind: "access.used", request: "ar_1")
        let other = try Database(path: path)
        #expect(try Self.opcodes(other, Self.tenantInsert).contains("OpenEphemeral"), "version 11 had the IN lists")

        try database.migrate()
        #expect(try database.schemaVersion() == Schema.latestVersion)
        #expect(try database.scalarText("PRAGMA integrity_check") == "ok")
        // The other connection reads the schema again at its next transaction (EXPLAIN alone begins none).
        #expect(try other.scalarInteger("SELECT count(*) FROM tenants") == 1)
        for connection in [database, other] {
            #expect(try !Self.opcodes(connection, Self.tenantInsert).contains("OpenEphemeral"))
            #expect(try !Self.opcodes(connection, Self.ledgerInsert).contains("OpenEphemeral"))
        }
        try Self.accessEntry(other, 2, kind: "access.denied", request: "ar_1")
        var found: [Int] = []
        try LedgerRepository(database).forEachGrantEntry(requests: ["ar_1"], below: 10) { index, _ in
            found.append(index)
        }
        #expect(found.sorted() == [0, 2])

        for (column, value) in [("plan", "gold"), ("status", "lost")] {
            var values: [DatabaseValue] = [
                .text("tn_b"), .text("B"), .text("paid"), .text("DE"), .text("eu"), .text("eu-de-frankfurt"),
                .text("active"), .integer(1), .text("abc"), .text("{}"),
            ]
            values[column == "plan" ? 2 : 6] = .text(value)
            #expect(throws: DatabaseError.self, "a \(column) of \(value) is refused") {
                try other.statement(Self.tenantInsert).run(values)
            }
        }
        try TenantRepository(other).insert(DatabaseTests.tenant("tn_c", status: .suspended))
        #expect(try database.scalarInteger("SELECT count(*) FROM tenants") == 2)
    }

    /// A definition that does not hold the text a rewrite expects (the file was changed by hand) is refused,
    /// with the object named, and nothing of the migration stays.
    @Test func aDefinitionNotAsWrittenIsRefused() throws {
        let database = try Database(path: ":memory:")
        let migrations = [
            SchemaMigration(version: 1, name: "a table", sql: "CREATE TABLE a (x TEXT CHECK (x IN ('p', 'q', 'r')))"),
            SchemaMigration(
                version: 2, name: "rewrites", sql: "CREATE TABLE b (y INTEGER)",
                rewrites: [
                    SchemaTextRewrite(object: "a", from: "x IN ('p', 'q', 'r')", to: "x = 'p' OR x = 'q' OR x = 'r'"),
                    SchemaTextRewrite(object: "a", from: "x IN ('s', 't', 'u')", to: "x = 's'"),
                ]),
        ]
        #expect {
            try database.migrate(migrations)
        } throws: { error in
            guard let error = error as? StoreError, case .unexpectedSchema(_, let object, _) = error else {
                return false
            }
            return object == "a" && error.description.contains("x IN ('s', 't', 'u')")
        }
        #expect(try database.schemaVersion() == 1)
        #expect(try database.scalarInteger("SELECT count(*) FROM sqlite_schema WHERE name = 'b'") == 0)
        #expect(try database.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'a'")?.contains("IN (") == true)
    }

    /// A rewrite already made (the version set back by hand after it ran, as a test forging an older store does)
    /// finds the new text and changes nothing; the migration still applies and the text is as it was rewritten.
    @Test func aRewriteAlreadyMadeIsLeftAsItIs() throws {
        let database = try Database(path: ":memory:")
        let rewrite = SchemaTextRewrite(object: "a", from: "x IN ('p', 'q', 'r')", to: "x = 'p' OR x = 'q' OR x = 'r'")
        let migrations = [
            SchemaMigration(version: 1, name: "a table", sql: "CREATE TABLE a (x TEXT CHECK (x IN ('p', 'q', 'r')))"),
            SchemaMigration(version: 2, name: "rewrites", sql: "", rewrites: [rewrite]),
        ]
        try database.migrate(migrations)
        try database.execute("PRAGMA user_version = 1")
        try database.migrate(migrations)
        #expect(try database.schemaVersion() == 2)
        let text = try database.scalarText("SELECT sql FROM sqlite_schema WHERE name = 'a'") ?? ""
        #expect(text.contains(rewrite.to) && !text.contains("IN ("))
        #expect(throws: DatabaseError.self) { try database.execute("INSERT INTO a (x) VALUES ('s')") }
    }
}
