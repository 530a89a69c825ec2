import CSQLite

/// A prepared statement. Values are always bound, never pasted into SQL text.
///
/// On SQLite it wraps the statement handle; on PostgreSQL a `PostgresStatement` (server-side prepared, in
/// PostgreSQL's spelling). One type, so every repository is written once for both stores.
package final class Statement {
    /// The SQLite handle; nil on PostgreSQL.
    private let sqliteHandle: OpaquePointer?
    private let postgres: PostgresStatement?
    let sql: String
    unowned let database: Database

    init(database: Database, sql: String) throws(DatabaseError) {
        self.sql = sql
        self.database = database
        if let connection = database.postgres {
            sqliteHandle = nil
            postgres = PostgresStatement(connection: connection, sql: sql)
            return
        }
        var handle: OpaquePointer?
        let code = sqlite3_prepare_v3(database.connection, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &handle, nil)
        guard code == SQLITE_OK, let handle else {
            throw DatabaseError(connection: database.connection, code: code, sql: sql)
        }
        self.sqliteHandle = handle
        self.postgres = nil
    }

    deinit { if let sqliteHandle { sqlite3_finalize(sqliteHandle) } }

    /// The SQLite statement handle (SQLite-only code: tenant data files).
    var handle: OpaquePointer {
        guard let sqliteHandle else { preconditionFailure("a PostgreSQL statement has no SQLite handle") }
        return sqliteHandle
    }

    /// Resets the statement and binds `values` to its parameters in order.
    @discardableResult
    package func bind(_ values: [DatabaseValue]) throws(DatabaseError) -> Statement {
        if let postgres {
            postgres.bind(values)
            return self
        }
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            let code: Int32
            switch value {
            case .null: code = sqlite3_bind_null(handle, index)
            case .integer(let integer): code = sqlite3_bind_int64(handle, index, integer)
            case .real(let real): code = sqlite3_bind_double(handle, index, real)
            case .text(var text):
                // With its length in bytes, not as a C string: a NUL inside the text is part of it, not its end.
                code = text.withUTF8 { bytes in
                    guard let base = bytes.baseAddress, !bytes.isEmpty else {
                        return sqlite3_bind_text(handle, index, "", 0, residency_sqlite_transient())
                    }
                    return base.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                        sqlite3_bind_text64(
                            handle, index, $0, sqlite3_uint64(bytes.count), residency_sqlite_transient(),
                            UInt8(SQLITE_UTF8))
                    }
                }
            case .blob(let bytes):
                code = bytes.withUnsafeBytes {
                    sqlite3_bind_blob(handle, index, $0.baseAddress, Int32($0.count), residency_sqlite_transient())
                }
            }
            guard code == SQLITE_OK else { throw DatabaseError(connection: database.connection, code: code, sql: sql) }
        }
        return self
    }

    /// Runs the statement to completion, discarding rows.
    package func run(_ values: [DatabaseValue] = []) throws(DatabaseError) {
        try bind(values)
        defer { reset() }
        while try step() {}
    }

    /// Runs the statement and collects each row through `read`.
    package func rows<T>(_ values: [DatabaseValue] = [], _ read: (Row) throws -> T) throws -> [T] {
        try bind(values)
        defer { reset() }
        var result: [T] = []
        while try step() { result.append(try read(currentRow)) }
        return result
    }

    /// The first row, if any.
    package func first<T>(_ values: [DatabaseValue] = [], _ read: (Row) throws -> T) throws -> T? {
        try bind(values)
        defer { reset() }
        return try step() ? try read(currentRow) : nil
    }

    /// The row the statement stands on.
    var currentRow: Row { postgres.map { Row(postgres: $0) } ?? Row(handle: handle) }

    func reset() {
        if let postgres { return postgres.reset() }
        sqlite3_reset(handle)
    }

    /// Column accessors for stepping a statement by hand (large scans that should not build arrays).
    func integer(_ column: Int32) -> Int64 {
        if let postgres { return postgres.integer(column) }
        return sqlite3_column_int64(handle, column)
    }

    /// The blob in `column`, valid until the next step.
    func blobBuffer(_ column: Int32) -> UnsafeRawBufferPointer {
        if let postgres { return postgres.blobBuffer(column) }
        let count = Int(sqlite3_column_bytes(handle, column))
        return UnsafeRawBufferPointer(start: sqlite3_column_blob(handle, column), count: count)
    }

    func step() throws(DatabaseError) -> Bool {
        if let postgres { return try postgres.step() }
        let code = sqlite3_step(handle)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw DatabaseError(connection: database.connection, code: code, sql: sql)
        }
    }
}

/// A value bound to or read from the store.
package enum DatabaseValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])

    package static func optional(_ text: String?) -> DatabaseValue { text.map { .text($0) } ?? .null }
    package static func optional(_ integer: Int64?) -> DatabaseValue { integer.map { .integer($0) } ?? .null }
}

/// The current row of a stepping statement; valid only inside the closure it is passed to.
package struct Row {
    /// The SQLite statement handle; nil on PostgreSQL.
    private let handle: OpaquePointer?
    private let postgres: PostgresStatement?

    init(handle: OpaquePointer) {
        self.handle = handle
        self.postgres = nil
    }

    init(postgres: PostgresStatement) {
        self.handle = nil
        self.postgres = postgres
    }

    package func isNull(_ column: Int32) -> Bool {
        if let postgres { return postgres.isNull(column) }
        return sqlite3_column_type(handle, column) == SQLITE_NULL
    }

    package func integer(_ column: Int32) -> Int64 {
        if let postgres { return postgres.integer(column) }
        return sqlite3_column_int64(handle, column)
    }

    package func optionalInteger(_ column: Int32) -> Int64? { isNull(column) ? nil : integer(column) }

    package func real(_ column: Int32) -> Double {
        if let postgres { return postgres.real(column) }
        return sqlite3_column_double(handle, column)
    }

    package func text(_ column: Int32) -> String {
        if let postgres { return postgres.text(column) }
        guard let pointer = sqlite3_column_text(handle, column) else { return "" }
        let count = Int(sqlite3_column_bytes(handle, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    package func optionalText(_ column: Int32) -> String? { isNull(column) ? nil : text(column) }

    package func blob(_ column: Int32) -> [UInt8] {
        if let postgres { return postgres.blob(column) }
        guard let pointer = sqlite3_column_blob(handle, column) else { return [] }
        let count = Int(sqlite3_column_bytes(handle, column))
        return Array(UnsafeRawBufferPointer(start: pointer, count: count))
    }
}
