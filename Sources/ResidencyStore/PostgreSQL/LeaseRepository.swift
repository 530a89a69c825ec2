/// Leases on PostgreSQL: which controller does a piece of periodic work (checkpoints, retention, access expiry,
/// the migration runner, regional sync), one at a time across every controller on the database.
///
/// A lease is a row naming its holder and when it expires, by the database's clock (no two controllers' clocks
/// need agree). The holder renews it well before it expires; a holder that dies, hangs or loses the database
/// stops renewing, and once the row has expired the next controller to ask takes it. Taken and renewed inside a
/// write transaction, which the write lock serialises: two controllers never both take one lease.
///
/// The table is the PostgreSQL store's own bookkeeping, like `residency_schema`, created beside the numbered
/// schema: a SQLite store has one controller, which holds every lease by construction.
package struct LeaseRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    static let createTable = """
        CREATE TABLE IF NOT EXISTS residency_leases (
            name text PRIMARY KEY NOT NULL,
            holder text NOT NULL,
            expires_at bigint NOT NULL
        )
        """

    /// The database's clock in milliseconds.
    private static let now = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"

    /// Takes or renews `name` for `holder` for `milliseconds` from now, by the database's clock; false when
    /// another holder has it and it has not expired. Call inside a write transaction.
    package func acquire(name: String, holder: String, milliseconds: Int64) throws -> Bool {
        precondition(database.isPostgres, "leases are for a store several controllers share")
        return try database.statement(
            """
            INSERT INTO residency_leases (name, holder, expires_at) VALUES (?1, ?2, \(Self.now) + ?3)
            ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
            WHERE residency_leases.holder = excluded.holder OR residency_leases.expires_at < \(Self.now)
            RETURNING holder
            """
        ).first([.text(name), .text(holder), .integer(milliseconds)]) { $0.text(0) } == holder
    }

    /// Gives `name` up if `holder` has it (a controller shutting down): the next controller takes it at once.
    package func release(name: String, holder: String) throws {
        try database.statement("DELETE FROM residency_leases WHERE name = ?1 AND holder = ?2").run([
            .text(name), .text(holder),
        ])
    }

    /// The holder of `name` while its lease runs, else nil.
    package func holder(name: String) throws -> String? {
        try database.statement(
            "SELECT holder FROM residency_leases WHERE name = ?1 AND expires_at >= \(Self.now)"
        ).first([.text(name)]) { $0.text(0) }
    }
}
