import CSQLite
import Foundation
import ResidencyCore

/// One tenant's application data: a SQLite database of its own in its home region's directory.
///
/// Besides the collections it holds two control tables the controller relies on, both maintained inside the
/// database so they hold whichever process writes:
/// - `residency_control`: `frozen` (1 while a migration holds the data still) and `seq`, a counter every
///   data change increments;
/// - `residency_changes`: for each changed row, the `seq` of its latest change — so a migration copies only
///   what changed after its bulk snapshot. Triggers keep both, so no write can slip past them.
package final class TenantDatabase {
    package let database: Database

    /// 64 KiB pages: the online backup copies page by page, and large pages make a bulk copy run near `cp`'s
    /// speed (4 KiB pages ran at a third of it on the benchmark machine).
    package static let pageSize = 65_536

    /// Opens an existing tenant database; a missing file is an error, never a new empty database.
    package init(path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw TenantDataError.missing(path: path) }
        database = try Database(path: path, create: false)
    }

    /// Opens a snapshot file to read it as it is: its journal mode is left alone, so its bytes do not change
    /// while a peer is reading them.
    package init(snapshotAt path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw TenantDataError.missing(path: path) }
        database = try Database(path: path, create: false, wal: false)
    }

    private init(creating path: String) throws {
        database = try Database(path: path, create: true, pageSize: Self.pageSize, wal: false)
    }

    /// Creates the database with its schema (idempotent: an existing one is opened and left as it is).
    @discardableResult
    package static func provision(at path: String, tenant: String) throws -> TenantDatabase {
        let created = try TenantDatabase(creating: path)
        try created.database.write {
            if try created.database.scalarInteger(
                "SELECT count(*) FROM sqlite_schema WHERE name = 'residency_control'") == 0
            {
                try created.database.execute(schema)
                try created.database.statement("INSERT INTO residency_control VALUES ('tenant', ?)").run([.text(tenant)]
                )
            }
        }
        return created
    }

    static var schema: String {
        var sql = """
            CREATE TABLE residency_control (key TEXT PRIMARY KEY NOT NULL, value ANY) STRICT;
            INSERT INTO residency_control VALUES ('frozen', 0), ('seq', 0), ('schema', 1);
            CREATE TABLE residency_changes (
                tbl TEXT NOT NULL, row INTEGER NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (tbl, row)
            ) STRICT, WITHOUT ROWID;
            CREATE INDEX residency_changes_seq ON residency_changes (seq);

            """
        for collection in TenantCollection.allCases {
            let columns = collection.fields.map { field -> String in
                let type = field.kind == .integer ? "INTEGER" : field.kind == .bytes ? "BLOB" : "TEXT"
                return "\(field.name) \(type)\(field.required ? " NOT NULL" : "")"
            }
            sql += """
                CREATE TABLE \(collection.rawValue) (
                    id INTEGER PRIMARY KEY, key TEXT NOT NULL UNIQUE, \(columns.joined(separator: ", ")),
                    updated_at INTEGER NOT NULL
                ) STRICT;

                """
            // DELETE then INSERT rather than INSERT OR REPLACE: inside a trigger the outer statement's conflict
            // policy overrides the trigger's own, so OR REPLACE would fail on the second change of a row.
            for (event, row) in [("INSERT", "NEW.id"), ("UPDATE", "NEW.id"), ("DELETE", "OLD.id")] {
                sql += """
                    CREATE TRIGGER \(collection.rawValue)_\(event.lowercased())_logged AFTER \(event) ON \(collection.rawValue)
                    BEGIN
                        UPDATE residency_control SET value = value + 1 WHERE key = 'seq';
                        DELETE FROM residency_changes WHERE tbl = '\(collection.rawValue)' AND row = \(row);
                        INSERT INTO residency_changes VALUES
                            ('\(collection.rawValue)', \(row), (SELECT value FROM residency_control WHERE key = 'seq'));
                    END;

                    """
            }
        }
        return sql
    }

    // MARK: Records

    /// Runs `body` in a write transaction unless the data is frozen. The frozen flag is read after the write
    /// lock is taken, so a freeze waits for writes in flight and no write starts after it.
    package func write<T>(_ body: () throws -> T) throws -> T {
        try database.write {
            if try database.scalarInteger("SELECT value FROM residency_control WHERE key = 'frozen'") == 1 {
                throw TenantDataError.frozen
            }
            return try body()
        }
    }

    /// Inserts or replaces the record with `record.key`.
    package func put(_ record: TenantRecord) throws {
        let collection = record.collection
        let names = collection.fields.map(\.name)
        let sql = """
            INSERT INTO \(collection.rawValue) (key, \(names.joined(separator: ", ")), updated_at)
            VALUES (?\(String(repeating: ", ?", count: names.count + 1)))
            ON CONFLICT (key) DO UPDATE SET \(names.map { "\($0) = excluded.\($0)" }.joined(separator: ", ")),
                updated_at = excluded.updated_at
            """
        var values: [DatabaseValue] = [.text(record.key)]
        for field in collection.fields {
            switch record.values[field.name] {
            case .text(let text): values.append(.text(text))
            case .integer(let integer): values.append(.integer(integer))
            case .bytes(let bytes): values.append(.blob(bytes))
            case nil: values.append(.null)
            }
        }
        values.append(.integer(record.updatedAt))
        try write { try database.statement(sql).run(values) }
    }

    /// Deletes the record; false when there was none.
    package func delete(_ collection: TenantCollection, key: String) throws -> Bool {
        try write {
            try database.statement("DELETE FROM \(collection.rawValue) WHERE key = ?").run([.text(key)])
            return database.changes > 0
        }
    }

    package func record(_ collection: TenantCollection, key: String) throws -> TenantRecord? {
        try database.read {
            try database.statement("SELECT \(Self.selectList(collection)) FROM \(collection.rawValue) WHERE key = ?")
                .first([.text(key)]) { Self.read($0, collection) }
        }
    }

    /// Records in key order after `cursor`, at most `limit`.
    package func records(_ collection: TenantCollection, after cursor: String?, limit: Int) throws -> [TenantRecord] {
        try database.read {
            try database.statement(
                """
                SELECT \(Self.selectList(collection)) FROM \(collection.rawValue)
                WHERE ?1 IS NULL OR key > ?1 ORDER BY key LIMIT ?2
                """
            ).rows([.optional(cursor), .integer(Int64(limit))]) { Self.read($0, collection) }
        }
    }

    static func selectList(_ collection: TenantCollection) -> String {
        (["key"] + collection.fields.map(\.name) + ["updated_at"]).joined(separator: ", ")
    }

    static func read(_ row: Row, _ collection: TenantCollection) -> TenantRecord {
        var values: [String: TenantFieldValue] = [:]
        for (offset, field) in collection.fields.enumerated() {
            let column = Int32(offset + 1)
            if row.isNull(column) { continue }
            switch field.kind {
            case .text: values[field.name] = .text(row.text(column))
            case .integer: values[field.name] = .integer(row.integer(column))
            case .bytes: values[field.name] = .bytes(row.blob(column))
            }
        }
        return TenantRecord(
            collection: collection, key: row.text(0), values: values,
            updatedAt: row.integer(Int32(collection.fields.count + 1)))
    }

    // MARK: Control

    /// Freezes or thaws the data. Freezing takes the write lock, so it returns only after writes in flight
    /// have committed; every later write sees the flag.
    package func setFrozen(_ frozen: Bool) throws {
        try database.write {
            try database.statement("UPDATE residency_control SET value = ? WHERE key = 'frozen'").run([
                .integer(frozen ? 1 : 0)
            ])
        }
    }

    /// Folds the write-ahead log into the main file (a TRUNCATE checkpoint), retrying for up to a second while
    /// readers hold it. Before the files are removed: a connection that opened the main file just before and
    /// creates a fresh WAL just after reads the main file alone, so the freeze must be in it — else that
    /// connection would see the data unfrozen and commit a write into a file already unlinked.
    package func foldWriteAheadLog() throws {
        for _ in 0..<100 {
            let busy = try database.statement("PRAGMA wal_checkpoint(TRUNCATE)").first { $0.integer(0) } ?? 0
            if busy == 0 { return }
            usleep(10_000)
        }
        throw TenantDataError.io("the write-ahead log of \(database.path) could not be checkpointed: readers held it for a second")
    }

    /// Whether a migration holds the data still.
    package func isFrozen() throws -> Bool {
        try database.scalarInteger("SELECT value FROM residency_control WHERE key = 'frozen'") == 1
    }

    /// The change counter: equal values mean no data changed in between.
    package func sequence() throws -> Int64 {
        try database.scalarInteger("SELECT value FROM residency_control WHERE key = 'seq'") ?? 0
    }

    /// The tenant id written at provisioning: a file in the wrong place is caught, not trusted.
    package func tenantID() throws -> String? {
        try database.statement("SELECT value FROM residency_control WHERE key = 'tenant'").first { $0.optionalText(0) }
            ?? nil
    }

    /// Rows per collection and one SHA-256 over every row of every collection in id order (control tables
    /// excluded): equal on two databases exactly when their data is equal.
    package func contentDigest() throws -> TenantContentDigest {
        try database.read {
            let hasher = SHA256Stream()
            var rows: [TenantCollection: Int] = [:]
            for collection in TenantCollection.allCases {
                hasher.update(Array("collection \(collection.rawValue)\n".utf8))
                let statement = try database.statement(
                    "SELECT id, \(Self.selectList(collection)) FROM \(collection.rawValue) ORDER BY id")
                try statement.bind([])
                defer { statement.reset() }
                var count = 0
                let columns = Int32(collection.fields.count + 3)
                while try statement.step() {
                    count += 1
                    for column in 0..<columns { hasher.update(column: statement, column) }
                }
                rows[collection] = count
            }
            return TenantContentDigest(rows: rows, digest: hasher.finish().hex)
        }
    }

    /// Rows per collection only (cheap: no row contents are read).
    package func rowCounts() throws -> [TenantCollection: Int] {
        try database.read {
            var rows: [TenantCollection: Int] = [:]
            for collection in TenantCollection.allCases {
                rows[collection] = Int(try database.scalarInteger("SELECT count(*) FROM \(collection.rawValue)") ?? 0)
            }
            return rows
        }
    }
}

