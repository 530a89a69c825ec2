import ResidencyCore
import ResidencyStore

/// The built-in mover for the embedded data plane: SQLite's online backup API for the bulk copy, the
/// change log for the final copy, row counts and a content hash on both sides for verification.
struct LocalDataMover: DataMover {
    let dataPlane: DataPlane
    var name: String { "local" }

    func source(_ m: Migration) -> String { dataPlane.path(region: m.fromRegion, tenant: m.tenant) }
    func target(_ m: Migration) -> String { dataPlane.path(region: m.toRegion, tenant: m.tenant) }

    /// Sites of one region share the region's directory: moving between them moves no data here.
    static let sameDirectory: JSONValue = .object([("note", .string("same region directory; no data to move"))])

    func copy(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion {
            let content = try TenantDatabase(path: source(migration)).contentDigest()
            migration.content = content.jsonValue
            return Self.sameDirectory
        }
        let snapshot = try TenantDataCopy.bulkCopy(from: source(migration), to: target(migration))
        migration.snapshotSequence = snapshot.sequence
        migration.content = snapshot.content.jsonValue
        migration.bytesCopied = snapshot.bytes
        return .object([
            ("snapshot_sequence", .integer(snapshot.sequence)), ("bytes", .integer(snapshot.bytes)),
            ("content", snapshot.content.jsonValue),
        ])
    }

    func sync(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameDirectory }
        guard let since = migration.snapshotSequence else {
            throw TenantDataError.mismatch("no snapshot was recorded by the bulk copy")
        }
        let changed = try TenantDataCopy.syncChanges(from: source(migration), to: target(migration), since: since)
        migration.changedRows = changed
        return .object([("changed_rows", .integer(changed))])
    }

    /// When nothing changed since the verified snapshot (the source's change counter says so, and the target
    /// is written by no one) the snapshot's verification stands and only row counts are compared, so a
    /// tenant with no writes in flight is frozen for milliseconds; otherwise both sides are hashed again.
    func verify(_ migration: inout Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameDirectory }
        let origin = try TenantDatabase(path: source(migration))
        if let since = migration.snapshotSequence, try origin.sequence() == since,
            let content = migration.content
        {
            let copy = try TenantDatabase(path: target(migration))
            let (sourceRows, targetRows) = (try origin.rowCounts(), try copy.rowCounts())
            let expected = TenantCollection.allCases.map { collection -> Int in
                if case .number(let n) = content["rows"]?[collection.rawValue], let v = n.int64Value { return Int(v) }
                return -1
            }
            guard sourceRows == targetRows, TenantCollection.allCases.map({ sourceRows[$0] ?? 0 }) == expected else {
                throw TenantDataError.mismatch("row counts differ: source \(sourceRows), target \(targetRows)")
            }
            return .object([("method", .string("snapshot verified; no change since")), ("content", content)])
        }
        let content = try TenantDataCopy.verify(source: source(migration), target: target(migration))
        migration.content = content.jsonValue
        return .object([("method", .string("full comparison")), ("content", content.jsonValue)])
    }

    func purgeSource(_ migration: Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameDirectory }
        if dataPlane.exists(region: migration.fromRegion, tenant: migration.tenant) {
            try TenantDatabase(path: source(migration)).foldWriteAheadLog()
        }
        try dataPlane.purge(region: migration.fromRegion, tenant: migration.tenant)
        return .object([("purged", .string(migration.fromRegion))])
    }

    func discardTarget(_ migration: Migration) throws -> JSONValue {
        if migration.fromRegion == migration.toRegion { return Self.sameDirectory }
        try dataPlane.purge(region: migration.toRegion, tenant: migration.tenant)
        return .object([("discarded", .string(migration.toRegion))])
    }

    func freezeSource(_ migration: Migration) throws {
        try dataPlane.open(region: migration.fromRegion, tenant: migration.tenant).setFrozen(true)
    }

    func thawTarget(_ migration: Migration) throws {
        try dataPlane.open(region: migration.toRegion, tenant: migration.tenant).setFrozen(false)
    }

    func thawSource(_ migration: Migration) throws {
        if dataPlane.exists(region: migration.fromRegion, tenant: migration.tenant) {
            try dataPlane.open(region: migration.fromRegion, tenant: migration.tenant).setFrozen(false)
        }
    }
}
