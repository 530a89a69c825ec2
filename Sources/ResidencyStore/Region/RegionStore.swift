import Foundation
import ResidencyCore

/// A regional service's own state, beside its tenants' databases: the signed assignments it holds (one per
/// tenant, the newest epoch) and the outbox of events the controller's ledger must record, kept until the
/// controller acknowledges them — so a controller outage loses nothing and a redelivery records nothing twice
/// (the controller keys each event by region and sequence).
package final class RegionStore: @unchecked Sendable {
    // One connection behind a lock: a regional service's own writes are small and rare beside its tenants'.
    private let database: Database
    private let lock = NSLock()

    package static let fileName = "region.sqlite3"

    static let migrations: [SchemaMigration] = [
        SchemaMigration(
            version: 1, name: "assignments and outbox",
            sql: """
                CREATE TABLE assignments (
                    tenant TEXT PRIMARY KEY NOT NULL,
                    epoch INTEGER NOT NULL CHECK (epoch >= 1),
                    region TEXT NOT NULL,
                    status TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    signed BLOB NOT NULL,
                    received_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX assignments_region ON assignments (region, status);
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    time INTEGER NOT NULL,
                    kind TEXT NOT NULL,
                    body TEXT NOT NULL
                ) STRICT;
                """),
        SchemaMigration(
            version: 2, name: "support access grants",
            sql: """
                CREATE TABLE grants (
                    request TEXT PRIMARY KEY NOT NULL,
                    tenant TEXT NOT NULL,
                    state TEXT NOT NULL,
                    issued_at INTEGER NOT NULL,
                    signed BLOB NOT NULL
                ) STRICT;
                """),
        SchemaMigration(
            version: 3, name: "migration orders and peer services",
            sql: """
                CREATE TABLE migration_orders (
                    migration TEXT PRIMARY KEY NOT NULL,
                    tenant TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('source', 'target')),
                    ended INTEGER NOT NULL DEFAULT 0,
                    snapshot TEXT,
                    signed BLOB NOT NULL,
                    updated_at INTEGER NOT NULL
                ) STRICT;
                CREATE TABLE peers (
                    pin TEXT PRIMARY KEY NOT NULL,
                    region TEXT NOT NULL,
                    endpoint TEXT NOT NULL
                ) STRICT;
                """),
        SchemaMigration(
            version: 4, name: "refused migration orders: a budget per presenter, the rest tallied",
            sql: """
                CREATE TABLE order_refusal_windows (
                    presented_by TEXT PRIMARY KEY NOT NULL,
                    started_at INTEGER NOT NULL,
                    recorded INTEGER NOT NULL
                ) STRICT;
                CREATE TABLE order_refusal_tallies (
                    presented_by TEXT NOT NULL,
                    code TEXT NOT NULL,
                    count INTEGER NOT NULL CHECK (count >= 1),
                    first_at INTEGER NOT NULL,
                    last_at INTEGER NOT NULL,
                    first TEXT NOT NULL,
                    PRIMARY KEY (presented_by, code)
                ) STRICT;
                """),
    ]

    package init(directory: URL) throws {
        database = try Database(path: directory.appendingPathComponent(Self.fileName).path)
        try database.migrate(Self.migrations)
    }

    private func locked<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    /// What the service holds about one tenant.
    package struct Held: Sendable {
        package let epoch: Int64
        package let region: String
        package let status: TenantStatus
        package let endpoint: String
        package let signed: [UInt8]
    }

    package enum Acceptance: Sendable, Equatable {
        /// Stored: newer than what was held (or the first).
        case stored
        /// The same epoch was already held (a redelivery).
        case unchanged
        /// Older than the epoch held, which stands.
        case stale(held: Int64)
    }

    package func held(tenant: String) throws -> Held? {
        try locked {
            try database.read {
                try database.statement("SELECT epoch, region, status, endpoint, signed FROM assignments WHERE tenant = ?")
                    .first([.text(tenant)]) {
                        Held(
                            epoch: $0.integer(0), region: $0.text(1), status: TenantStatus(rawValue: $0.text(2)) ?? .deleted,
                            endpoint: $0.text(3), signed: $0.blob(4))
                    }
            }
        }
    }

    /// Keeps `assignment` (its verified bytes `signed`) unless an equal or newer epoch is held.
    package func accept(_ assignment: TenantAssignment, signed: [UInt8], at time: Int64) throws -> Acceptance {
        try locked {
            try database.write {
                let held = try database.statement("SELECT epoch FROM assignments WHERE tenant = ?")
                    .first([.text(assignment.tenant)]) { $0.integer(0) }
                if let held, held > assignment.epoch { return .stale(held: held) }
                if held == assignment.epoch { return .unchanged }
                try database.statement(
                    """
                    INSERT INTO assignments (tenant, epoch, region, status, endpoint, signed, received_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (tenant) DO UPDATE SET epoch = excluded.epoch, region = excluded.region,
                        status = excluded.status, endpoint = excluded.endpoint, signed = excluded.signed,
                        received_at = excluded.received_at
                    """
                ).run([
                    .text(assignment.tenant), .integer(assignment.epoch), .text(assignment.region),
                    .text(assignment.status.rawValue), .text(assignment.endpoint), .blob(signed), .integer(time),
                ])
                return .stored
            }
        }
    }

    /// Keeps a verified grant unless the one held is newer, or has ended (an ended grant never comes back).
    package func accept(_ grant: SupportGrant, signed: [UInt8]) throws -> Acceptance {
        try locked {
            try database.write {
                let held = try database.statement("SELECT state, issued_at FROM grants WHERE request = ?")
                    .first([.text(grant.request)]) { ($0.text(0), $0.integer(1)) }
                if let held, held.0 == SupportGrant.State.revoked.rawValue { return .unchanged }
                if let held, held.1 > grant.issuedAt { return .stale(held: held.1) }
                if let held, held.1 == grant.issuedAt, held.0 == grant.state.rawValue { return .unchanged }
                try database.statement(
                    """
                    INSERT INTO grants (request, tenant, state, issued_at, signed) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (request) DO UPDATE SET state = excluded.state, issued_at = excluded.issued_at,
                        signed = excluded.signed
                    """
                ).run([
                    .text(grant.request), .text(grant.tenant), .text(grant.state.rawValue), .integer(grant.issuedAt),
                    .blob(signed),
                ])
                return .stored
            }
        }
    }

    /// The signed grant held for `request`, as received.
    package func grant(request: String) throws -> [UInt8]? {
        try locked {
            try database.read {
                try database.statement("SELECT signed FROM grants WHERE request = ?").first([.text(request)]) { $0.blob(0) }
            }
        }
    }

    /// Tenants assigned to `region` that are not deleted (what the service reports as its tenant count).
    package func tenantCount(region: String) throws -> Int {
        try locked {
            Int(try database.scalarInteger(
                "SELECT count(*) FROM assignments WHERE region = ? AND status <> 'deleted'", [.text(region)]) ?? 0)
        }
    }

    package struct Event: Sendable {
        package let seq: Int64
        package let time: Int64
        package let kind: String
        package let body: String
    }

    /// Queues an event for the controller's ledger; its sequence number is its identity there.
    @discardableResult
    package func enqueue(kind: String, body: JSONValue, at time: Int64) throws -> Int64 {
        let text = String(decoding: try body.canonicalBytes(), as: UTF8.self)
        return try locked {
            try database.write {
                try database.statement("INSERT INTO outbox (time, kind, body) VALUES (?, ?, ?)")
                    .run([.integer(time), .text(kind), .text(text)])
                return try database.scalarInteger("SELECT last_insert_rowid()") ?? 0
            }
        }
    }

    /// Queues a refused order's event (`kind`, `body`) — unless `presenter` (a peer's pin, or the controller) has
    /// had `budget.events` of them queued within the current `budget.window` ms: then the refusal is added to
    /// that presenter's tally for `code` (its count, first and last time, and the first refusal's body), which
    /// `flushOrderRefusalTallies` turns into one event once the window has ended. The outbox then grows by at
    /// most `budget.events` plus one per code per window, however fast a presenter sends, and every refusal is
    /// counted on durable storage.
    @discardableResult
    package func recordOrderRefusal(
        presenter: String, code: String, kind: String, body: JSONValue, at time: Int64,
        budget: (events: Int, window: Int64)
    ) throws -> Bool {
        let text = String(decoding: try body.canonicalBytes(), as: UTF8.self)
        return try locked {
            try database.write {
                let window = try database.statement(
                    "SELECT started_at, recorded FROM order_refusal_windows WHERE presented_by = ?"
                ).first([.text(presenter)]) { (started: $0.integer(0), recorded: $0.integer(1)) }
                if window == nil || time - window!.started >= budget.window {
                    try flushTallies(presenter: presenter, kind: kind, at: time)
                    try database.statement(
                        """
                        INSERT INTO order_refusal_windows (presented_by, started_at, recorded) VALUES (?, ?, 1)
                        ON CONFLICT (presented_by) DO UPDATE SET started_at = excluded.started_at, recorded = 1
                        """
                    ).run([.text(presenter), .integer(time)])
                } else if window!.recorded < Int64(budget.events) {
                    try database.statement(
                        "UPDATE order_refusal_windows SET recorded = recorded + 1 WHERE presented_by = ?"
                    ).run([.text(presenter)])
                } else {
                    try database.statement(
                        """
                        INSERT INTO order_refusal_tallies (presented_by, code, count, first_at, last_at, first)
                        VALUES (?, ?, 1, ?, ?, ?)
                        ON CONFLICT (presented_by, code) DO UPDATE SET count = count + 1, last_at = excluded.last_at
                        """
                    ).run([.text(presenter), .text(code), .integer(time), .integer(time), .text(text)])
                    return false
                }
                try database.statement("INSERT INTO outbox (time, kind, body) VALUES (?, ?, ?)")
                    .run([.integer(time), .text(kind), .text(text)])
                return true
            }
        }
    }

    /// Turns the tallies of every presenter whose window ended before `time` into one event each (per code):
    /// the count, the first and last time, and the first refusal's body. Answers the events queued.
    @discardableResult
    package func flushOrderRefusalTallies(kind: String, at time: Int64, window: Int64) throws -> Int {
        try locked {
            let waiting = try database.scalarInteger("SELECT count(*) FROM order_refusal_tallies") ?? 0
            guard waiting > 0 else { return 0 }
            return try database.write {
                let ended = try database.statement(
                    """
                    SELECT DISTINCT t.presented_by FROM order_refusal_tallies t
                    JOIN order_refusal_windows w ON w.presented_by = t.presented_by WHERE w.started_at + ? <= ?
                    """
                ).rows([.integer(window), .integer(time)]) { $0.text(0) }
                var queued = 0
                for presenter in ended { queued += try flushTallies(presenter: presenter, kind: kind, at: time) }
                return queued
            }
        }
    }

    /// Refusals counted in tallies and not yet queued as events.
    package func talliedOrderRefusals() throws -> Int64 {
        try locked { try database.scalarInteger("SELECT coalesce(sum(count), 0) FROM order_refusal_tallies") ?? 0 }
    }

    /// Inside a write transaction: one event per tallied code of `presenter`, the tallies removed.
    @discardableResult
    private func flushTallies(presenter: String, kind: String, at time: Int64) throws -> Int {
        let tallies = try database.statement(
            "SELECT code, count, first_at, last_at, first FROM order_refusal_tallies WHERE presented_by = ? ORDER BY code"
        ).rows([.text(presenter)]) {
            (code: $0.text(0), count: $0.integer(1), first: $0.integer(2), last: $0.integer(3), body: $0.text(4))
        }
        for tally in tallies {
            let first = (try? JSONParser.parse(Array(tally.body.utf8))) ?? .string(tally.body)
            var fields: [(key: String, value: JSONValue)] = []
            if case .object(let members) = first { fields = members.filter { $0.key != "detail" } }
            fields.append(contentsOf: [
                ("coalesced", .integer(tally.count)),
                ("first_at", .string(Timestamp.rfc3339(milliseconds: tally.first))),
                ("last_at", .string(Timestamp.rfc3339(milliseconds: tally.last))),
                (
                    "detail",
                    .string(
                        "\(tally.count) more refusals with code \(tally.code) from the same presenter, past its budget; the first of them is described here"
                    )
                ),
            ])
            let text = String(decoding: try JSONValue.object(fields).canonicalBytes(), as: UTF8.self)
            try database.statement("INSERT INTO outbox (time, kind, body) VALUES (?, ?, ?)")
                .run([.integer(time), .text(kind), .text(text)])
        }
        try database.statement("DELETE FROM order_refusal_tallies WHERE presented_by = ?").run([.text(presenter)])
        return tallies.count
    }

    /// Events not yet acknowledged, oldest first.
    package func events(after seq: Int64, limit: Int) throws -> [Event] {
        try locked {
            try database.read {
                try database.statement("SELECT seq, time, kind, body FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?")
                    .rows([.integer(seq), .integer(Int64(limit))]) {
                        Event(seq: $0.integer(0), time: $0.integer(1), kind: $0.text(2), body: $0.text(3))
                    }
            }
        }
    }

    /// Drops events up to `seq`, which the controller has recorded.
    package func acknowledge(through seq: Int64) throws {
        try locked {
            try database.write { try database.statement("DELETE FROM outbox WHERE seq <= ?").run([.integer(seq)]) }
        }
    }

    package func pendingEvents() throws -> Int {
        try locked { Int(try database.scalarInteger("SELECT count(*) FROM outbox") ?? 0) }
    }

    // MARK: Migrations

    /// What this service knows of one migration it takes part in.
    package struct MigrationRecord: Sendable {
        package let tenant: String
        package let role: String
        package let isEnded: Bool
        /// The source's snapshot (JSON: sequence, bytes, content) once taken; the target's received snapshot.
        package let snapshot: String?
    }

    package func migration(_ id: String) throws -> MigrationRecord? {
        try locked {
            try database.read {
                try database.statement("SELECT tenant, role, ended, snapshot FROM migration_orders WHERE migration = ?")
                    .first([.text(id)]) {
                        MigrationRecord(
                            tenant: $0.text(0), role: $0.text(1), isEnded: $0.integer(2) != 0, snapshot: $0.optionalText(3))
                    }
            }
        }
    }

    /// Records the latest order received for a migration (the first creates its record); an ended one stays ended.
    package func noteOrder(migration: String, tenant: String, role: String, signed: [UInt8], at time: Int64) throws {
        try locked {
            try database.write {
                try database.statement(
                    """
                    INSERT INTO migration_orders (migration, tenant, role, signed, updated_at) VALUES (?, ?, ?, ?, ?)
                    ON CONFLICT (migration) DO UPDATE SET signed = excluded.signed, updated_at = excluded.updated_at
                    WHERE ended = 0
                    """
                ).run([.text(migration), .text(tenant), .text(role), .blob(signed), .integer(time)])
            }
        }
    }

    package func setSnapshot(migration: String, _ snapshot: String?) throws {
        try locked {
            try database.write {
                try database.statement("UPDATE migration_orders SET snapshot = ? WHERE migration = ?")
                    .run([.optional(snapshot), .text(migration)])
            }
        }
    }

    /// Marks the migration over here: its order is never acted on again.
    package func endMigration(_ id: String, at time: Int64) throws {
        try locked {
            try database.write {
                try database.statement("UPDATE migration_orders SET ended = 1, updated_at = ? WHERE migration = ?")
                    .run([.integer(time), .text(id)])
            }
        }
    }

    // MARK: Peers

    package struct Peer: Sendable, Equatable {
        package let pin: String
        package let region: String
        package let endpoint: String

        package init(pin: String, region: String, endpoint: String) {
            self.pin = pin
            self.region = region
            self.endpoint = endpoint
        }
    }

    package func peers() throws -> [Peer] {
        try locked {
            try database.read {
                try database.statement("SELECT pin, region, endpoint FROM peers ORDER BY region").rows([]) {
                    Peer(pin: $0.text(0), region: $0.text(1), endpoint: $0.text(2))
                }
            }
        }
    }

    /// Replaces the peer services this service knows (the controller's list is the whole truth).
    package func replacePeers(_ peers: [Peer]) throws {
        try locked {
            try database.write {
                try database.execute("DELETE FROM peers")
                for peer in peers {
                    try database.statement("INSERT OR REPLACE INTO peers (pin, region, endpoint) VALUES (?, ?, ?)")
                        .run([.text(peer.pin), .text(peer.region), .text(peer.endpoint)])
                }
            }
        }
    }
}
