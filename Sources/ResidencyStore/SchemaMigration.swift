/// One numbered change to the schema. Numbers start at 1 and never change once released; a new table or
/// column is a new migration appended to `Schema.migrations`.
package struct SchemaMigration: Sendable {
    package let version: Int
    package let name: String
    package let sql: String
    /// Stored schema text to rewrite in place (SQLite only), after `sql`: see `Database.rewriteSchemaText`.
    package let rewrites: [SchemaTextRewrite]

    package init(version: Int, name: String, sql: String, rewrites: [SchemaTextRewrite] = []) {
        self.version = version
        self.name = name
        self.sql = sql
        self.rewrites = rewrites
    }
}

extension Database {
    /// The schema version recorded in the file (`PRAGMA user_version`), or on PostgreSQL in the one-row table
    /// `residency_schema` (0 before the first migration).
    package func schemaVersion() throws -> Int {
        guard isPostgres else { return Int(try scalarInteger("PRAGMA user_version") ?? 0) }
        try execute("CREATE TABLE IF NOT EXISTS residency_schema (version integer NOT NULL)")
        return Int(try scalarInteger("SELECT max(version) FROM residency_schema") ?? 0)
    }

    /// Applies every migration newer than the store's version, each in its own transaction with the version
    /// bump, so a crash leaves the store at a whole version. A store from a newer release is refused.
    ///
    /// On PostgreSQL the migrations are `PostgresSchema.migrations` — the same numbers, the same tables, in
    /// PostgreSQL's types — and the version is read again inside each write transaction, under the write lock:
    /// two controllers starting together on a new database apply each migration once.
    package func migrate() throws {
        guard isPostgres else { return try migrate(Schema.migrations) }
        try migrate(PostgresSchema.migrations)
        try write { try execute(LeaseRepository.createTable) }
    }

    package func migrate(_ migrations: [SchemaMigration]) throws {
        let latest = migrations.last?.version ?? 0
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "schema migrations must be numbered 1, 2, 3… without gaps")
        // On PostgreSQL under the write lock: another controller may be creating the version table this moment.
        let current = isPostgres ? try write { try schemaVersion() } : try schemaVersion()
        if current > latest {
            throw StoreError.schemaTooNew(path: path, found: current, supported: latest)
        }
        for migration in migrations where migration.version > current {
            try write {
                if isPostgres {
                    guard try schemaVersion() < migration.version else { return }
                    try execute(migration.sql)
                    try execute("DELETE FROM residency_schema; INSERT INTO residency_schema VALUES (\(migration.version))")
                    return
                }
                if !migration.sql.isEmpty { try execute(migration.sql) }
                if !migration.rewrites.isEmpty { try rewriteSchemaText(migration.rewrites) }
                try execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
