import ResidencyCore

/// The tenant directory table.
package struct TenantRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    static let columns = "id, name, plan, country, region, site, status, created_at, policy_version"

    /// Inserts a tenant with the placement decision that put it where it is (canonical JSON).
    ///
    /// `OR ROLLBACK`: a row that breaks a constraint (an id taken, a plan, status or country refused) fails with
    /// SQLite's constraint error naming it, and rolls back the whole transaction rather than this statement
    /// alone. That is what spares every signup its statement journal: the triggers on tenants make the INSERT a
    /// statement that writes several rows, and SQLite keeps a copy of every page such a statement changes, to
    /// undo it alone, whenever it may abort by itself (an ABORT constraint, or any function in its constraints
    /// and indexes: schema version 15). A signup changes a dozen pages; past 64 KiB the journal spills to a
    /// temporary file, two writes a page — about 15 of the 26 writes a signup cost in a group of 64. A group
    /// commit answers a write that ended its transaction with its own error and runs the others again
    /// (`Database.writeGroup`); a caller's own transaction is over, as after any failed statement it retries.
    /// On PostgreSQL a failed statement aborts the transaction anyway (`PostgresDialect` drops the clause).
    package func insert(_ tenant: Tenant, placement: String = "{}") throws {
        try database.statement(
            "INSERT OR ROLLBACK INTO tenants (\(Self.columns), placement) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
            .run([
                .text(tenant.id), .text(tenant.name), .text(tenant.plan.rawValue), .optional(tenant.country?.rawValue),
                .text(tenant.region), .text(tenant.site), .text(tenant.status.rawValue), .integer(tenant.createdAt),
                .text(tenant.policyVersion), .text(placement),
            ])
    }

    /// The placement decision recorded when the tenant was created.
    package func placement(id: String) throws -> String? {
        try database.statement("SELECT placement FROM tenants WHERE id = ?").first([.text(id)]) { $0.text(0) }
    }

    package func tenant(id: String) throws -> Tenant? {
        try database.statement("SELECT \(Self.columns) FROM tenants WHERE id = ?").first([.text(id)], Self.read)
    }

    /// A page of tenants in id order, after `cursor` (exclusive), optionally filtered — read off an index whichever
    /// the filter (schema version 17), so a page costs the tenants it holds plus those the index skips, never a
    /// pass over tenants the filter does not want — except that active tenants are the table in id order, which
    /// steps over the others (an index of active tenants would be written by every signup):
    /// - a status other than active: `tenants_status`, which holds only tenants that are not active;
    /// - a region (with or without a status of active): `tenants_region_id`, which holds the status, so the filter
    ///   reads no row it does not return;
    /// - active, or no filter: the table in id order.
    /// The cursor is a range on the index's id (`id > ?`), so page n does not read pages 1 to n − 1 again.
    package func tenants(
        region: String? = nil, status: TenantStatus? = nil, after cursor: String? = nil, limit: Int
    )
        throws -> [Tenant]
    {
        // Every tenant id is longer than the empty string: no cursor is the range from the first id.
        try database.statement(Self.pageSQL(region: region != nil, status: status)).rows(
            [.optional(region), .optional(status?.rawValue), .text(cursor ?? ""), .integer(Int64(limit))], Self.read)
    }

    /// The statement `tenants(region:status:after:limit:)` runs for a filter: ?1 region, ?2 status, ?3 cursor,
    /// ?4 limit.
    static func pageSQL(region: Bool, status: TenantStatus?) -> String {
        if let status, status != .active {
            // `status != 'active'` is the index's own condition, written out for SQLite to take the partial index.
            return """
                SELECT \(Self.columns) FROM tenants INDEXED BY tenants_status
                WHERE status = ?2 AND status != 'active' AND id > ?3 AND (?1 IS NULL OR region = ?1)
                ORDER BY status, id LIMIT ?4
                """
        }
        if region {
            return """
                SELECT \(Self.columns) FROM tenants INDEXED BY tenants_region_id
                WHERE region = ?1 AND id > ?3 AND (?2 IS NULL OR status = ?2)
                ORDER BY region, id LIMIT ?4
                """
        }
        return """
            SELECT \(Self.columns) FROM tenants
            WHERE id > ?3 AND (?2 IS NULL OR status = ?2) AND (?1 IS NULL OR region = ?1)
            ORDER BY id LIMIT ?4
            """
    }

    /// A page of the tenants of `region` as a migration plan weighs them (id, home, status, country), in id order
    /// after `cursor`, read off the covering index `tenants_region_id` alone: a plan over a region of 10,000
    /// tenants read 10,000 table rows scattered over the file.
    package func eligibilitySubjects(
        inRegion region: String, after cursor: String?, limit: Int
    ) throws
        -> [MigrationEligibility.Subject]
    {
        try database.statement(
            """
            SELECT id, region, site, status, country FROM tenants INDEXED BY tenants_region_id
            WHERE region = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY region, id LIMIT ?3
            """
        ).rows([.text(region), .optional(cursor), .integer(Int64(limit))]) { row in
            guard let status = TenantStatus(rawValue: row.text(3)) else {
                throw DatabaseError(code: 11, message: "tenant \(row.text(0)) has an unreadable status")
            }
            return MigrationEligibility.Subject(
                id: row.text(0), region: row.text(1), site: row.text(2), status: status,
                country: row.optionalText(4).flatMap(CountryCode.init))
        }
    }

    /// Where one tenant is: the few columns a residency map or an audit needs of every tenant.
    package struct Location: Sendable, Hashable {
        package let id: String
        package let region: String
        package let country: String?
        package let status: TenantStatus

        package init(id: String, region: String, country: String?, status: TenantStatus) {
            self.id = id
            self.region = region
            self.country = country
            self.status = status
        }
    }

    /// The tenants table's location change counter (schema version 14): moved by triggers on every insert and
    /// delete of a tenant and every update that changes its id, region, country or status, by any writer. Read in
    /// the same transaction as rows it vouches for, an unchanged value means none of those columns changed since.
    package func locationChanges() throws -> Int64 {
        guard let value = try database.scalarInteger("SELECT changes FROM tenant_location_changes WHERE id = 1") else {
            throw DatabaseError(code: 11, message: "tenant_location_changes has no row: the store's schema is damaged")
        }
        return value
    }

    /// The ring log of location changes (schema version 15): row `change % locationLogSlots` holds the change
    /// numbered `change` — the counter's value once the change moved it — and the tenant it changed.
    package static let locationLogSlots: Int64 = 8_192
    /// What the log's rows hold before any change is noted in them: a change number no change has (the counter
    /// starts at 0) in six bytes, and an id the length of a tenant's, so a row noting a change is never longer
    /// than the row it replaces until ids or numbers grow (and a signup never splits a page of the log).
    package static let locationLogPlaceholderChange: Int64 = -140_737_488_355_328
    package static let locationLogPlaceholderID = String(repeating: "-", count: 25)

    /// One change noted in the log: its number, the tenant's id, and the id it had before when the change was a
    /// new id. A TRUNCATE (PostgreSQL) notes no tenant.
    package struct LocationLogEntry: Sendable, Equatable {
        package let change: Int64
        package let tenant: String?
        package let former: String?
    }

    /// The log's entries for the changes numbered `after + 1` through `through`, in order — or nil when the log
    /// cannot vouch for every one of them: more changes than it has rows, the counter moved backwards (a file
    /// restored), or a row that no longer holds its change (overwritten since, or edited by hand). Read in the
    /// transaction the counter was read in, so the entries and the counter agree.
    package func locationLog(after: Int64, through: Int64) throws -> [LocationLogEntry]? {
        guard after >= 0, through >= after, through - after <= Self.locationLogSlots else { return nil }
        guard through > after else { return [] }
        let first = (after + 1) % Self.locationLogSlots
        let last = through % Self.locationLogSlots
        let end: Int64 = Self.locationLogSlots - 1
        var ranges: [(low: Int64, high: Int64)] = [(first, min(end, first <= last ? last : end))]
        if first > last { ranges.append((Int64(0), last)) }
        var entries: [LocationLogEntry] = []
        entries.reserveCapacity(Int(through - after))
        let statement = try database.statement(
            "SELECT slot, change, tenant, former FROM tenant_location_log WHERE slot >= ?1 AND slot <= ?2 ORDER BY slot"
        )
        for (low, high) in ranges {
            let rows = try statement.rows([.integer(low), .integer(high)]) { row in
                (
                    slot: row.integer(0), change: row.optionalInteger(1), tenant: row.optionalText(2),
                    former: row.optionalText(3)
                )
            }
            for row in rows {
                let expected = after + 1 + Int64(entries.count)
                guard row.slot == expected % Self.locationLogSlots, row.change == expected else { return nil }
                entries.append(LocationLogEntry(change: expected, tenant: row.tenant, former: row.former))
            }
        }
        return entries.count == Int(through - after) ? entries : nil
    }

    /// The locations of the tenants among `ids` that exist (one statement, the ids as a JSON array).
    package func locations(ids: some Collection<String>) throws -> [Location] {
        guard !ids.isEmpty else { return [] }
        let list = JSONValue.array(ids.map { .string($0) }).encoded()
        return try database.statement(
            "SELECT id, region, country, status FROM tenants WHERE id IN (SELECT value FROM json_each(?1))"
        ).rows([.text(list)]) { row in
            let status = row.text(3)
            guard let value = TenantStatus(rawValue: status) else {
                throw DatabaseError(code: 11, message: "tenant \(row.text(0)) has an unreadable status \"\(status)\"")
            }
            return Location(id: row.text(0), region: row.text(1), country: row.optionalText(2), status: value)
        }
    }

    /// Every tenant's home region, id and status in (region, id) order off the covering index `tenants_region_id`,
    /// handed to `body` as the column's UTF-8 bytes (valid only during the call): the audit reads 100,000 tenants
    /// per change of the directory, and a String and an array element apiece cost it as much as the read itself.
    /// The id order is the database's (bytes on SQLite; a collation's on PostgreSQL): callers that need byte order
    /// check it.
    /// The country is handed over empty when the tenant declared none (a stored country is two characters).
    package func forEachHome(
        _ body: (
            _ region: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, _ status: TenantStatus,
            _ country: UnsafeRawBufferPointer
        ) throws -> Void
    ) throws {
        let statement = try database.statement(
            """
            SELECT region, id, status, coalesce(country, '') FROM tenants INDEXED BY tenants_region_id
            ORDER BY region, id
            """)
        try statement.bind([])
        defer { statement.reset() }
        while try statement.step() {
            let bytes = statement.blobBuffer(2)
            guard let status = Self.status(bytes) else {
                throw DatabaseError(
                    code: 11,
                    message:
                        "tenant \(String(decoding: statement.blobBuffer(1), as: UTF8.self)) has an unreadable status "
                        + "\"\(String(decoding: bytes, as: UTF8.self))\"")
            }
            try body(statement.blobBuffer(0), statement.blobBuffer(1), status, statement.blobBuffer(3))
        }
    }

    /// A status column's bytes as a status, compared in place (no String made).
    static func status(_ bytes: UnsafeRawBufferPointer) -> TenantStatus? {
        for status in statusesByFrequency where bytes.elementsEqual(status.rawValue.utf8) { return status }
        return nil
    }

    private static let statusesByFrequency: [TenantStatus] = [.active, .deleted, .suspended, .closed]

    /// The first `limit` tenants that are not deleted, in id order after `cursor`: id and home region.
    package func liveHomes(after cursor: String?, limit: Int) throws -> [(id: String, region: String)] {
        try database.statement(
            """
            SELECT id, region FROM tenants WHERE status != 'deleted' AND (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2
            """
        ).rows([.optional(cursor), .integer(Int64(limit))]) { ($0.text(0), $0.text(1)) }
    }

    /// A page of the tenants of `country`, in id order after `cursor` (index `tenants_country`).
    package func tenants(country: String, after cursor: String?, limit: Int) throws -> [Tenant] {
        try database.statement(
            """
            SELECT \(Self.columns) FROM tenants INDEXED BY tenants_country
            WHERE country = ?1 AND (?2 IS NULL OR id > ?2) ORDER BY country, id LIMIT ?3
            """
        ).rows([.text(country), .optional(cursor), .integer(Int64(limit))], Self.read)
    }

    /// Tenants whose name starts with `prefix`, ignoring ASCII case, in name order (index `tenants_name`): at most
    /// `limit`, so a short prefix costs no more than a long one.
    package func tenants(namePrefix prefix: String, limit: Int) throws -> [Tenant] {
        // A range on the index's key, [prefix, prefix + U+10FFFF), compared as the index orders: on SQLite the name
        // under NOCASE (ASCII letters folded, as `lower` folds them; schema version 15), on PostgreSQL `lower(name)`.
        let sql =
            database.isPostgres
            ? """
            SELECT \(Self.columns) FROM tenants
            WHERE lower(name) >= lower(CAST(?1 AS TEXT)) AND lower(name) < lower(CAST(?1 AS TEXT)) || CAST(?2 AS TEXT)
            ORDER BY lower(name), id LIMIT ?3
            """
            : """
            SELECT \(Self.columns) FROM tenants INDEXED BY tenants_name
            WHERE name COLLATE NOCASE >= ?1 AND name COLLATE NOCASE < ?1 || ?2
            ORDER BY name COLLATE NOCASE, id LIMIT ?3
            """
        return try database.statement(sql).rows(
            [.text(prefix), .text("\u{10FFFF}"), .integer(Int64(limit))], Self.read)
    }

    /// Tenants that are not deleted, per region: what counts against a region's capacity.
    package func liveCounts() throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for (region, count) in try database.statement(
            "SELECT region, count(*) FROM tenants WHERE status != 'deleted' GROUP BY region"
        ).rows([], { ($0.text(0), Int($0.integer(1))) }) {
            counts[region] = count
        }
        return counts
    }

    /// Points the directory entry at a new home (a migration's cutover).
    package func move(id: String, region: String, site: String) throws {
        try database.statement("UPDATE tenants SET region = ?, site = ? WHERE id = ?").run([
            .text(region), .text(site), .text(id),
        ])
    }

    static let lifecycleColumns = """
        plan, status, created_at, trial_expires_at, cancelled_at, payment_failed_at, suspended_at, closed_at,
        closed_by_rule, last_activity_at, deleted_at, last_event_at, clocks_moved_recorded_at
        """

    package func lifecycle(id: String) throws -> TenantLifecycle? {
        try database.statement("SELECT \(Self.lifecycleColumns) FROM tenants WHERE id = ?").first(
            [.text(id)], Self.readLifecycle)
    }

    /// Tenants not yet deleted, with their clocks, in id order after `cursor` (the retention sweep).
    package func lifecycles(after cursor: String?, limit: Int) throws -> [(id: String, lifecycle: TenantLifecycle)] {
        try database.statement(
            """
            SELECT id, \(Self.lifecycleColumns) FROM tenants
            WHERE status != 'deleted' AND (?1 IS NULL OR id > ?1) ORDER BY id LIMIT ?2
            """
        ).rows([.optional(cursor), .integer(Int64(limit))]) { row in
            (row.text(0), try Self.readLifecycle(row, offset: 1))
        }
    }

    /// Writes the plan, status, clocks and event times back.
    package func updateLifecycle(id: String, _ lifecycle: TenantLifecycle) throws {
        try database.statement(
            """
            UPDATE tenants SET plan = ?2, status = ?3, trial_expires_at = ?4, cancelled_at = ?5, payment_failed_at = ?6,
                suspended_at = ?7, closed_at = ?8, closed_by_rule = ?9, last_activity_at = ?10, deleted_at = ?11,
                last_event_at = ?12, clocks_moved_recorded_at = ?13
            WHERE id = ?1
            """
        ).run([
            .text(id), .text(lifecycle.plan.rawValue), .text(lifecycle.status.rawValue),
            .optional(lifecycle.trialExpiresAt), .optional(lifecycle.cancelledAt), .optional(lifecycle.paymentFailedAt),
            .optional(lifecycle.suspendedAt), .optional(lifecycle.closedAt), .optional(lifecycle.closedByRule),
            .optional(lifecycle.lastActivityAt), .optional(lifecycle.deletedAt), .optional(lifecycle.lastEventAt),
            .optional(lifecycle.clocksMovedRecordedAt),
        ])
    }

    /// Removes what the directory held about the customer beyond ids: the entry stays, marked deleted.
    package func scrub(id: String) throws {
        try database.statement("UPDATE tenants SET name = '', placement = '{}' WHERE id = ?").run([.text(id)])
    }

    static func readLifecycle(_ row: Row) throws -> TenantLifecycle { try readLifecycle(row, offset: 0) }

    static func readLifecycle(_ row: Row, offset: Int32) throws -> TenantLifecycle {
        guard let plan = Plan(rawValue: row.text(offset)), let status = TenantStatus(rawValue: row.text(offset + 1))
        else {
            throw DatabaseError(code: 11, message: "a tenant has an unreadable plan or status")
        }
        var lifecycle = TenantLifecycle(plan: plan, status: status, createdAt: row.integer(offset + 2))
        lifecycle.trialExpiresAt = row.optionalInteger(offset + 3)
        lifecycle.cancelledAt = row.optionalInteger(offset + 4)
        lifecycle.paymentFailedAt = row.optionalInteger(offset + 5)
        lifecycle.suspendedAt = row.optionalInteger(offset + 6)
        lifecycle.closedAt = row.optionalInteger(offset + 7)
        lifecycle.closedByRule = row.optionalText(offset + 8)
        lifecycle.lastActivityAt = row.optionalInteger(offset + 9)
        lifecycle.deletedAt = row.optionalInteger(offset + 10)
        lifecycle.lastEventAt = row.optionalInteger(offset + 11)
        lifecycle.clocksMovedRecordedAt = row.optionalInteger(offset + 12)
        return lifecycle
    }

    package func updateStatus(id: String, to status: TenantStatus) throws {
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
