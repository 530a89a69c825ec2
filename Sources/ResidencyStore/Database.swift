import CSQLite
import Foundation

/// One SQLite connection.
///
/// Not thread-safe and not `Sendable`: a connection belongs to one owner at a time, which serialises
/// access (the controller keeps it behind a lock). Statements on hot paths are prepared once and cached.
package final class Database {
    let connection: OpaquePointer
    /// The database file, or `:memory:`.
    package let path: String
    private var statementCache: [String: Statement] = [:]
    private var transactionDepth = 0
    /// What to undo outside the database if the changes being written do not commit (`onRollback`).
    private var rollbackActions: [() -> Void] = []

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
    package init(path: String, create: Bool = true, pageSize: Int? = nil, wal: Bool = true) throws(DatabaseError) {
        _ = Self.configureLibrary
        var handle: OpaquePointer?
        if create { PrivateFiles.prepare(path) }
        let flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &handle, flags, nil)
        guard code == SQLITE_OK, let handle else {
            let error = DatabaseError(connection: handle, code: code)
            sqlite3_close_v2(handle)
            throw error
        }
        self.connection = handle
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

    /// Process-wide settings made once, before the first connection opens (sqlite3_config refuses them after).
    ///
    /// A group commit (`writeGroup`) runs each write in a savepoint, and SQLite keeps what a savepoint needs to
    /// roll back in a statement journal that spills to a temporary file past 64 KiB by default — a group of 64
    /// signups wrote some 4,000 pages a second to /var/tmp, more than the commit wrote to the WAL. Up to
    /// 16 MiB stays in memory (a group of 128 writes needs about 10 MiB); larger ones still spill, so memory
    /// stays bounded.
    private static let configureLibrary: Void = {
        _ = residency_sqlite_set_statement_journal_spill(16 << 20)
    }()

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

    deinit {
        statementCache.removeAll()
        sqlite3_close_v2(connection)
    }

    /// Runs one or more statements that take no parameters (schema, pragmas).
    package func execute(_ sql: String) throws(DatabaseError) {
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
    package func write<T>(_ body: () throws -> T) throws -> T {
        try transaction("BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in a read transaction: one consistent snapshot even while a writer commits.
    package func read<T>(_ body: () throws -> T) throws -> T {
        try transaction("BEGIN DEFERRED", body)
    }

    /// BEGIN, COMMIT and ROLLBACK run as cached prepared statements: through `sqlite3_exec` each would be
    /// parsed again on every request.
    private func transaction<T>(_ begin: String, _ body: () throws -> T) throws -> T {
        if transactionDepth > 0 { return try body() }
        try statement(begin).run()
        transactionDepth = 1
        defer { transactionDepth = 0 }
        do {
            let result = try body()
            try statement("COMMIT").run()
            rollbackActions.removeAll()
            return result
        } catch {
            try? statement("ROLLBACK").run()
            undo(downTo: 0)
            throw error
        }
    }

    /// Runs each of `bodies` in a savepoint of its own inside one `BEGIN IMMEDIATE … COMMIT`: writes made
    /// durable together, by one commit (one fsync with `synchronous = FULL`). Answers one outcome per body, in
    /// order: nil when its changes committed, else its error.
    ///
    /// A body that throws is rolled back to its savepoint and answered its own error; the bodies before and
    /// after it commit. If the transaction itself fails — `BEGIN`, `COMMIT`, or an error after which SQLite
    /// rolled the whole transaction back (a full disk, an I/O error) — every body whose changes it held is
    /// answered that error, and the bodies not yet run go on in a new transaction.
    package func writeGroup(_ bodies: [() throws -> Void]) -> [(any Error)?] {
        precondition(transactionDepth == 0, "a group of writes is a transaction of its own")
        var outcomes = [(any Error)?](repeating: nil, count: bodies.count)
        var next = 0
        while next < bodies.count {
            do {
                try statement("BEGIN IMMEDIATE").run()
            } catch {
                for index in next..<bodies.count { outcomes[index] = error }
                return outcomes
            }
            transactionDepth = 1
            defer { transactionDepth = 0 }
            // The bodies whose changes this transaction holds.
            var members: [Int] = []
            var transactionError: (any Error)?
            while next < bodies.count {
                let index = next
                next += 1
                let mark = rollbackActions.count
                do {
                    try statement("SAVEPOINT grouped_write").run()
                    try bodies[index]()
                    try statement("RELEASE grouped_write").run()
                    members.append(index)
                } catch {
                    outcomes[index] = error
                    // SQLite may have rolled back the whole transaction already (autocommit is back on).
                    if sqlite3_get_autocommit(connection) == 0 {
                        do {
                            try statement("ROLLBACK TO grouped_write").run()
                            try statement("RELEASE grouped_write").run()
                            undo(downTo: mark)
                            continue
                        } catch {}
                    }
                    transactionError = error
                    break
                }
            }
            if transactionError == nil && !members.isEmpty {
                do {
                    try statement("COMMIT").run()
                    rollbackActions.removeAll()
                    continue
                } catch {
                    transactionError = error
                }
            }
            try? statement("ROLLBACK").run()
            undo(downTo: 0)
            if let transactionError {
                for index in members { outcomes[index] = transactionError }
            }
        }
        return outcomes
    }

    /// Registers `undo` to run if the changes being written do not commit — their savepoint in a group
    /// (`writeGroup`) or their transaction is rolled back. For state kept outside the database and changed
    /// inside a write (counts held in memory): a write rolled back must not leave it changed.
    package func onRollback(_ undo: @escaping () -> Void) {
        precondition(transactionDepth > 0, "onRollback is for changes made inside a write")
        rollbackActions.append(undo)
    }

    /// Runs the rollback actions registered since `mark`, last first, and forgets them.
    private func undo(downTo mark: Int) {
        while rollbackActions.count > mark { rollbackActions.removeLast()() }
    }

    package var isInTransaction: Bool { transactionDepth > 0 }

    /// Rows changed by the last INSERT, UPDATE or DELETE.
    package var changes: Int { Int(sqlite3_changes(connection)) }

    package func scalarInteger(_ sql: String, _ values: [DatabaseValue] = []) throws -> Int64? {
        try statement(sql).first(values) { $0.isNull(0) ? nil : $0.integer(0) } ?? nil
    }

    package func scalarText(_ sql: String) throws(DatabaseError) -> String? {
        let statement = try Statement(database: self, sql: sql)
        try statement.bind([])
        return try statement.step() ? Row(handle: statement.handle).optionalText(0) : nil
    }

    /// The SQLite library version, for `residency version`.
    package static var sqliteVersion: String { String(cString: sqlite3_libversion()) }
}
