import ResidencyCore

/// Access requests (one JSON record each, with the fields queries filter on beside it) and access events.
package struct AccessRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    package func insert(_ request: AccessRequest) throws {
        try database.statement(
            "INSERT INTO access_requests (id, tenant, region, state, created_at, record) VALUES (?, ?, ?, ?, ?, ?)"
        ).run([
            .text(request.id), .text(request.tenant), .text(request.region), .text(request.state.rawValue),
            .integer(request.createdAt),
            .text(request.jsonValue().encoded()),
        ])
    }

    package func update(_ request: AccessRequest) throws {
        try database.statement("UPDATE access_requests SET state = ?, record = ? WHERE id = ?").run([
            .text(request.state.rawValue), .text(request.jsonValue().encoded()), .text(request.id),
        ])
    }

    package func request(id: String) throws -> AccessRequest? {
        try database.statement("SELECT record FROM access_requests WHERE id = ?").first([.text(id)], Self.read) ?? nil
    }

    package func requests(tenant: String?, state: AccessState?, region: String?, limit: Int) throws -> [AccessRequest] {
        try database.statement(
            """
            SELECT record FROM access_requests
            WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR region = ?3)
            ORDER BY created_at, id LIMIT ?4
            """
        ).rows([.optional(tenant), .optional(state?.rawValue), .optional(region), .integer(Int64(limit))], Self.read)
            .compactMap { $0 }
    }

    /// Requests whose state time may have ended (pending or granted), for the expiry sweep.
    package func openRequests() throws -> [AccessRequest] {
        try database.statement(
            "SELECT record FROM access_requests WHERE state IN ('pending', 'approved', 'auto_approved', 'active')"
        ).rows([], Self.read).compactMap { $0 }
    }

    package func insertEvent(
        requestID: String, tenant: String, allowed: Bool, at time: Int64, record: JSONValue
    ) throws -> Int {
        try database.statement(
            "INSERT INTO access_events (request_id, tenant, outcome, at, record) VALUES (?, ?, ?, ?, ?)"
        ).run([
            .text(requestID), .text(tenant), .text(allowed ? "allowed" : "refused"), .integer(time),
            .text(record.encoded()),
        ])
        return Int(try database.scalarInteger("SELECT last_insert_rowid()") ?? 0)
    }

    static func read(_ row: Row) -> AccessRequest? {
        (try? JSONParser.parse(row.text(0))).flatMap(AccessRequest.init(json:))
    }
}

extension TenantRepository {
    package func customerApproval(id: String) throws -> Bool? {
        try database.statement("SELECT customer_approval FROM tenants WHERE id = ?").first([.text(id)]) {
            $0.integer(0) != 0
        }
    }

    /// Whether the tenant is enrolled and whether its own administrator enrolled it (then only it may lift it).
    package func customerApprovalSetting(id: String) throws -> (enabled: Bool, byTenant: Bool) {
        try database.statement("SELECT customer_approval, customer_approval_by_tenant FROM tenants WHERE id = ?")
            .first([.text(id)]) { ($0.integer(0) != 0, $0.integer(1) != 0) } ?? (false, false)
    }

    package func setCustomerApproval(id: String, enabled: Bool, byTenant: Bool) throws {
        try database.statement("UPDATE tenants SET customer_approval = ?, customer_approval_by_tenant = ? WHERE id = ?")
            .run([.integer(enabled ? 1 : 0), .integer(byTenant ? 1 : 0), .text(id)])
    }
}
