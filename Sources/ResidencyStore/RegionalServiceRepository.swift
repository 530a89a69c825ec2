import ResidencyCore

/// The controller's tables about regional services: enrolment (endpoint, join code, pinned key), what each
/// service last reported, the signed assignment in force per tenant, assignments still to deliver, and the
/// events of each service already on the ledger.
package struct RegionalServiceRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    /// One regional service as the controller knows it.
    package struct Service: Sendable, Equatable {
        package let region: String
        package let site: String
        package let endpoint: String
        /// The pin of its key; nil until it joined.
        package let pin: String?
        package let joinSecret: [UInt8]?
        package let joinExpiresAt: Int64?
        package let enrolledAt: Int64?
        package let lastContactAt: Int64?
        package let lastError: String?
        package let version: String?
        package let tenants: Int64?
        package let freeDiskBytes: Int64?
        package let pendingEvents: Int64?
        /// The cosigner key of the witness the service runs (it cosigns the controller's checkpoints).
        package let witnessKey: String?
    }

    static let columns = """
        region, site, endpoint, pin, join_secret, join_expires_at, enrolled_at, last_contact_at, last_error, version,
        tenants, free_disk_bytes, pending_events, witness_key
        """

    static func read(_ row: Row) -> Service {
        Service(
            region: row.text(0), site: row.text(1), endpoint: row.text(2), pin: row.optionalText(3),
            joinSecret: row.isNull(4) ? nil : row.blob(4), joinExpiresAt: row.optionalInteger(5),
            enrolledAt: row.optionalInteger(6), lastContactAt: row.optionalInteger(7), lastError: row.optionalText(8),
            version: row.optionalText(9), tenants: row.optionalInteger(10), freeDiskBytes: row.optionalInteger(11),
            pendingEvents: row.optionalInteger(12), witnessKey: row.optionalText(13))
    }

    package func service(region: String) throws -> Service? {
        try database.statement("SELECT \(Self.columns) FROM regional_services WHERE region = ?").first(
            [.text(region)], Self.read)
    }

    package func services() throws -> [Service] {
        try database.statement("SELECT \(Self.columns) FROM regional_services ORDER BY region").rows([], Self.read)
    }

    /// Opens (or reopens) an enrolment: the endpoint and a join code's secret until `expiresAt`. A service that
    /// had joined keeps its pin until it joins again (a key rotation) or is removed.
    package func openEnrolment(region: String, site: String, endpoint: String, secret: [UInt8], expiresAt: Int64) throws {
        try database.statement(
            """
            INSERT INTO regional_services (region, site, endpoint, join_secret, join_expires_at) VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (region) DO UPDATE SET site = excluded.site, endpoint = excluded.endpoint,
                join_secret = excluded.join_secret, join_expires_at = excluded.join_expires_at
            """
        ).run([.text(region), .text(site), .text(endpoint), .blob(secret), .integer(expiresAt)])
    }

    /// Pins the joined key and closes the code (used once).
    package func completeJoin(region: String, pin: String, witnessKey: String?, at time: Int64) throws {
        try database.statement(
            """
            UPDATE regional_services SET pin = ?, witness_key = ?, join_secret = NULL, join_expires_at = NULL,
                enrolled_at = ?, last_error = NULL
            WHERE region = ?
            """
        ).run([.text(pin), .optional(witnessKey), .integer(time), .text(region)])
    }

    package func remove(region: String) throws {
        try database.statement("DELETE FROM regional_services WHERE region = ?").run([.text(region)])
        try database.statement("DELETE FROM assignment_deliveries WHERE region = ?").run([.text(region)])
    }

    /// What a health call found (or why it failed: `error`, keeping the last good figures).
    package func recordContact(
        region: String, at time: Int64, version: String, tenants: Int64, freeDiskBytes: Int64, pendingEvents: Int64
    ) throws {
        try database.statement(
            """
            UPDATE regional_services SET last_contact_at = ?, last_error = NULL, version = ?, tenants = ?,
                free_disk_bytes = ?, pending_events = ?
            WHERE region = ?
            """
        ).run([.integer(time), .text(version), .integer(tenants), .integer(freeDiskBytes), .integer(pendingEvents), .text(region)])
    }

    package func recordFailure(region: String, _ error: String) throws {
        try database.statement("UPDATE regional_services SET last_error = ? WHERE region = ?").run([
            .text(String(error.prefix(500))), .text(region),
        ])
    }

    // MARK: Assignments

    package func assignment(tenant: String) throws -> (epoch: Int64, signed: [UInt8])? {
        try database.statement("SELECT epoch, signed FROM tenant_assignments WHERE tenant = ?").first([.text(tenant)]) {
            ($0.integer(0), $0.blob(1))
        }
    }

    /// Records the assignment in force and queues it for every joined service.
    package func putAssignment(tenant: String, epoch: Int64, signed: [UInt8]) throws {
        try database.statement(
            """
            INSERT INTO tenant_assignments (tenant, epoch, signed) VALUES (?, ?, ?)
            ON CONFLICT (tenant) DO UPDATE SET epoch = excluded.epoch, signed = excluded.signed
            """
        ).run([.text(tenant), .integer(epoch), .blob(signed)])
        try database.statement(
            """
            INSERT INTO assignment_deliveries (region, tenant, epoch)
            SELECT region, ?, ? FROM regional_services WHERE pin IS NOT NULL
            ON CONFLICT (region, tenant) DO UPDATE SET epoch = excluded.epoch
            """
        ).run([.text(tenant), .integer(epoch)])
    }

    /// Queues every assignment in force for `region` (a service that just joined, or joined again).
    package func queueAllAssignments(for region: String) throws {
        try database.statement(
            """
            INSERT INTO assignment_deliveries (region, tenant, epoch)
            SELECT ?, tenant, epoch FROM tenant_assignments WHERE true
            ON CONFLICT (region, tenant) DO UPDATE SET epoch = excluded.epoch
            """
        ).run([.text(region)])
    }

    /// Tenants whose assignment is missing (a crash between a signup's commit and its assignment) or names
    /// another region, site or status than the directory (a cutover, a suspension, a deletion), in id order.
    package func staleAssignments(limit: Int) throws -> [String] {
        try database.statement(
            """
            SELECT t.id FROM tenants t LEFT JOIN tenant_assignments a ON a.tenant = t.id
            WHERE a.tenant IS NULL
                OR json_extract(CAST(a.signed AS TEXT), '$.assignment.region') <> t.region
                OR json_extract(CAST(a.signed AS TEXT), '$.assignment.site') <> t.site
                OR json_extract(CAST(a.signed AS TEXT), '$.assignment.status') <> t.status
            ORDER BY t.id LIMIT ?
            """
        ).rows([.integer(Int64(limit))]) { $0.text(0) }
    }

    /// Deliveries still owed to `region`, oldest tenants first.
    package func pendingDeliveries(region: String, limit: Int) throws -> [(tenant: String, epoch: Int64, signed: [UInt8])] {
        try database.statement(
            """
            SELECT d.tenant, d.epoch, a.signed FROM assignment_deliveries d
            JOIN tenant_assignments a ON a.tenant = d.tenant AND a.epoch = d.epoch
            WHERE d.region = ? ORDER BY d.tenant LIMIT ?
            """
        ).rows([.text(region), .integer(Int64(limit))]) { ($0.text(0), $0.integer(1), $0.blob(2)) }
    }

    /// The delivery owed to `region` for one tenant, if any (a look-up by the table's key).
    package func pendingDelivery(region: String, tenant: String) throws -> (tenant: String, epoch: Int64, signed: [UInt8])? {
        try database.statement(
            """
            SELECT d.tenant, d.epoch, a.signed FROM assignment_deliveries d
            JOIN tenant_assignments a ON a.tenant = d.tenant AND a.epoch = d.epoch
            WHERE d.region = ? AND d.tenant = ?
            """
        ).first([.text(region), .text(tenant)]) { ($0.text(0), $0.integer(1), $0.blob(2)) }
    }

    package func pendingDeliveryCount(region: String) throws -> Int {
        Int(try database.scalarInteger("SELECT count(*) FROM assignment_deliveries WHERE region = ?", [.text(region)]) ?? 0)
    }

    /// A delivery done: removed unless a newer epoch was queued meanwhile.
    package func delivered(region: String, tenant: String, epoch: Int64) throws {
        try database.statement("DELETE FROM assignment_deliveries WHERE region = ? AND tenant = ? AND epoch <= ?").run([
            .text(region), .text(tenant), .integer(epoch),
        ])
    }

    // MARK: Grants

    /// What was last delivered of a grant: its state and expiry.
    package func deliveredGrant(request: String) throws -> (state: String, expiresAt: Int64)? {
        try database.statement("SELECT state, expires_at FROM grant_deliveries WHERE request = ?").first([.text(request)]) {
            ($0.text(0), $0.integer(1))
        }
    }

    /// Grants delivered to `region` as granted (each checked again: has it ended since?).
    package func grantedDeliveries(region: String) throws -> [String] {
        try database.statement("SELECT request FROM grant_deliveries WHERE region = ? AND state = 'granted'").rows([
            .text(region)
        ]) { $0.text(0) }
    }

    package func markGrantDelivered(request: String, region: String, state: String, expiresAt: Int64) throws {
        try database.statement(
            """
            INSERT INTO grant_deliveries (request, region, state, expires_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (request) DO UPDATE SET region = excluded.region, state = excluded.state,
                expires_at = excluded.expires_at
            """
        ).run([.text(request), .text(region), .text(state), .integer(expiresAt)])
    }

    // MARK: Events

    /// True when the event is new (and is now marked recorded at `ledgerIndex`); false when already recorded.
    package func markEventRecorded(region: String, seq: Int64, ledgerIndex: Int) throws -> Bool {
        try database.statement("INSERT OR IGNORE INTO region_events (region, seq, ledger_index) VALUES (?, ?, ?)").run([
            .text(region), .integer(seq), .integer(Int64(ledgerIndex)),
        ])
        return database.changes > 0
    }

    package func isEventRecorded(region: String, seq: Int64) throws -> Bool {
        try database.scalarInteger("SELECT 1 FROM region_events WHERE region = ? AND seq = ?", [.text(region), .integer(seq)]) != nil
    }

    /// The highest sequence recorded from `region` (where the next collection starts).
    package func lastRecordedEvent(region: String) throws -> Int64 {
        try database.scalarInteger("SELECT max(seq) FROM region_events WHERE region = ?", [.text(region)]) ?? 0
    }
}
