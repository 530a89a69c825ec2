/// API tokens. Only the SHA-256 of a token is stored; the token itself is shown once, when created.
package struct TokenRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    package struct Record: Sendable, Hashable {
        package let name: String
        package let role: String
        package let hash: [UInt8]
        /// Milliseconds since the Unix epoch.
        package let createdAt: Int64
        package let revokedAt: Int64?
        /// Set for a tenant's own administrator token: it acts for that tenant only.
        package let tenant: String?
    }

    package func insert(name: String, role: String, hash: [UInt8], createdAt: Int64, tenant: String? = nil) throws {
        try database.statement("INSERT INTO tokens (name, role, hash, created_at, tenant) VALUES (?, ?, ?, ?, ?)").run([
            .text(name), .text(role), .blob(hash), .integer(createdAt), .optional(tenant),
        ])
    }

    package func record(hash: [UInt8]) throws -> Record? {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens WHERE hash = ?")
            .first(
                [.blob(hash)], Self.read)
    }

    package func record(name: String) throws -> Record? {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens WHERE name = ?")
            .first(
                [.text(name)], Self.read)
    }

    package func all() throws -> [Record] {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens ORDER BY name")
            .rows(
                [], Self.read)
    }

    /// Marks the token revoked; answers false when there is no such live token.
    package func revoke(name: String, at time: Int64) throws -> Bool {
        try database.statement("UPDATE tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL").run([
            .integer(time), .text(name),
        ])
        return database.changes == 1
    }

    static func read(_ row: Row) -> Record {
        Record(
            name: row.text(0), role: row.text(1), hash: row.blob(2), createdAt: row.integer(3),
            revokedAt: row.optionalInteger(4), tenant: row.optionalText(5))
    }
}

/// Idempotency keys for signups: the same key and body give the same tenant, another body is refused.
package struct IdempotencyRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    package func find(scope: String, key: String) throws -> (requestHash: [UInt8], tenantID: String)? {
        try database.statement("SELECT request_hash, tenant_id FROM idempotency_keys WHERE scope = ? AND key = ?")
            .first(
                [.text(scope), .text(key)]
            ) { ($0.blob(0), $0.text(1)) }
    }

    package func insert(scope: String, key: String, requestHash: [UInt8], tenantID: String, createdAt: Int64) throws {
        try database.statement(
            "INSERT INTO idempotency_keys (scope, key, request_hash, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)"
        ).run([.text(scope), .text(key), .blob(requestHash), .text(tenantID), .integer(createdAt)])
    }
}
