import CSQLite
import CSQLiteVFS
import Foundation

/// One connection to the store: a SQLite file (the embedded default) or a PostgreSQL database (several
/// controllers on one database; see `PostgresConnection`).
///
/// Not thread-safe and not `Sendable`: a connection belongs to one owner at a time, which serialises
/// access (the controller keeps it behind a lock). Statements on hot paths are prepared once and cached.
package final class Database {
    /// The SQLite connection; nil on PostgreSQL.
    private let sqliteConnection: OpaquePointer?
    /// The PostgreSQL session; nil on SQLite.
    let postgres: PostgresConnection?
    /// `pg_advisory_xact_lock`'s key: every write transaction on PostgreSQL takes it first (see `write`).
    private let writeLockKey: Int64
    /// The database file, or `:memory:`; for PostgreSQL its URL without the password.
    package let path: String
    private var statementCache: [String: Statement] = [:]
    var transactionDepth = 0
    /// What to undo outside the database if the changes being written do not commit (`onRollback`).
    var rollbackActions: [() -> Void] = []
    /// What this connection's `sqlite3_wal_hook` calls (`handCheckpoints(to:)`), kept alive with the connection.
    var walHookTarget: AnyObject?

    /// Opens (creating if needed) the database at `path` and sets the connection up: extended result codes,
    /// a busy timeout, foreign keys, and for files WAL with `synchronous = FULL`.
    ///
    /// `FULL` rather than WAL's usual `NORMAL`: with `NORMAL` a power loss can drop the last commits, and a
    /// ledger entry an auditor was told about must never disappear. The cost is one fsync per commit.
    ///
    /// `create: false` refuses a missing file instead of making an empty one (a tenant's data that has moved
    /// away must not reappear empty); `pageSize` applies to a new file only, before WAL fixes it.
    /// `wal: false` keeps a rollback journal: for a file built whole and published by rename, whose every
    /// byte must be in the main file when it is closed (the first opener of the published file turns WAL on).
    ///
    /// WAL files are opened through the batched-WAL VFS (`BatchedWAL.c`): a commit's frames reach the file in one
    /// write before its fsync rather than two writes each. It refuses `synchronous` below FULL on the connection.
    package init(path: String, create: Bool = true, pageSize: Int? = nil, wal: Bool = true) throws(DatabaseError) {
        var handle: OpaquePointer?
        if create { PrivateFiles.prepare(path) }
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let batched = path != ":memory:" && wal
        if batched {
            let registered = residency_batched_wal_register()
            guard registered == SQLITE_OK else {
                throw DatabaseError(
                    code: registered, message: "the batched-WAL VFS could not be registered over SQLite's default")
            }
        }
        let code = sqlite3_open_v2(path, &handle, flags, batched ? RESIDENCY_BATCHED_WAL_VFS : nil)
        guard code == SQLITE_OK, let handle else {
            let error = DatabaseError(connection: handle, code: code)
            sqlite3_close_v2(handle)
            throw error
        }
        self.sqliteConnection = handle
        self.postgres = nil
        self.writeLockKey = 0
        self.path = path
        sqlite3_extended_result_codes(handle, 1)
        sqlite3_busy_timeout(handle, 5_000)
        try execute("PRAGMA foreign_keys = ON")
        if let pageSize { try execute("PRAGMA page_size = \(pageSize)") }
        if path != ":memory:" && wal {
            let mode = try Self.retryingWhileBusy { () throws(DatabaseError) in
                try scalarText("PRAGMA journal_mode = WAL")
            }
            guard mode == "wal" else {
                throw DatabaseError(
                    code: SQLITE_ERROR, message: "journal_mode answered \(mode ?? "nothing"), expected wal")
            }
            try execute("PRAGMA synchronous = FULL")
        }
    }


    /// Runs `body` again while SQLite answers SQLITE_BUSY, for up to five seconds. Setting the journal mode
    /// while another connection of another thread opens, closes (the last close checkpoints and removes the WAL)
    /// or converts the same file can answer BUSY without consulting the busy handler; seen once in a soak run
    /// as a 503 on a tenant's data.
    static func retryingWhileBusy<T>(_ body: () throws(DatabaseError) -> T) throws(DatabaseError) -> T {
        var pause: UInt32 = 1_000
        let deadline = DispatchTime.now().uptimeNanoseconds + 5_000_000_000
        while true {
            do {
                return try body()
            } catch  where error.code & 0xFF == SQLITE_BUSY && DispatchTime.now().uptimeNanoseconds < deadline {
                usleep(pause)
                pause = min(pause * 2, 50_000)
            }
        }
    }

    /// Opens a session on the PostgreSQL database at `url` (`postgresql://USER@HOST:PORT/DATABASE?…`, libpq's
    /// URI form). Schema migration is the caller's (`migrate`), as for SQLite.
    package init(postgresURL url: String) throws(DatabaseError) {
        let connection = try PostgresConnection(url: url)
        sqliteConnection = nil
        postgres = connection
        path = PostgresConnection.redacted(url)
        let schema = try Self.currentSchema(connection)
        writeLockKey = PostgresDialect.lockKey(schema: schema)
    }

    private static func currentSchema(_ connection: PostgresConnection) throws(DatabaseError) -> String {
        let statement = PostgresStatement(connection: connection, sql: "SELECT current_schema()")
        statement.bind([])
        guard try statement.step(), !statement.isNull(0) else {
            throw DatabaseError(
                postgres: "no schema to work in: the search_path names none that exists", url: connection.url)
        }
        return statement.text(0)
    }

    /// Whether the store is PostgreSQL.
    package var isPostgres: Bool { postgres != nil }

    /// The SQLite connection (SQLite-only code: tenant data files, backups).
    var connection: OpaquePointer {
        guard let sqliteConnection else { preconditionFailure("a PostgreSQL store has no SQLite connection") }
        return sqliteConnection
    }

    deinit {
        statementCache.removeAll()
        if let sqliteConnection { sqlite3_close_v2(sqliteConnection) }
    }

    /// Runs one or more statements that take no parameters (schema, pragmas).
    package func execute(_ sql: String) throws(DatabaseError) {
        if let postgres {
            if transactionDepth == 0 { try postgres.reconnectIfLost() }
            return try postgres.execute(sql)
        }
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(connection, sql, nil, nil, &message)
        if code != SQLITE_OK {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_free(message)
            throw DatabaseError(code: sqlite3_extended_errcode(connection), message: text, sql: sql)
        }
    }

    /// A prepared statement for `sql`, compiled on first use and reused after.
    package func statement(_ sql: String) throws(DatabaseError) -> Statement {
        if let cached = statementCache[sql] { return cached }
        let statement = try Statement(database: self, sql: sql)
        statementCache[sql] = statement
        return statement
    }

    /// Runs `body` in a write transaction begun with `BEGIN IMMEDIATE`, so the write lock is taken up front
    /// and a busy database fails at the start rather than halfway through. Any error rolls back and the
    /// first error is rethrown. Nested calls join the outer transaction.
    ///
    /// On PostgreSQL the transaction is READ COMMITTED and its first statement takes a transaction-scoped
    /// advisory lock that every write of every controller on the database takes: writes run one at a time
    /// across controllers, as on SQLite, so each ledger append reads the size the previous one left and the
    /// Merkle tree stays one tree, and every check made inside a write (an idempotency key, a region's capacity,
    /// a token) sees every write committed before it. The lock goes with the transaction — also when the session
    /// dies with its controller.
    package func write<T>(_ body: () throws -> T) throws -> T {
        try transaction(.write, body)
    }

    /// Runs `body` in a read transaction: one consistent snapshot even while a writer commits (on PostgreSQL,
    /// REPEATABLE READ, READ ONLY).
    package func read<T>(_ body: () throws -> T) throws -> T {
        try transaction(.read, body)
    }

    enum TransactionKind { case read, write }

    /// Begins a transaction. SQLite: BEGIN runs as a cached prepared statement (through `sqlite3_exec` it would
    /// be parsed again on every request). PostgreSQL: the session is opened again first if the server dropped it
    /// — only here, between transactions — and BEGIN and the write lock travel in one round trip.
    func begin(_ kind: TransactionKind) throws {
        guard let postgres else {
            return try statement(kind == .write ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED").run()
        }
        if postgres.isInTransaction {
            // Left open by a failure that could not roll back (the session died mid-way): start clean.
            try? postgres.execute("ROLLBACK")
        }
        try postgres.reconnectIfLost()
        let sql =
            kind == .write
            ? "BEGIN; SELECT pg_advisory_xact_lock(\(writeLockKey))"
            : "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY"
        do {
            try postgres.execute(sql)
        } catch {
            // A session the server dropped (a restart) looks alive until it is used: libpq finds out here. Nothing
            // of the transaction has run yet, so it is begun once more on a new session.
            if postgres.isConnected { throw error }
            try postgres.reconnectIfLost()
            try postgres.execute(sql)
        }
    }

    /// COMMIT, ROLLBACK and savepoints: cached prepared statements on SQLite; on PostgreSQL, which cannot
    /// prepare them, simple queries.
    func control(_ sql: String) throws {
        if let postgres { return try postgres.execute(sql) }
        try statement(sql).run()
    }

    private func transaction<T>(_ kind: TransactionKind, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 { return try body() }
        try begin(kind)
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try control("COMMIT")
            rollbackActions.removeAll()
            return result
        } catch {
            try? control("ROLLBACK")
            undo(downTo: 0)
            throw error
        }
    }

    /// Registers `undo` to run if the changes being written do not commit — their transaction is rolled back, or
    /// in a group (`writeGroup`) their savepoint, or the group's transaction before the body runs again. For state
    /// kept outside the database and changed inside a write (counts held in memory): a write rolled back must not
    /// leave it changed.
    package func onRollback(_ undo: @escaping () -> Void) {
        precondition(transactionDepth > 0, "onRollback is for changes made inside a write")
        rollbackActions.append(undo)
    }

    /// Runs the rollback actions registered since `mark`, last first, and forgets them.
    func undo(downTo mark: Int) {
        while rollbackActions.count > mark { rollbackActions.removeLast()() }
    }

    package var isInTransaction: Bool { transactionDepth > 0 }

    /// Whether the database still holds the transaction open (SQLite rolls the whole of it back by itself after
    /// some errors; a PostgreSQL session can die).
    var isTransactionOpen: Bool {
        if let postgres { return postgres.isConnected && postgres.isInTransaction }
        return sqlite3_get_autocommit(connection) == 0
    }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int {
        if let postgres { return postgres.changes }
        return Int(sqlite3_changes(connection))
    }

    package func scalarInteger(_ sql: String, _ values: [DatabaseValue] = []) throws -> Int64? {
        try statement(sql).first(values) { $0.isNull(0) ? nil : $0.integer(0) } ?? nil
    }

    package func scalarText(_ sql: String) throws(DatabaseError) -> String? {
        let statement = try Statement(database: self, sql: sql)
        try statement.bind([])
        return try statement.step() ? statement.currentRow.optionalText(0) : nil
    }

    /// How much of a SQLite file the connection reads through a memory map (`PRAGMA mmap_size`), for one long
    /// sequential pass; nothing on PostgreSQL, whose rows come over the wire.
    package func setMemoryMapSize(_ bytes: Int) throws {
        guard !isPostgres else { return }
        try execute("PRAGMA mmap_size = \(bytes)")
    }

    /// The SQLite library version, for `residency version`.
    package static var sqliteVersion: String { String(cString: sqlite3_libversion()) }

    /// The libpq version, for `residency version`.
    package static var libpqVersion: String { PostgresConnection.libraryVersion }
}
