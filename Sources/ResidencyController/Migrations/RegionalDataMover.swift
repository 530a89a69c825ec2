import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// The mover between two regional services: the controller signs an order per step and sends it to the
/// service that acts; the target pulls the bytes straight from the source over their mutual TLS. Both services
/// hash the tenant's content themselves and the controller compares the two answers — it never sees the data.
struct RegionalDataMover: DataMover {
    let regional: RegionalServices
    var name: String { "regional" }

    static let sameService: JSONValue = .object([("note", .string("same regional service; no data to move"))])

    private func step(
        _ migration: Migration, _ side: KeyPath<Parties, RegionalServiceRepository.Service>, _ step: String,
        query: String = "", lifetime: Int64 = MigrationOrder.lifetime
    ) throws -> JSONValue {
        let parties = try Parties(regional.order(for: migration, lifetime: lifetime))
        return try regional.migrationStep(
            parties[keyPath: side], migration: migration.id, step: step, order: parties.order, query: query)
    }

    struct Parties {
        let order: [UInt8]
        let source: RegionalServiceRepository.Service
        let target: RegionalServiceRepository.Service
        init(
            _ parts: (
                signed: [UInt8], source: RegionalServiceRepository.Service, target: RegionalServiceRepository.Service
            )
        ) {
            order = parts.signed
            source = parts.source
            target = parts.target
        }
    }

    func copy(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameService }
        // The snapshot first; then the source hashes it while the target pulls and hashes its copy.
        let snapshot = try step(migration, \.source, "prepare")
        // The pull's order lasts as long as the snapshot's bytes need at the slowest rate allowed for.
        var bytes: Int64 = 0
        if case .number(let size)? = snapshot["bytes"] { bytes = size.int64Value ?? 0 }
        let lifetime = MigrationOrder.lifetime(forBytes: bytes)
        let current = migration
        let (prepared, pulled) = try Self.inParallel(
            { try step(current, \.source, "prepare", query: "hash=1") },
            { try step(current, \.target, "pull", lifetime: lifetime) })
        guard let sourceContent = prepared["content"], let targetContent = pulled["content"],
            case .number(let sequence)? = prepared["sequence"], let snapshot = sequence.int64Value
        else {
            throw MoverError(mover: name, command: "copy", message: "a service's answer lacks its content hash")
        }
        guard sourceContent == targetContent, pulled["sequence"] == prepared["sequence"] else {
            throw MoverError(
                mover: name, command: "copy",
                message: "verification failed: source \(sourceContent.encoded()), target \(targetContent.encoded())")
        }
        migration.snapshotSequence = snapshot
        migration.content = sourceContent
        if case .number(let bytes)? = prepared["bytes"] { migration.bytesCopied = bytes.int64Value }
        return .object([
            ("snapshot_sequence", .integer(snapshot)), ("bytes", .integer(migration.bytesCopied ?? 0)),
            ("content", sourceContent), ("pulled_by", .string(migration.toRegion)),
        ])
    }

    func freezeSource(_ migration: Migration) throws {
        if migration.fromRegion == migration.toRegion { return }
        _ = try step(migration, \.source, "freeze")
    }

    func sync(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameService }
        let synced = try step(migration, \.target, "sync")
        if case .number(let rows)? = synced["changed_rows"], let count = rows.int64Value {
            migration.changedRows = Int(count)
        }
        return .object([("changed_rows", .integer(Int64(migration.changedRows ?? 0)))])
    }

    /// As the local mover: when the source's change counter still stands at the verified snapshot, row counts
    /// on both sides confirm it (the freeze lasts milliseconds); otherwise both services hash their content,
    /// at once, and the controller compares the hashes.
    func verify(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameService }
        let counted = try step(migration, \.source, "digest")
        if let since = migration.snapshotSequence, counted["sequence"] == .integer(since),
            let content = migration.content
        {
            let target = try step(migration, \.target, "digest")
            guard let rows = counted["rows"], target["rows"] == rows, content["rows"] == rows else {
                throw MoverError(
                    mover: name, command: "verify",
                    message:
                        "verification failed: row counts differ: source \(counted["rows"]?.encoded() ?? "-"), target \(target["rows"]?.encoded() ?? "-")"
                )
            }
            return .object([("method", .string("snapshot verified; no change since")), ("content", content)])
        }
        let current = migration
        let (source, target) = try Self.inParallel(
            { try step(current, \.source, "digest", query: "full=1") },
            { try step(current, \.target, "digest", query: "full=1") })
        guard let content = source["content"], target["content"] == content else {
            throw MoverError(
                mover: name, command: "verify",
                message:
                    "verification failed: source \(source["content"]?.encoded() ?? "-"), target \(target["content"]?.encoded() ?? "-")"
            )
        }
        migration.content = content
        return .object([("method", .string("full comparison at both services")), ("content", content)])
    }

    /// The cutover's assignment reaches both services first (the source purges only once it no longer holds
    /// the tenant as its own); then the source purges and confirms, and the target drops its leftovers.
    func purgeSource(_ migration: Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameService }
        do {
            try regional.assign(tenant: migration.tenant)
            let parties = try Parties(regional.order(for: migration))
            for service in [parties.target, parties.source] {
                try regional.deliver(to: service, only: migration.tenant)
            }
        } catch {
            throw MoverUnavailable(message: "delivering the cutover's assignment: \(error)")
        }
        let purged = try step(migration, \.source, "purge")
        _ = try step(migration, \.target, "finish")
        return .object([("purged", .string(migration.fromRegion)), ("confirmation", purged)])
    }

    func discardTarget(_ migration: Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameService }
        let answer = try step(migration, \.target, "discard")
        return .object([("discarded", .string(migration.toRegion)), ("answer", answer)])
    }

    func thawSource(_ migration: Migration) throws {
        if migration.fromRegion == migration.toRegion { return }
        _ = try step(migration, \.source, "release")
    }

    /// Two calls at once, one on this thread: each service hashes its own copy at the same time.
    static func inParallel<A, B>(_ first: () throws -> A, _ second: () throws -> B) throws -> (A, B) {
        try bothAtOnce(first, second)
    }
}
