/// One numbered change to the schema. Numbers start at 1 and never change once released; a new table or
/// column is a new migration appended to `Schema.migrations`.
package struct SchemaMigration: Sendable {
    package let version: Int
    package let name: String
    package let sql: String

    package init(version: Int, name: String, sql: String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

extension Database {
    /// The schema version recorded in the file (`PRAGMA user_version`).
    package func schemaVersion() throws -> Int { Int(try scalarInteger("PRAGMA user_version") ?? 0) }

    /// Applies every migration newer than the file's version, each in its own transaction with the version
    /// bump, so a crash leaves the file at a whole version. A file from a newer release is refused.
    package func migrate(_ migrations: [SchemaMigration] = Schema.migrations) throws {
        let latest = migrations.last?.version ?? 0
        precondition(
            migrations.enumerated().allSatisfy { $0.offset + 1 == $0.element.version },
            "schema migrations must be numbered 1, 2, 3… without gaps")
        let current = try schemaVersion()
        if current > latest {
            throw StoreError.schemaTooNew(path: path, found: current, supported: latest)
        }
        for migration in migrations where migration.version > current {
            try write {
                try execute(migration.sql)
                try execute("PRAGMA user_version = \(migration.version)")
            }
        }
    }
}