/// What a content comparison compares.
package struct TenantContentDigest: Sendable, Hashable {
    package let rows: [TenantCollection: Int]
    /// SHA-256, hex.
    package let digest: String

    package var jsonValue: JSONValue {
        .object([
            ("rows", .object(TenantCollection.allCases.map { ($0.rawValue, .integer(rows[$0] ?? 0)) })),
            ("sha256", .string(digest)),
        ])
    }
}

package enum TenantDataError: Error, Sendable, CustomStringConvertible, Equatable {
    case missing(path: String)
    /// Writes are held while a migration copies the last changes.
    case frozen
    case io(String)
    /// The copy at the target differs from the source.
    case mismatch(String)

    package var description: String {
        switch self {
        case .io(let message): return message
        case .mismatch(let message): return "verification failed: \(message)"
        case .missing(let path): return "the tenant's data is not at \(path)"
        case .frozen: return "migration in progress: the tenant's data is read-only until cutover; retry shortly"
        }
    }
}

extension SHA256Stream {
    /// Feeds one column: a type tag, an 8-byte length and the bytes, so no two different rows hash alike.
    func update(column statement: Statement, _ column: Int32) {
        let type = sqlite3_column_type(statement.handle, column)
        switch type {
        case SQLITE_INTEGER:
            var value = statement.integer(column).littleEndian
            update(tag: 1, withUnsafeBytes(of: &value) { UnsafeRawBufferPointer($0) })
        case SQLITE_TEXT:
            let pointer = sqlite3_column_text(statement.handle, column)
            let count = Int(sqlite3_column_bytes(statement.handle, column))
            update(tag: 2, UnsafeRawBufferPointer(start: pointer, count: count))
        case SQLITE_BLOB:
            update(tag: 3, statement.blobBuffer(column))
        case SQLITE_NULL:
            update(tag: 0, UnsafeRawBufferPointer(start: nil, count: 0))
        default:
            var value = sqlite3_column_double(statement.handle, column).bitPattern.littleEndian
            update(tag: 4, withUnsafeBytes(of: &value) { UnsafeRawBufferPointer($0) })
        }
    }

    private func update(tag: UInt8, _ bytes: UnsafeRawBufferPointer) {
        var header = (tag, UInt64(bytes.count).littleEndian)
        withUnsafeBytes(of: &header.0) { update($0) }
        withUnsafeBytes(of: &header.1) { update($0) }
        if bytes.count > 0 { update(bytes) }
    }
}
