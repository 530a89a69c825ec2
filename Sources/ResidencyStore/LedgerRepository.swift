import ResidencyCore

/// The ledger tables: entries with their leaf hashes, the hash of every complete aligned subtree (so any
/// root and any proof is O(log n) reads, never a rebuild), and the signed checkpoints.
package struct LedgerRepository: MerkleNodeSource {
    let database: Database
    /// The most rows a scan asks PostgreSQL for at a time (`scan`): about a megabyte of entries.
    let postgresPageRows: Int

    package init(_ database: Database, postgresPageRows: Int = 4096) {
        precondition(postgresPageRows > 0, "a page holds at least one row")
        self.database = database
        self.postgresPageRows = postgresPageRows
    }

    /// The number of entries: one past the highest index (indices are dense, so no count over the table).
    package func size() throws -> Int { Int(try database.scalarInteger("SELECT max(idx) + 1 FROM ledger_entries") ?? 0) }

    /// Appends an entry whose canonical bytes are `entry` at index `index` (which must be the current size),
    /// storing its leaf hash and every subtree the new leaf completes. Call inside a write transaction.
    @discardableResult
    package func append(_ entry: [UInt8], kind: String, at index: Int) throws -> SHA256Digest {
        let leaf = MerkleTree.leafHash(entry)
        try database.statement("INSERT INTO ledger_entries (idx, kind, entry, leaf_hash) VALUES (?, ?, ?, ?)").run([
            .integer(Int64(index)), .text(kind), .blob(entry), .blob(leaf.bytes),
        ])
        // Rows keyed (size, level): the leaf and every parent it completes share the size index + 1 (schema 18).
        let size = Int64(index) + 1
        let insertNode = try database.statement("INSERT INTO ledger_nodes (size, level, hash) VALUES (?, ?, ?)")
        try insertNode.run([.integer(size), .integer(0), .blob(leaf.bytes)])
        // Each time the new node is a right child, its parent is now complete.
        var level = 0
        var position = index
        var hash = leaf
        while position & 1 == 1 {
            let left = try node(level: level, index: position - 1)
            hash = MerkleTree.nodeHash(left, hash)
            level += 1
            position >>= 1
            try insertNode.run([.integer(size), .integer(Int64(level)), .blob(hash.bytes)])
        }
        return leaf
    }

    /// The hash of the complete subtree of 2^`level` leaves starting at leaf `index` << `level`.
    package func node(level: Int, index: Int) throws -> SHA256Digest {
        guard level >= 0, level < 62, index >= 0, index < (1 << (62 - level)) else {
            throw DatabaseError(code: 11, message: "ledger tree node (\(level), \(index)) is outside any tree")
        }
        guard
            let bytes = try database.statement("SELECT hash FROM ledger_nodes WHERE size = ? AND level = ?").first(
                [.integer(Int64(index + 1) << Int64(level)), .integer(Int64(level))], { $0.blob(0) }),
            let digest = SHA256Digest(bytes: bytes)
        else {
            throw DatabaseError(code: 11, message: "ledger tree node (\(level), \(index)) is missing or malformed")
        }
        return digest
    }

    /// Entries `[from, to)` as stored: index, canonical bytes, stored leaf hash.
    package func entries(from: Int, to: Int) throws -> [(index: Int, entry: [UInt8], leafHash: [UInt8])] {
        try database.statement(
            "SELECT idx, entry, leaf_hash FROM ledger_entries WHERE idx >= ? AND idx < ? ORDER BY idx"
        ).rows(
            [.integer(Int64(from)), .integer(Int64(to))]
        ) { (Int($0.integer(0)), $0.blob(1), $0.blob(2)) }
    }

    /// Calls `body` for every entry in index order without holding them all in memory.
    package func forEachEntry(
        _ body: (_ rowIndex: Int, _ entry: UnsafeRawBufferPointer, _ leafHash: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        try scan(
            sqlite: "SELECT idx, entry, leaf_hash FROM ledger_entries ORDER BY idx",
            postgres: "SELECT idx, entry, leaf_hash FROM ledger_entries WHERE idx > ?1 ORDER BY idx",
            [], from: [.integer(-1)], next: { [.integer($0.integer(0))] }
        ) { statement in
            try body(Int(statement.integer(0)), statement.blobBuffer(1), statement.blobBuffer(2))
        }
    }

    /// Runs a scan over the ledger's entries and calls `row` with the statement standing on each row.
    ///
    /// SQLite steps through rows straight off its B-tree, so one statement streams any number of them. libpq
    /// receives a query's whole result before the first row can be read — over a ledger of millions that would
    /// hold them all in memory — so on PostgreSQL the scan runs as keyset pages of at most `postgresPageRows`
    /// rows: `postgres` is the query with its keyset condition last (parameters after `values`), `start` the
    /// keyset before the first row and `next` the keyset of a row read. The pages run inside the caller's
    /// transaction (REPEATABLE READ for reads), so all of them see one snapshot.
    private func scan(
        sqlite: String, postgres: String, _ values: [DatabaseValue], from start: [DatabaseValue],
        next: (Statement) -> [DatabaseValue], _ row: (Statement) throws -> Void
    ) throws {
        guard database.isPostgres else {
            let statement = try database.statement(sqlite)
            try statement.bind(values)
            defer { statement.reset() }
            while try statement.step() { try row(statement) }
            return
        }
        let statement = try database.statement(postgres + " LIMIT \(postgresPageRows)")
        var keyset = start
        while true {
            try statement.bind(values + keyset)
            defer { statement.reset() }
            var rows = 0
            while try statement.step() {
                rows += 1
                keyset = next(statement)
                try row(statement)
            }
            if rows < postgresPageRows { return }
        }
    }

    /// Calls `body` for every entry below index `end` whose kind is one of `kinds`, in index order. Meant for
    /// the rare kinds (filings, decisions, refusals): the rows are sorted after they are found.
    package func forEachEntry(
        kinds: [String], below end: Int, _ body: (_ index: Int, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !kinds.isEmpty else { return }
        let placeholders = kinds.indices.map { "?\($0 + 2)" }.joined(separator: ", ")
        let select = "SELECT idx, entry FROM ledger_entries WHERE idx < ?1 AND kind IN (\(placeholders))"
        try scan(
            sqlite: select + " ORDER BY idx", postgres: select + " AND idx > ?\(kinds.count + 2) ORDER BY idx",
            [.integer(Int64(end))] + kinds.map { .text($0) }, from: [.integer(-1)],
            next: { [.integer($0.integer(0))] }
        ) { statement in
            try body(Int(statement.integer(0)), statement.blobBuffer(1))
        }
    }

    /// Calls `body` for every entry of one kind with an index in `indices`, in index order, straight off the
    /// `(kind, idx)` index — no sort, so a report can scan millions of one kind in slices side by side.
    package func forEachEntry(
        kind: String, indices: Range<Int>, _ body: (_ index: Int, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let select = "SELECT idx, entry FROM ledger_entries WHERE kind = ?1 AND idx >= ?2 AND idx < ?3"
        try scan(
            sqlite: select + " ORDER BY kind, idx", postgres: select + " AND idx > ?4 ORDER BY kind, idx",
            [.text(kind), .integer(Int64(indices.lowerBound)), .integer(Int64(indices.upperBound))],
            from: [.integer(-1)], next: { [.integer($0.integer(0))] }
        ) { statement in
            try body(Int(statement.integer(0)), statement.blobBuffer(1))
        }
    }

    /// The indexed expressions of schema version 7, spelt as the indexes spell them (SQLite matches the text).
    static let timeExpression = "json_extract(CAST(entry AS TEXT), '$.time')"
    static let requestExpression = "json_extract(CAST(entry AS TEXT), '$.body.request')"
    /// The condition of the partial index `ledger_entries_access_request` (schema version 13), which a query
    /// must repeat exactly for SQLite to use the index. Comparisons, not an IN list: see `Schema`, version 13.
    static let accessRequestKinds =
        "(kind = 'access.requested' OR kind = 'access.auto_approved' OR kind = 'access.approved'"
        + " OR kind = 'access.denied' OR kind = 'access.dismissed' OR kind = 'access.break_glass')"

    /// The earliest and latest time among entries of `kind`, each one step down the (kind, time) index; nil
    /// when there are none. (No bound on the index: that would make SQLite scan every entry of the kind.)
    package func timeBounds(kind: String) throws -> (earliest: Int64, latest: Int64)? {
        let earliest = try database.statement(
            "SELECT min(\(Self.timeExpression)) FROM ledger_entries INDEXED BY ledger_entries_kind_time WHERE kind = ?1"
        ).first([.text(kind)]) { $0.optionalInteger(0) }
        let latest = try database.statement(
            "SELECT max(\(Self.timeExpression)) FROM ledger_entries INDEXED BY ledger_entries_kind_time WHERE kind = ?1"
        ).first([.text(kind)]) { $0.optionalInteger(0) }
        guard let earliest = earliest ?? nil, let latest = latest ?? nil else { return nil }
        return (earliest, latest)
    }

    /// Calls `body` for every entry below `end` of one of `kinds` whose time is in `from..<to`, straight off the
    /// (kind, time) index: the cost follows the window, not the ledger. In time order per kind, not index order.
    package func forEachEntry(
        kinds: [String], timeFrom from: Int64, to: Int64, below end: Int,
        _ body: (_ index: Int, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let window =
            " FROM ledger_entries INDEXED BY ledger_entries_kind_time WHERE kind = ?1 AND \(Self.timeExpression) >= ?2 AND \(Self.timeExpression) < ?3 AND idx < ?4"
        for kind in kinds {
            // PostgreSQL's pages follow the (kind, time) index: keyset (time, index), the time read as a third column.
            try scan(
                sqlite: "SELECT idx, entry" + window,
                postgres: "SELECT idx, entry, \(Self.timeExpression)" + window
                    + " AND (\(Self.timeExpression), idx) > (?5, ?6) ORDER BY \(Self.timeExpression), idx",
                [.text(kind), .integer(from), .integer(to), .integer(Int64(end))],
                from: [.integer(Int64.min), .integer(-1)], next: { [.integer($0.integer(2)), .integer($0.integer(0))] }
            ) { statement in
                try body(Int(statement.integer(0)), statement.blobBuffer(1))
            }
        }
    }

    /// Calls `body` for every filing and decision (`access.requested`, `.auto_approved`, `.approved`, `.denied`,
    /// `.dismissed`, `.break_glass`) below `end` about one of `requests`, off the request index; in no particular
    /// order. The ids travel as one JSON array parameter, so the statement text (and the cached prepared
    /// statement) is the same whatever their number — an IN list of placeholders made one statement per list
    /// length, each cached on every reader connection.
    package func forEachGrantEntry(
        requests: [String], below end: Int, _ body: (_ index: Int, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        guard !requests.isEmpty else { return }
        // The kind list is the partial index's own WHERE clause, which SQLite needs to see to use it; INDEXED BY
        // because without statistics the planner preferred the (kind, idx) index — every filing ever made.
        let statement = try database.statement(
            """
            SELECT idx, entry FROM ledger_entries INDEXED BY ledger_entries_access_request
            WHERE \(Self.accessRequestKinds)
            AND \(Self.requestExpression) IN (SELECT value FROM json_each(?2)) AND idx < ?1
            """
        )
        let list = JSONValue.array(requests.map { .string($0) }).encoded()
        try statement.bind([.integer(Int64(end)), .text(list)])
        defer { statement.reset() }
        while try statement.step() {
            try body(Int(statement.integer(0)), statement.blobBuffer(1))
        }
    }

    package struct StoredCheckpoint: Sendable {
        package let size: Int
        package let root: [UInt8]
        package let note: String
        package let createdAt: Int64

        package init(size: Int, root: [UInt8], note: String, createdAt: Int64) {
            self.size = size
            self.root = root
            self.note = note
            self.createdAt = createdAt
        }
    }

    package func insertCheckpoint(size: Int, root: SHA256Digest, note: String, at time: Int64) throws {
        try database.statement("INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES (?, ?, ?, ?)").run(
            [
                .integer(Int64(size)), .blob(root.bytes), .text(note), .integer(time),
            ])
    }

    package func latestCheckpoint() throws -> StoredCheckpoint? {
        try database.statement("SELECT size, root, note, created_at FROM ledger_checkpoints ORDER BY size DESC LIMIT 1")
            .first([], Self.readCheckpoint)
    }

    package func checkpoints() throws -> [StoredCheckpoint] {
        try database.statement("SELECT size, root, note, created_at FROM ledger_checkpoints ORDER BY size").rows(
            [], Self.readCheckpoint)
    }

    static func readCheckpoint(_ row: Row) -> StoredCheckpoint {
        StoredCheckpoint(size: Int(row.integer(0)), root: row.blob(1), note: row.text(2), createdAt: row.integer(3))
    }

    /// A checkpoint note with the cosignatures of a witness quorum (`cosigners`: their names, comma-separated).
    package struct PublishedCheckpoint: Sendable {
        package let size: Int
        package let note: String
        package let cosigners: [String]
        package let createdAt: Int64
    }

    package func insertPublished(size: Int, note: String, cosigners: [String], at time: Int64) throws {
        try database.statement(
            "INSERT OR IGNORE INTO ledger_published (size, note, cosigners, created_at) VALUES (?, ?, ?, ?)"
        ).run([.integer(Int64(size)), .text(note), .text(cosigners.joined(separator: ",")), .integer(time)])
    }

    package func latestPublished() throws -> PublishedCheckpoint? {
        try database.statement(
            "SELECT size, note, cosigners, created_at FROM ledger_published ORDER BY size DESC LIMIT 1"
        ).first([], Self.readPublished)
    }

    package func published() throws -> [PublishedCheckpoint] {
        try database.statement("SELECT size, note, cosigners, created_at FROM ledger_published ORDER BY size").rows(
            [], Self.readPublished)
    }

    static func readPublished(_ row: Row) -> PublishedCheckpoint {
        PublishedCheckpoint(
            size: Int(row.integer(0)), note: row.text(1),
            cosigners: row.text(2).split(separator: ",").map(String.init), createdAt: row.integer(3))
    }

    /// The indices of entries about `tenant` in `(after, below)`, at most `limit`, in order. A scan of the entries
    /// in that range (the tenant is read from each entry's JSON by SQLite): fine per tenant and page, not an index.
    package func indices(tenant: String, after: Int, below: Int, limit: Int) throws -> [Int] {
        try database.statement(
            """
            SELECT idx FROM ledger_entries INDEXED BY ledger_entries_tenant
            WHERE json_extract(CAST(entry AS TEXT), '$.tenant') = ?3 AND idx > ?1 AND idx < ?2
            ORDER BY idx LIMIT ?4
            """
        ).rows([.integer(Int64(after)), .integer(Int64(below)), .text(tenant), .integer(Int64(limit))]) {
            Int($0.integer(0))
        }
    }

    /// Calls `body` for every entry of `kind` about `tenant` below `end`, in index order, off the tenant index
    /// (schema 11): the cost follows the tenant's own history, not the ledger's.
    package func forEachEntry(
        tenant: String, kind: String, below end: Int, _ body: (_ index: Int, _ entry: UnsafeRawBufferPointer) throws -> Void
    ) throws {
        let select = """
            SELECT idx, entry FROM ledger_entries INDEXED BY ledger_entries_tenant
            WHERE json_extract(CAST(entry AS TEXT), '$.tenant') = ?1 AND idx < ?2 AND kind = ?3
            """
        try scan(
            sqlite: select + " ORDER BY idx", postgres: select + " AND idx > ?4 ORDER BY idx",
            [.text(tenant), .integer(Int64(end)), .text(kind)], from: [.integer(-1)],
            next: { [.integer($0.integer(0))] }
        ) { statement in
            try body(Int(statement.integer(0)), statement.blobBuffer(1))
        }
    }

    /// The most recent entry of `kind` about `tenant` (a tenant's deletion, for its tombstone). Walks the kind's
    /// entries newest first: meant for rare kinds such as `lifecycle.deleted`, never for access entries.
    package func latestEntry(kind: String, tenant: String) throws -> (index: Int, entry: [UInt8])? {
        try database.statement(
            """
            SELECT idx, entry FROM ledger_entries
            WHERE kind = ?1 AND json_extract(CAST(entry AS TEXT), '$.tenant') = ?2 ORDER BY idx DESC LIMIT 1
            """
        ).first([.text(kind), .text(tenant)]) { (Int($0.integer(0)), $0.blob(1)) }
    }

    /// The most recent entry of `kind`, if any (e.g. the last policy version loaded).
    package func latestEntry(kind: String) throws -> [UInt8]? {
        try database.statement("SELECT entry FROM ledger_entries WHERE kind = ? ORDER BY idx DESC LIMIT 1").first([
            .text(kind)
        ]) {
            $0.blob(0)
        }
    }
}
