import CLibPQ

/// The PostgreSQL side of a `Statement`: a server-side prepared statement (prepared again after a
/// reconnection), its bound values, and the rows of its last run.
///
/// Rows arrive in text format: integers are parsed, blobs (bytea) decoded from PostgreSQL's hex form. The whole
/// result is held until the statement is reset.
final class PostgresStatement {
    unowned let connection: PostgresConnection
    /// The statement as the repositories wrote it, for error messages.
    let sql: String
    /// The statement in PostgreSQL's spelling (`PostgresDialect`).
    let translated: String
    private let name: String
    private var preparedGeneration = -1
    private var values: [DatabaseValue] = []
    private var result: OpaquePointer?
    private var rowCount: Int32 = 0
    private(set) var row: Int32 = -1
    /// Blobs decoded for the current row, kept so that a buffer handed out stays valid until the next step.
    private var decoded: [Int32: (buffer: UnsafeMutableRawBufferPointer, count: Int)] = [:]

    init(connection: PostgresConnection, sql: String) {
        self.connection = connection
        self.sql = sql
        translated = PostgresDialect.translate(sql)
        name = connection.nextStatementName()
    }

    deinit {
        if let result { PQclear(result) }
        freeDecoded()
    }

    private func freeDecoded() {
        for value in decoded.values { value.buffer.deallocate() }
        decoded.removeAll(keepingCapacity: true)
    }

    func bind(_ values: [DatabaseValue]) {
        reset()
        self.values = values
    }

    func reset() {
        if let result { PQclear(result) }
        result = nil
        rowCount = 0
        row = -1
        freeDecoded()
    }

    /// Runs the statement on the first call after `bind`, then moves to the next row; false past the last.
    func step() throws(DatabaseError) -> Bool {
        if result == nil {
            if preparedGeneration != connection.generation {
                try connection.prepare(name: name, sql: translated)
                preparedGeneration = connection.generation
            }
            let answer = try connection.run(name: name, sql: sql, values: values)
            result = answer
            rowCount = PQntuples(answer)
        }
        freeDecoded()
        row += 1
        return row < rowCount
    }

    func isNull(_ column: Int32) -> Bool { PQgetisnull(result, row, column) == 1 }

    func text(_ column: Int32) -> String {
        guard let value = PQgetvalue(result, row, column) else { return "" }
        return String(cString: value)
    }

    func integer(_ column: Int32) -> Int64 {
        guard let value = PQgetvalue(result, row, column) else { return 0 }
        let text = String(cString: value)
        if let integer = Int64(text) { return integer }
        // Booleans read as integers, as SQLite has them; numeric sums and averages truncated as SQLite would.
        if text == "t" { return 1 }
        if text == "f" { return 0 }
        return Double(text).map { Int64($0) } ?? 0
    }

    func real(_ column: Int32) -> Double {
        guard let value = PQgetvalue(result, row, column) else { return 0 }
        return Double(String(cString: value)) ?? 0
    }

    func blob(_ column: Int32) -> [UInt8] { Array(blobBuffer(column)) }

    /// The blob in `column`, valid until the next step or reset.
    func blobBuffer(_ column: Int32) -> UnsafeRawBufferPointer {
        if let value = decoded[column] { return UnsafeRawBufferPointer(rebasing: value.buffer[0..<value.count]) }
        let raw = UnsafeRawBufferPointer(
            start: PQgetvalue(result, row, column), count: Int(PQgetlength(result, row, column)))
        let bytes: [UInt8]
        if PQftype(result, column) == PostgresDialect.byteaType {
            bytes = PostgresDialect.decodeHex(raw)
        } else {
            // A text column read as bytes (SQLite lets either be read as the other).
            bytes = Array(raw)
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 1)
        bytes.withUnsafeBytes {
            if let base = $0.baseAddress { buffer.baseAddress!.copyMemory(from: base, byteCount: $0.count) }
        }
        decoded[column] = (buffer, bytes.count)
        return UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
    }
}
