import CSQLite

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An error SQLite or PostgreSQL reported, with the statement that caused it.
package struct DatabaseError: Error, Sendable, CustomStringConvertible {
    /// The extended result code; for PostgreSQL, the SQLite code of the same meaning (a constraint, a full
    /// disk, or a plain error), so callers classify either store's errors alike.
    package let code: Int32
    package let message: String
    package let sql: String?
    /// The operating system's errno behind an I/O error (ENOSPC when a write found the disk full), or 0.
    package let systemErrno: Int32
    /// PostgreSQL's SQLSTATE; nil for SQLite.
    package let sqlState: String?
    /// PostgreSQL only: the session was lost or could not be opened (the database is down or unreachable). The
    /// request fails with 503 and the next one reconnects.
    package let isConnectionLost: Bool

    init(code: Int32, message: String, sql: String? = nil, systemErrno: Int32 = 0) {
        self.code = code
        self.message = message
        self.sql = sql
        self.systemErrno = systemErrno
        self.sqlState = nil
        self.isConnectionLost = false
    }

    /// A PostgreSQL error. `url` names the server in the message when the session is lost (its password
    /// redacted).
    init(
        postgres message: String, sqlState: String? = nil, sql: String? = nil, url: String,
        isConnectionLost: Bool = false
    ) {
        switch sqlState {
        case let state? where state.hasPrefix("23"): code = SQLITE_CONSTRAINT
        case "53100": code = SQLITE_FULL
        default: code = SQLITE_ERROR
        }
        self.message = isConnectionLost ? "\(message) (PostgreSQL at \(PostgresConnection.redacted(url)))" : message
        self.sql = sql
        self.systemErrno = 0
        self.sqlState = sqlState
        self.isConnectionLost = isConnectionLost
    }

    init(connection: OpaquePointer?, code: Int32, sql: String? = nil) {
        let message =
            connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
            ?? String(cString: sqlite3_errstr(code))
        self.init(code: code, message: message, sql: sql, systemErrno: connection.map { sqlite3_system_errno($0) } ?? 0)
    }

    /// The primary result code (the low byte of the extended one).
    package var primaryCode: Int32 { code & 0xFF }

    package var isConstraintViolation: Bool { primaryCode == SQLITE_CONSTRAINT }
    /// SQLite's own "disk full", a failure to grow the WAL index, or an I/O error (a write, an fsync) whose
    /// cause was ENOSPC, EDQUOT or EFBIG.
    package var isDiskFull: Bool {
        // Growing the shared-memory WAL index fails only for want of space, and SQLite does not keep its errno.
        // (SQLITE_IOERR_SHMSIZE is a macro Swift does not import.)
        let shmSize = SQLITE_IOERR | (19 << 8)
        return primaryCode == SQLITE_FULL || code == shmSize
            || (primaryCode == SQLITE_IOERR && [ENOSPC, EDQUOT, EFBIG].contains(systemErrno))
    }

    package var description: String {
        if let sqlState {
            var text = "PostgreSQL error \(sqlState): \(message)"
            if let sql { text += " — while running: \(sql)" }
            return text
        }
        if isConnectionLost {
            return "PostgreSQL unavailable: \(message); the controller reconnects at the next request"
        }
        var text = "SQLite error \(code) (\(String(cString: sqlite3_errstr(code)))): \(message)"
        if let sql { text += " — while running: \(sql)" }
        return text
    }
}

/// Store-level refusals that are not SQLite's own errors.
package enum StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The file was written by a newer Residency; opening it could corrupt data this version does not know.
    case schemaTooNew(path: String, found: Int, supported: Int)
    case cannotCreateDirectory(path: String, reason: String)
    /// The data directory's mode lets other users read, write or enter it.
    case directoryOpenToOthers(path: String, mode: String)
    case journalModeRefused(path: String, mode: String)
    /// Another server holds the data directory.
    case directoryInUse(path: String, pid: String)
    /// A shared counter file could not be opened or mapped.
    case cannotMap(path: String, reason: String)
    /// A small file could not be written whole (`AtomicFile`).
    case io(String)
    /// `--store` or `RESIDENCY_STORE` names no store this version can open.
    case invalidStore(String)
    /// A table or index is not defined as this version's migrations left it (`Database.rewriteSchemaText`).
    case unexpectedSchema(path: String, object: String, expected: String)
    /// Stored rows a migration's stricter constraint would refuse (`SchemaTextRewrite.violations`).
    case rowsRefusedByConstraint(path: String, object: String, constraint: String, rows: Int, query: String)

    package var description: String {
        switch self {
        case .schemaTooNew(let path, let found, let supported):
            return
                "\(path) has schema version \(found), newer than this residency supports (\(supported)); upgrade residency, or use a data directory written by this version"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create data directory \(path): \(reason)"
        case .directoryOpenToOthers(let path, let mode):
            return
                "data directory \(path) has mode \(mode): other users could read tenant names, signup addresses, token hashes and access requests in it; accepted: a directory only its owner can reach (fix: chmod 700 \(path))"
        case .directoryInUse(let path, let pid):
            return
                "data directory \(path) is in use by another residency server (pid \(pid)); stop it, or use another --data directory"
        case .io(let message):
            return message
        case .invalidStore(let text):
            return
                "--store or RESIDENCY_STORE is \(text); accepted: postgresql://USER@HOST:PORT/DATABASE (libpq's URI form), or sqlite (the data directory's own file, the default)"
        case .cannotMap(let path, let reason):
            return
                "cannot map \(path) into memory: \(reason); the data directory must be writable and on a local file system"
        case .rowsRefusedByConstraint(let path, let object, let constraint, let rows, let query):
            return
                "\(path): \(rows) rows of \(object) do not satisfy \(constraint), which this version of residency's schema requires; they were not written by residency — correct them (find them with: \(query)) and start again"
        case .unexpectedSchema(let path, let object, let expected):
            return
                "\(path): the definition of \(object) is not the one residency's migrations wrote (expected \(expected)); the file was changed by something else — restore it from a backup made by residency"
        case .journalModeRefused(let path, let mode):
            return
                "\(path): SQLite refused WAL journal mode (answered \"\(mode)\"); the data directory must be on a local file system"
        }
    }
}
