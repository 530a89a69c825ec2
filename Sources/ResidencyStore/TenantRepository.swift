import ResidencyCore

/// The tenant directory table.
public struct TenantRepository {
    let database: Database

    public init(_ database: Database) { self.database = database }

    static let columns = "id, name, plan, country, region, site, status, created_at, policy_version"

    /// Inserts a tenant with the placement decision that put it where it is (canonical JSON).
    public func insert(_ tenant: Tenant, placement: String = "{}") throws {
        try database.statement("INSERT INTO tenants (\(Self.columns), placement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .run([
                .text(tenant.id), .text(tenant.name), .text(tenant.plan.rawValue), .optional(tenant.country?.rawValue),
                .text(tenant.region), .text(tenant.site), .text(tenant.status.rawValue), .integer(tenant.createdAt),
                .text(tenant.policyVersion), .text(placement),
            ])
    }

    /// The placement decision recorded when the tenant was created.
    public func placement(id: String) throws -> String? {
        try database.statement("SELECT placement FROM tenants WHERE id = ?").first([.text(id)]) { $0.text(0) }
    }

    public func tenant(id: String) throws -> Tenant? {
        try database.statement("SELECT \(Self.columns) FROM tenants WHERE id = ?").first([.text(id)], Self.read)
    }

    /// A page of tenants in id order, after `cursor` (exclusive), optionally filtered.
    public func tenants(
        region: String? = nil, status: TenantStatus? = nil, after cursor: String? = nil, limit: Int
    )
        throws -> [Tenant]
    {
        try database.statement(
            """
            SELECT \(Self.columns) FROM tenants
            WHERE (?1 IS NULL OR region = ?1) AND (?2 IS NULL OR status = ?2) AND (?3 IS NULL OR id > ?3)
            ORDER BY id LIMIT ?4
            """
        ).rows([.optional(region), .optional(status?.rawValue), .optional(cursor), .integer(Int64(limit))], Self.read)
    }

    /// Tenants that are not deleted, per region: what counts against a region's capacity.
    public func liveCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (region, count) in try database.statement(
            "SELECT region, count(*) FROM tenants WHERE status != 'deleted' GROUP BY region"
        ).rows([], { ($0.text(0), Int($0.integer(1))) }) {
            counts[region] = count
        }
        return counts
    }

    /// Points the directory entry at a new home (a migration's cutover).
    public func move(id: String, region: String, site: String) throws {
        try database.statement("UPDATE tenants SET region = ?, site = ? WHERE id = ?").run([
            .text(region), .text(site), .text(id),
        ])
    }

    public func updateStatus(id: String, to status: TenantStatus) throws {
        try database.statement("UPDATE tenants SET status = ? WHERE id = ?").run([.text(status.rawValue), .text(id)])
    }

    static func read(_ row: Row) throws -> Tenant {
        guard let plan = Plan(rawValue: row.text(2)), let status = TenantStatus(rawValue: row.text(6)) else {
            throw DatabaseError(code: 11, message: "tenant \(row.text(0)) has an unreadable plan or status")
        }
        return Tenant(
            id: row.text(0), name: row.text(1), plan: plan, country: row.optionalText(3).flatMap(CountryCode.init),
            region: row.text(4), site: row.text(5), status: status, createdAt: row.integer(7),
            policyVersion: row.text(8))
    }
}
