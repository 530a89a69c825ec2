import ResidencyCore

/// The migrations table and its step log.
package struct MigrationRepository {
    let database: Database

    package init(_ database: Database) { self.database = database }

    static let columns = """
        id, tenant, from_region, from_site, to_region, to_site, state, ending, reason, requested_by, approved_by, plan,
        transfer, movers, created_at, updated_at, snapshot_sequence, content, bytes_copied, changed_rows, frozen_at,
        cutover_at, finished_at, error
        """

    /// Inserts a new migration; a tenant with one already under way fails the unique index.
    package func insert(_ migration: Migration) throws {
        try database.statement(
            "INSERT INTO migrations (\(Self.columns)) VALUES (\(Array(repeating: "?", count: 24).joined(separator: ", ")))"
        )
        .run(Self.values(migration))
    }

    /// Writes every mutable field of `migration` back.
    package func update(_ migration: Migration) throws {
        try database.statement(
            """
            UPDATE migrations SET state = ?2, ending = ?3, approved_by = ?4, updated_at = ?5, snapshot_sequence = ?6,
                content = ?7, bytes_copied = ?8, changed_rows = ?9, frozen_at = ?10, cutover_at = ?11,
                finished_at = ?12, error = ?13
            WHERE id = ?1
            """
        ).run([
            .text(migration.id), .text(migration.state.rawValue), .optional(migration.ending?.rawValue),
            .optional(migration.approvedBy), .integer(migration.updatedAt), .optional(migration.snapshotSequence),
            .optional(migration.content.map { $0.encoded() }), .optional(migration.bytesCopied),
            .optional(migration.changedRows.map(Int64.init)), .optional(migration.frozenAt),
            .optional(migration.cutoverAt), .optional(migration.finishedAt), .optional(migration.error),
        ])
    }

    package func migration(id: String) throws -> Migration? {
        try database.statement("SELECT \(Self.columns) FROM migrations WHERE id = ?").first([.text(id)], Self.read)
    }

    /// The tenant's migration under way, if any.
    package func active(tenant: String) throws -> Migration? {
        try database.statement(
            "SELECT \(Self.columns) FROM migrations WHERE tenant = ? AND state NOT IN ('completed', 'failed', 'cancelled')"
        ).first([.text(tenant)], Self.read)
    }

    /// Migrations, newest first, optionally filtered.
    package func migrations(tenant: String?, state: MigrationState?, plan: String?, limit: Int) throws -> [Migration] {
        try database.statement(
            """
            SELECT \(Self.columns) FROM migrations
            WHERE (?1 IS NULL OR tenant = ?1) AND (?2 IS NULL OR state = ?2) AND (?3 IS NULL OR plan = ?3)
            ORDER BY created_at DESC, id DESC LIMIT ?4
            """
        ).rows([.optional(tenant), .optional(state?.rawValue), .optional(plan), .integer(Int64(limit))], Self.read)
    }

    /// Every migration a runner must carry forward (approved and not final), oldest first.
    package func runnable() throws -> [Migration] {
        try database.statement(
            """
            SELECT \(Self.columns) FROM migrations
            WHERE state NOT IN ('requested', 'completed', 'failed', 'cancelled') ORDER BY created_at, id
            """
        ).rows([], Self.read)
    }

    package func logStep(migration: String, state: MigrationState, phase: String, at time: Int64, detail: String) throws
    {
        try database.statement(
            "INSERT INTO migration_steps (migration, state, phase, at, detail) VALUES (?, ?, ?, ?, ?)"
        )
        .run([.text(migration), .text(state.rawValue), .text(phase), .integer(time), .text(detail)])
    }

    package struct Step: Sendable {
        package let state: String
        package let phase: String
        package let at: Int64
        package let detail: String

        /// The log line as the API and the CLI show it.
        package var jsonValue: JSONValue {
            .object([
                ("state", .string(state)), ("phase", .string(phase)),
                ("at", .string(Timestamp.rfc3339(milliseconds: at))),
                ("detail", (try? JSONParser.parse(detail)) ?? .string(detail)),
            ])
        }
    }

    package func steps(migration: String) throws -> [Step] {
        try database.statement("SELECT state, phase, at, detail FROM migration_steps WHERE migration = ? ORDER BY id")
            .rows([.text(migration)]) {
                Step(state: $0.text(0), phase: $0.text(1), at: $0.integer(2), detail: $0.text(3))
            }
    }

    static func values(_ m: Migration) -> [DatabaseValue] {
        [
            .text(m.id), .text(m.tenant), .text(m.fromRegion), .text(m.fromSite), .text(m.toRegion), .text(m.toSite),
            .text(m.state.rawValue), .optional(m.ending?.rawValue), .text(m.reason), .text(m.requestedBy),
            .optional(m.approvedBy), .optional(m.plan), .text(m.transfer.jsonValue.encoded()),
            .text(JSONValue.array(m.movers.map { .string($0) }).encoded()), .integer(m.createdAt),
            .integer(m.updatedAt), .optional(m.snapshotSequence), .optional(m.content.map { $0.encoded() }),
            .optional(m.bytesCopied), .optional(m.changedRows.map(Int64.init)), .optional(m.frozenAt),
            .optional(m.cutoverAt), .optional(m.finishedAt), .optional(m.error),
        ]
    }

    static func read(_ row: Row) throws -> Migration {
        guard let state = MigrationState(rawValue: row.text(6)),
            let transfer = (try? JSONParser.parse(row.text(12))).flatMap(TransferBasis.init(json:)),
            case .array(let moverValues) = try JSONParser.parse(row.text(13))
        else {
            throw DatabaseError(code: 11, message: "migration \(row.text(0)) has an unreadable state or transfer basis")
        }
        var migration = Migration(
            id: row.text(0), tenant: row.text(1), fromRegion: row.text(2), fromSite: row.text(3), toRegion: row.text(4),
            toSite: row.text(5), reason: row.text(8), requestedBy: row.text(9), plan: row.optionalText(11),
            transfer: transfer,
            movers: moverValues.compactMap { if case .string(let s) = $0 { return s } else { return nil } },
            createdAt: row.integer(14))
        migration.state = state
        migration.ending = row.optionalText(7).flatMap(MigrationState.init(rawValue:))
        migration.approvedBy = row.optionalText(10)
        migration.updatedAt = row.integer(15)
        migration.snapshotSequence = row.optionalInteger(16)
        migration.content = row.optionalText(17).flatMap { try? JSONParser.parse($0) }
        migration.bytesCopied = row.optionalInteger(18)
        migration.changedRows = row.optionalInteger(19).map(Int.init)
        migration.frozenAt = row.optionalInteger(20)
        migration.cutoverAt = row.optionalInteger(21)
        migration.finishedAt = row.optionalInteger(22)
        migration.error = row.optionalText(23)
        return migration
    }
}
