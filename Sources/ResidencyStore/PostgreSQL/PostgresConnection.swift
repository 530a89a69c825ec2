import CLibPQ
import CSQLite
import Foundation

/// One PostgreSQL session through libpq, for `Database` when the store is PostgreSQL.
///
/// Not thread-safe, like the SQLite connection it stands beside: its `Database` has one owner at a time. A
/// session that the server dropped (a restart, a network cut) is opened again by `reconnectIfLost`, which
/// `Database` calls only before a transaction begins — never in the middle of one, where a new session would
/// silently run the rest of the work outside the transaction.
final class PostgresConnection {
    private(set) var handle: OpaquePointer
    /// The connection URL as given (it may hold a password: never printed; see `redactedURL`).
    let url: String
    /// Bumped by every reconnection: statements prepared in an older session are prepared again.
    private(set) var generation = 0
    /// Rows changed by the last command.
    private(set) var changes = 0
    private var statementNames = 0

    init(url: String) throws(DatabaseError) {
        self.url = url
        guard let handle = PQconnectdb(url) else {
            throw DatabaseError(postgres: "libpq could not allocate a connection", url: url)
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle))
            PQfinish(handle)
            throw DatabaseError(postgres: Self.trimmed(message), url: url, isConnectionLost: true)
        }
        self.handle = handle
        try configure()
    }

    deinit { PQfinish(handle) }

    /// Session settings every connection needs: UTC, and no statement left waiting on a lock for ever.
    private func configure() throws(DatabaseError) {
        try execute(
            "SET TIME ZONE 'UTC'; SET client_min_messages = warning; SET lock_timeout = '30s'; "
                + "SET idle_in_transaction_session_timeout = '60s'")
    }

    /// The URL without its password, for messages and `Database.path`.
    static func redacted(_ url: String) -> String {
        guard var components = URLComponents(string: url) else { return "postgresql://…" }
        if components.password != nil { components.password = "…" }
        components.queryItems = components.queryItems?.map {
            $0.name == "password" ? URLQueryItem(name: "password", value: "…") : $0
        }
        return components.string ?? "postgresql://…"
    }

    var isConnected: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Opens the session again when the server dropped it. Throws, with a message saying the database is
    /// unreachable, while it stays down: callers answer 503 and try again at the next request.
    func reconnectIfLost() throws(DatabaseError) {
        if isConnected { return }
        PQreset(handle)
        guard isConnected else {
            throw DatabaseError(
                postgres: "cannot reach PostgreSQL: " + Self.trimmed(String(cString: PQerrorMessage(handle))),
                url: url, isConnectionLost: true)
        }
        generation += 1
        try configure()
    }

    /// Whether a transaction is open on the session (also when it failed and waits for a rollback).
    var isInTransaction: Bool {
        let status = PQtransactionStatus(handle)
        return status == PQTRANS_INTRANS || status == PQTRANS_INERROR || status == PQTRANS_ACTIVE
    }

    /// Runs one or more statements without parameters (schema, transaction control).
    func execute(_ sql: String) throws(DatabaseError) {
        let result = PQexec(handle, sql)
        defer { PQclear(result) }
        try check(result, sql: sql)
        changes = Int(String(cString: PQcmdTuples(result))) ?? 0
    }

    /// A name for a new server-side prepared statement.
    func nextStatementName() -> String {
        statementNames += 1
        return "residency_\(statementNames)"
    }

    func prepare(name: String, sql: String) throws(DatabaseError) {
        let result = PQprepare(handle, name, sql, 0, nil)
        defer { PQclear(result) }
        try check(result, sql: sql)
    }

    /// Runs the prepared statement `name` with `values`: text for everything but blobs, which go as binary
    /// (bytea), so no value is ever pasted into SQL text. Answers the result, which the caller clears.
    func run(name: String, sql: String, values: [DatabaseValue]) throws(DatabaseError) -> OpaquePointer {
        var texts: [[CChar]?] = []
        var blobs: [[UInt8]?] = []
        var formats: [Int32] = []
        var lengths: [Int32] = []
        texts.reserveCapacity(values.count)
        for (position, value) in values.enumerated() {
            switch value {
            case .null:
                texts.append(nil); blobs.append(nil); formats.append(0); lengths.append(0)
            case .integer(let integer):
                texts.append(Array(String(integer).utf8CString)); blobs.append(nil); formats.append(0);
                lengths.append(0)
            case .real(let real):
                texts.append(Array("\(real)".utf8CString)); blobs.append(nil); formats.append(0); lengths.append(0)
            case .text(let text):
                // Sent as a C string, and PostgreSQL text cannot hold a NUL: refused rather than cut at the NUL.
                if text.utf8.contains(0) {
                    throw DatabaseError(
                        code: SQLITE_MISMATCH,
                        message: "parameter \(position + 1) holds a NUL byte, which PostgreSQL text cannot store",
                        sql: sql)
                }
                texts.append(Array(text.utf8CString)); blobs.append(nil); formats.append(0); lengths.append(0)
            case .blob(let bytes):
                texts.append(nil); blobs.append(bytes); formats.append(1); lengths.append(Int32(bytes.count))
            }
        }
        let result = withParameterPointers(texts: texts, blobs: blobs) { pointers in
            PQexecPrepared(handle, name, Int32(values.count), pointers, lengths, formats, 0)
        }
        do {
            try check(result, sql: sql)
        } catch {
            PQclear(result)
            throw error
        }
        changes = Int(String(cString: PQcmdTuples(result))) ?? 0
        return result!
    }

    /// Calls `body` with one C pointer per parameter, valid for the call only.
    private func withParameterPointers<T>(
        texts: [[CChar]?], blobs: [[UInt8]?], _ body: ([UnsafePointer<CChar>?]) -> T
    ) -> T {
        var pointers: [UnsafePointer<CChar>?] = []
        var owned: [UnsafeMutablePointer<CChar>] = []
        defer { owned.forEach { $0.deallocate() } }
        for (text, blob) in zip(texts, blobs) {
            if let text {
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: text.count)
                copy.initialize(from: text, count: text.count)
                owned.append(copy)
                pointers.append(UnsafePointer(copy))
            } else if let blob {
                let copy = UnsafeMutablePointer<CChar>.allocate(capacity: max(blob.count, 1))
                blob.withUnsafeBytes { bytes in
                    if let base = bytes.baseAddress {
                        UnsafeMutableRawPointer(copy).copyMemory(from: base, byteCount: bytes.count)
                    }
                }
                owned.append(copy)
                pointers.append(UnsafePointer(copy))
            } else {
                pointers.append(nil)
            }
        }
        return body(pointers)
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(DatabaseError) {
        let status = result.map { PQresultStatus($0) } ?? PGRES_FATAL_ERROR
        if status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY { return }
        let sqlState = result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "C"))) }.map { String(cString: $0) }
        let message =
            result.flatMap { PQresultErrorField($0, Int32(UInt8(ascii: "M"))) }.map { String(cString: $0) }
            ?? Self.trimmed(String(cString: PQerrorMessage(handle)))
        throw DatabaseError(
            postgres: message, sqlState: sqlState, sql: sql, url: url,
            isConnectionLost: !isConnected || sqlState?.hasPrefix("08") == true || sqlState?.hasPrefix("57P") == true)
    }

    static func trimmed(_ message: String) -> String {
        message.trimmingCharacters(in: .whitespacesAndNewlines).replacingOccurrences(of: "\n", with: "; ")
    }

    /// The libpq version, for `residency version`.
    static var libraryVersion: String {
        let version = Int(PQlibVersion())
        return "\(version / 10_000).\(version % 10_000)"
    }
}
