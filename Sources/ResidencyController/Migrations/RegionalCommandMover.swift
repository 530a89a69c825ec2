import ResidencyCore

/// An external store's mover between two regional services: its commands run at the regions, each under the
/// step's signed order — the source's `export`, the target's `import` and `verify`, and `purge` at the side
/// whose copy goes. Both regions configure it (same name) in their own `movers.json`.
struct RegionalCommandMover: DataMover {
    let regional: RegionalServices
    /// The mover's name in the regions' `movers.json`.
    let mover: String
    var name: String { Self.prefix + mover }

    /// How a migration's mover list names a mover run at the regions.
    static let prefix = "region:"

    private func run(_ migration: Migration, at side: Side, _ command: String, phase: String? = nil) throws -> JSONValue
    {
        let (order, source, target) = try regional.order(for: migration)
        var query = "mover=\(mover)&command=\(command)"
        if let phase { query += "&phase=\(phase)" }
        return try regional.migrationStep(
            side == .source ? source : target, migration: migration.id, step: "command", order: order, query: query)
    }

    enum Side { case source, target }

    func copy(_ migration: inout Migration) throws -> JSONValue {
        .object([
            ("export", try run(migration, at: .source, "export", phase: "bulk")),
            ("import", try run(migration, at: .target, "import", phase: "bulk")),
        ])
    }

    func sync(_ migration: inout Migration) throws -> JSONValue {
        .object([
            ("export", try run(migration, at: .source, "export", phase: "final")),
            ("import", try run(migration, at: .target, "import", phase: "final")),
        ])
    }

    func verify(_ migration: inout Migration) throws -> JSONValue {
        .object([("verify", try run(migration, at: .target, "verify"))])
    }

    func purgeSource(_ migration: Migration) throws -> JSONValue {
        .object([("purge", try run(migration, at: .source, "purge-source"))])
    }

    func discardTarget(_ migration: Migration) throws -> JSONValue {
        .object([("purge", try run(migration, at: .target, "purge-target"))])
    }
}
