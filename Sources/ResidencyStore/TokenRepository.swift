/// API tokens. Only the SHA-256 of a token is stored; the token itself is shown once, when created.
public struct TokenRepository {
    let database: Database

    public init(_ database: Database) { self.database = database }

    public struct Record: Sendable, Hashable {
        public let name: String
        public let role: String
        public let hash: [UInt8]
        /// Milliseconds since the Unix epoch.
        public let createdAt: Int64
        public let revokedAt: Int64?
        /// Set for a tenant's own administrator token: it acts for that tenant only.
        public let tenant: String?
    }

    public func insert(name: String, role: String, hash: [UInt8], createdAt: Int64, tenant: String? = nil) throws {
        try database.statement("INSERT INTO tokens (name, role, hash, created_at, tenant) VALUES (?, ?, ?, ?, ?)").run([
            .text(name), .text(role), .blob(hash), .integer(createdAt), .optional(tenant),
        ])
    }

    public func record(hash: [UInt8]) throws -> Record? {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens WHERE hash = ?")
            .first(
                [.blob(hash)], Self.read)
    }

    public func record(name: String) throws -> Record? {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens WHERE name = ?")
            .first(
                [.text(name)], Self.read)
    }

    public func all() throws -> [Record] {
        try database.statement("SELECT name, role, hash, created_at, revoked_at, tenant FROM tokens ORDER BY name")
            .rows(
                [], Self.read)
    }

    /// Marks the token revoked; answers false when there is no such live token.
    public func revoke(name: String, at time: Int64) throws -> Bool {
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
public struct IdempotencyRepository {
    let database: Database

    public init(_ database: Database) { self.database = database }

    public func find(scope: String, key: String) throws -> (requestHash: [UInt8], tenantID: String)? {
        try database.statement("SELECT request_hash, tenant_id FROM idempotency_keys WHERE scope = ? AND key = ?")
            .first(
                [.text(scope), .text(key)]
            ) { ($0.blob(0), $0.text(1)) }
    }

    public func insert(scope: String, key: String, requestHash: [UInt8], tenantID: String, createdAt: Int64) throws {
        try database.statement(
            "INSERT INTO idempotency_keys (scope, key, request_hash, tenant_id, created_at) VALUES (?, ?, ?, ?, ?)"
        ).run([.text(scope), .text(key), .blob(requestHash), .text(tenantID), .integer(createdAt)])
    }
}
