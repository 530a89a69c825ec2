import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

#if canImport(Glibc)
    import Glibc
#endif

/// A regional service's part in a migration between services, each step under a controller-signed
/// `MigrationOrder`: as the source it snapshots, freezes, exports the changes made since the snapshot, serves
/// those files to the order's target only, and purges once the cutover reached it; as the target it pulls the
/// files straight from the source over mutual TLS (the controller never holds the bytes), publishes the copy,
/// applies the changes, and discards its copy on a rollback. Every step can be run again after a crash; every
/// refused order is queued for the ledger (within a budget per presenter; the rest counted and coalesced).
extension RegionNode {
    package enum MigrationRole: String, Sendable {
        case source, target
    }

    var migrationDirectory: URL { dataDirectory.appendingPathComponent("migrations", isDirectory: true) }

    func migrationFile(_ id: String, _ kind: String) -> String {
        migrationDirectory.appendingPathComponent("\(id).\(kind)").path
    }

    // MARK: Peers

    /// The peer services' pins, for the TLS handshake.
    package var peerPins: Set<String> { Set(peers.withLock { $0.keys }) }

    package func isPeer(pin: String?) -> Bool {
        guard let pin else { return false }
        return peers.withLock { $0[pin] != nil }
    }

    /// Replaces the peer services with the controller's list (its own key never among them).
    package func replacePeers(_ list: [(pin: String, region: String, endpoint: String)]) throws {
        let own = identity?.pin
        let kept = list.filter { $0.pin != own && $0.region != region }
            .map { RegionStore.Peer(pin: $0.pin, region: $0.region, endpoint: $0.endpoint) }
        try store.replacePeers(kept)
        peers.withLock { $0 = Dictionary(kept.map { ($0.pin, $0) }, uniquingKeysWith: { first, _ in first }) }
    }

    // MARK: Orders

    /// Checks `bytes` as an order for migration `id` in which this service plays `role` (and, for a peer's
    /// request, that the caller is the order's target); records the order. A refusal is queued for the ledger
    /// and thrown. `allowEnded` lets a finishing step (purge, discard, release) be repeated after the end.
    func checkOrder(
        _ bytes: [UInt8], migration id: String, role: MigrationRole, caller: String? = nil, allowEnded: Bool = false
    ) throws(Refusal) -> MigrationOrder {
        func refuse(_ code: String, _ message: String, tenant: String? = nil) -> Refusal {
            recordOrderRefusal(migration: id, tenant: tenant, code: code, message: message, caller: caller)
            return .orderRefused(code: code, message: message)
        }
        let signed: SignedMigrationOrder
        do { signed = try SignedMigrationOrder(parsing: bytes) } catch {
            throw refuse("order_malformed", "the migration order is malformed: \(error)")
        }
        let order = signed.order
        guard signed.isSigned(by: controllerKey) else {
            throw refuse(
                "order_not_signed",
                "the migration order for \(order.migration) is not signed by the controller this service enrolled with (altered, or forged)",
                tenant: order.tenant)
        }
        guard order.migration == id else {
            throw refuse(
                "order_mismatch", "the order is for migration \(order.migration), not \(id)", tenant: order.tenant)
        }
        let now = clock.now()
        guard now <= order.expiresAt else {
            throw refuse(
                "order_expired",
                "the migration order for \(id) expired at \(Timestamp.rfc3339(milliseconds: order.expiresAt))",
                tenant: order.tenant)
        }
        let named = role == .source ? order.source : order.target
        guard named.region == region else {
            throw refuse(
                "order_not_for_this_region",
                "the order names region \(named.region) as its \(role.rawValue), not this service's region \(region)",
                tenant: order.tenant)
        }
        if let caller, caller != order.target.pin {
            throw refuse(
                "order_wrong_peer",
                "the order's data goes to region \(order.target.region)'s service only; the caller's key is another's",
                tenant: order.tenant)
        }
        let record: RegionStore.MigrationRecord?
        do { record = try store.migration(id) } catch { throw .storage("the region's store: \(error)") }
        if let record {
            guard record.tenant == order.tenant, record.role == role.rawValue else {
                throw refuse(
                    "order_mismatch", "migration \(id) is held here for tenant \(record.tenant) as \(record.role)",
                    tenant: order.tenant)
            }
            if record.isEnded, !allowEnded {
                throw refuse(
                    "order_ended", "migration \(id) has ended at this service; its orders are not acted on again",
                    tenant: order.tenant)
            }
        }
        do {
            try store.noteOrder(migration: id, tenant: order.tenant, role: role.rawValue, signed: bytes, at: now)
        } catch {
            throw .storage("the region's store: \(error)")
        }
        return order
    }

    /// Refused orders queued one by one per presenter (a peer's key, or the controller) within a window; past
    /// that, each is counted in a durable tally that becomes one event per code when the window ends — a
    /// peer sending bad orders in a loop cannot fill the outbox or the ledger, and no refusal goes uncounted.
    package static let orderRefusalBudget: (events: Int, window: Int64) = (20, 60_000)

    func recordOrderRefusal(migration: String, tenant: String?, code: String, message: String, caller: String?) {
        do {
            try store.recordOrderRefusal(
                presenter: caller.map { $0.isEmpty ? "unidentified" : $0 } ?? "controller", code: code,
                kind: LedgerKind.regionMigrationOrderRefused.rawValue,
                body: .object([
                    ("code", .string(code)), ("detail", .string(String(message.prefix(300)))),
                    ("migration", .string(String(migration.prefix(64)))), ("presented_by", .optional(caller)),
                    ("region", .string(region)), ("tenant", .optional(tenant)),
                ]), at: clock.now(), budget: Self.orderRefusalBudget)
        } catch {
            failures.report("recording a refused migration order", error, at: clock.now())
        }
    }

    private func step<T>(_ what: String, _ body: () throws -> T) throws(Refusal) -> T {
        FaultPoint.hit(what, "before")
        let value: T
        do {
            value = try body()
        } catch let refusal as Refusal {
            throw refusal
        } catch let error as TenantDataError {
            if case .mismatch = error { throw .migrationConflict(code: "verification_failed", message: "\(error)") }
            throw .storage("\(what): \(error)")
        } catch {
            throw .storage("\(what): \(error)")
        }
        FaultPoint.hit(what, "after")
        return value
    }

    // MARK: Source

    /// Takes (once) the snapshot the target will pull: its sequence and size; with `hash`, also its row counts and
    /// the SHA-256 of its bytes (computed once, from the snapshot file, while the target may be pulling it).
    package func prepareSnapshot(
        order bytes: [UInt8], migration id: String, hash: Bool = false
    ) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .source)
        _ = try home(of: order.tenant)
        return try step(hash ? "source-hash" : "source-prepare") {
            let file = migrationFile(id, "snapshot")
            var stored = try storedSnapshot(id)
            let boot = DataPlane.bootID
            let copying = snapshotCopies.withLock { $0[id] != nil }
            // The snapshot is not synced to disk: one from before a machine restart is taken again.
            if !copying
                && (stored == nil || !FileManager.default.fileExists(atPath: file) || stored?["boot"] != .string(boot))
            {
                let source = dataPlane.path(region: region, tenant: order.tenant)
                let sequence: Int64
                let bytes: Int64
                // The tenant's file held still and copied beside the transfer, which starts at once (reading
                // the held file until the copy is published); a tenant too busy to pin is backed up first.
                if let pinned = try startSnapshotCopy(id, of: source, to: file) {
                    (sequence, bytes) = (pinned.sequence, pinned.bytes)
                } else {
                    let snapshot = try TenantDataCopy.snapshot(of: source, to: file)
                    (sequence, bytes) = (snapshot.sequence, snapshot.bytes)
                }
                // `taken` tells this snapshot from another at the same sequence (taken again after this process
                // restarted mid-copy): a target resumes a partial pull only of the very same bytes.
                let value = JSONValue.object([
                    ("boot", .string(boot)), ("bytes", .integer(bytes)), ("sequence", .integer(sequence)),
                    ("taken", .string(SecureRandom.hex(8))),
                ])
                try store.setSnapshot(migration: id, value.encoded())
                stored = value
            }
            guard var value = stored else { return JSONValue.null }
            if hash, value["content"] == nil {
                // The hash is of the copy: one being made beside the transfer is waited for.
                waitForSnapshotCopy(id)
                let sha256 = try FileDigest.sha256(of: file)
                value = value.adding([
                    ("content", try TenantDataCopy.fileContent(ofSnapshot: file, sha256: sha256).jsonValue)
                ])
                try store.setSnapshot(migration: id, value.encoded())
            }
            return value
        }
    }

    func storedSnapshot(_ id: String) throws -> JSONValue? {
        guard let text = try store.migration(id)?.snapshot else { return nil }
        return try JSONParser.parse(Array(text.utf8))
    }

    /// Holds the tenant's writes (409 with Retry-After) until the cutover or a rollback.
    package func freeze(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .source)
        let database = try home(of: order.tenant)
        return try step("source-freeze") {
            try database.setFrozen(true)
            // The controller freezes only after the copy was verified, and a migration never copies again once
            // frozen: the snapshot (a whole copy of the tenant's data) is not needed any more. Its removal —
            // freeing a file as large as the tenant — runs beside the frozen steps instead of in the purge after
            // the cutover; the purge and a rollback remove the migration's files again (idempotent).
            let snapshot = migrationFile(id, "snapshot")
            DispatchQueue.global(qos: .utility).async { [self] in
                waitForSnapshotCopy(id)
                DataPlane.removeFiles(at: snapshot)
            }
            return .object([("frozen", .bool(true)), ("sequence", .integer(try database.sequence()))])
        }
    }

    /// The snapshot's description for the target (the caller must be the order's target).
    package func snapshotDescription(
        order bytes: [UInt8], migration id: String, caller: String?
    ) throws(Refusal) -> JSONValue {
        _ = try checkOrder(bytes, migration: id, role: .source, caller: caller ?? "")
        let stored: JSONValue?
        do { stored = try storedSnapshot(id) } catch { throw .storage("the region's store: \(error)") }
        guard let stored else {
            throw .migrationConflict(
                code: "snapshot_not_ready", message: "no snapshot of migration \(id) has been taken here")
        }
        return stored
    }

    /// After the freeze: writes the rows changed since `since` to a file for the target; answers its size.
    package func exportChanges(
        order bytes: [UInt8], migration id: String, since: Int64, caller: String?
    ) throws(Refusal)
        -> JSONValue
    {
        let order = try checkOrder(bytes, migration: id, role: .source, caller: caller ?? "")
        let database = try home(of: order.tenant)
        return try step("source-export") {
            guard try database.isFrozen() else {
                throw Refusal.migrationConflict(
                    code: "not_frozen",
                    message: "tenant \(order.tenant) is not frozen here; changes are exported after the freeze")
            }
            let path = migrationFile(id, "changes")
            let changed = try TenantDataCopy.exportChanges(
                of: dataPlane.path(region: region, tenant: order.tenant), since: since, to: path)
            let size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            return .object([("bytes", .integer(size)), ("changed_rows", .integer(Int64(changed)))])
        }
    }

    /// A migration file from `offset` to its end, for the order's target to take as one streamed answer: its
    /// length and the producer that hands it over piece by piece. The order is checked once, when the transfer
    /// starts, so a slow link is never cut off by the order's expiry; a transfer cut for any reason is resumed
    /// with a fresh order. The producer stops if the migration ends here meanwhile (a rollback released it).
    package func fileStream(
        order bytes: [UInt8], migration id: String, file: String, offset: Int64, sequence: Int64?, caller: String?
    ) throws(Refusal) -> (length: Int64, produce: @Sendable (_ write: ([UInt8]) throws -> Void) throws -> Void) {
        let path = try checkedFile(order: bytes, migration: id, file: file, sequence: sequence, caller: caller)
        // A snapshot still being copied is read from the tenant's pinned file (the same bytes) until the copy
        // is published.
        let pinned = file == "snapshot" ? snapshotCopies.withLock { $0[id] }?.file : nil
        let size: Int64
        var opened: ReadOnlyFile?
        if let pinned {
            size = pinned.bytes
        } else {
            do {
                size = (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
            } catch {
                throw .migrationConflict(
                    code: "file_unavailable", message: "migration \(id)'s \(file) file: \(error)")
            }
            // Opened now: a release that removes the file after this point still leaves these bytes readable,
            // and the producer's check below stops it.
            opened = try Self.openForStream(path, migration: id, file: file)
        }
        guard offset <= size else {
            throw .invalid("offset: \(offset) is past the end of migration \(id)'s \(file) file (\(size) bytes)")
        }
        let store = store
        let first = opened
        return (
            size - offset,
            { write in
                var source = first
                var position = offset
                var sinceCheck: Int64 = 0
                while position < size {
                    let count = Int(min(Int64(Self.streamPiece), size - position))
                    let piece: [UInt8]
                    if source == nil, let held = try pinned?.read(at: position, count: count) {
                        piece = held
                    } else {
                        if source == nil {
                            source = try RegionNode.openForStream(path, migration: id, file: "snapshot")
                        }
                        piece = try source!.read(at: position, count: count, path: path)
                    }
                    guard !piece.isEmpty else {
                        throw TenantDataError.io("\(path) ended at \(position) of \(size) bytes")
                    }
                    try write(piece)
                    position += Int64(piece.count)
                    sinceCheck += Int64(piece.count)
                    if sinceCheck >= Self.endCheckStride {
                        sinceCheck = 0
                        if try store.migration(id)?.isEnded == true {
                            throw TenantDataError.io("migration \(id) ended at this service during the transfer")
                        }
                    }
                }
            }
        )
    }

    private static func openForStream(
        _ path: String, migration id: String, file: String
    ) throws(Refusal) -> ReadOnlyFile {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .migrationConflict(
                code: "file_unavailable",
                message: "migration \(id)'s \(file) file: \(String(cString: strerror(errno)))")
        }
        return ReadOnlyFile(descriptor: descriptor)
    }

    /// The size of one piece of a streamed file: large enough that the per-piece hand-over costs nothing, small
    /// enough that a connection's memory stays small.
    static let streamPiece = 1 << 20
    /// How often a streaming producer checks that its migration has not ended here.
    static let endCheckStride: Int64 = 64 << 20

    /// The path of a migration file the order's target may take (`snapshot` must be the one at `sequence`).
    private func checkedFile(
        order bytes: [UInt8], migration id: String, file: String, sequence: Int64?, caller: String?
    ) throws(Refusal) -> String {
        _ = try checkOrder(bytes, migration: id, role: .source, caller: caller ?? "")
        guard file == "snapshot" || file == "changes" else {
            throw .invalid("file: \"\(file.prefix(40))\"; accepted: snapshot, changes")
        }
        if file == "snapshot", let sequence {
            let stored: JSONValue?
            do { stored = try storedSnapshot(id) } catch { throw .storage("the region's store: \(error)") }
            guard case .number(let held)? = stored?["sequence"], held.int64Value == sequence else {
                throw .migrationConflict(
                    code: "snapshot_changed",
                    message: "the snapshot of migration \(id) is not the one at sequence \(sequence); start again")
            }
        }
        return migrationFile(id, file)
    }

    /// After the cutover reached this service (its assignment names the target): the tenant's data goes from
    /// here, confirmed in the answer and on the ledger. Repeating it is harmless.
    package func purgeMigrated(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .source, allowEnded: true)
        let held: RegionStore.Held?
        do { held = try store.held(tenant: order.tenant) } catch { throw .storage("the region's store: \(error)") }
        guard let held, held.region != region else {
            throw .migrationConflict(
                code: "cutover_not_received",
                message:
                    "tenant \(order.tenant) is still assigned to \(region) here; the cutover's assignment must arrive before the purge"
            )
        }
        return try step("source-purge") {
            let wasHere = dataPlane.exists(region: region, tenant: order.tenant)
            try dataPlane.purge(region: region, tenant: order.tenant)
            removeMigrationFiles(id)
            if try store.migration(id)?.isEnded != true {
                try store.endMigration(id, at: clock.now())
                try store.enqueue(
                    kind: LedgerKind.regionMigrationPurged.rawValue,
                    body: .object([
                        ("migration", .string(id)), ("region", .string(region)), ("tenant", .string(order.tenant)),
                        ("to_region", .string(order.target.region)),
                    ]), at: clock.now())
            }
            return .object([("purged", .bool(true)), ("was_present", .bool(wasHere)), ("region", .string(region))])
        }
    }

    /// A rollback at the source: thawed, the migration's files removed, the order spent.
    package func release(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .source, allowEnded: true)
        return try step("source-release") {
            if dataPlane.exists(region: region, tenant: order.tenant) {
                try dataPlane.open(region: region, tenant: order.tenant).setFrozen(false)
            }
            removeMigrationFiles(id)
            try store.endMigration(id, at: clock.now())
            return .object([("thawed", .bool(true))])
        }
    }

    func removeMigrationFiles(_ id: String) {
        // A copy still being made would publish its file after the removal.
        waitForSnapshotCopy(id)
        for kind in ["snapshot", "changes", "incoming", "incoming.json"] {
            DataPlane.removeFiles(at: migrationFile(id, kind))
        }
    }

    // MARK: Either side

    /// The tenant's content here: its change counter and row counts, with the content hash when `full`.
    package func migrationDigest(order bytes: [UInt8], migration id: String, full: Bool) throws(Refusal) -> JSONValue {
        let signed = try? SignedMigrationOrder(parsing: bytes)
        let role: MigrationRole = signed?.order.target.region == region ? .target : .source
        let order = try checkOrder(bytes, migration: id, role: role)
        let path = dataPlane.path(region: region, tenant: order.tenant)
        return try step("\(role.rawValue)-digest") {
            let database = try TenantDatabase(path: path)
            var fields: [(key: String, value: JSONValue)] = [("sequence", .integer(try database.sequence()))]
            if full {
                fields.append(("content", try database.contentDigest().jsonValue))
            } else {
                let rows = try database.rowCounts()
                fields.append(
                    ("rows", .object(TenantCollection.allCases.map { ($0.rawValue, .integer(Int64(rows[$0] ?? 0))) })))
            }
            return .object(fields)
        }
    }

    // MARK: External stores

    /// The commands of an external store's mover, run here at the region: the source's `export`, the target's
    /// `import` and `verify`, and `purge` at the side whose copy goes (`purge-source` after the cutover,
    /// `purge-target` on a rollback). The environment describes the move as at the controller, plus
    /// `RESIDENCY_REGION` (this region).
    package func runCommand(
        order bytes: [UInt8], migration id: String, mover name: String, command: String, phase: String?
    ) throws(Refusal) -> JSONValue {
        let role: MigrationRole
        let stepName: String
        switch command {
        case "export": (role, stepName) = (.source, phase == "final" ? "syncing" : "copying")
        case "import": (role, stepName) = (.target, phase == "final" ? "syncing" : "copying")
        case "verify": (role, stepName) = (.target, "verifying")
        case "purge-source": (role, stepName) = (.source, "cleaning")
        case "purge-target": (role, stepName) = (.target, "rolling_back")
        default:
            throw .invalid(
                "command: \"\(command.prefix(40))\"; accepted: export, import, verify, purge-source, purge-target")
        }
        if let phase, phase != "bulk", phase != "final" { throw .invalid("phase: accepted: bulk, final") }
        let order = try checkOrder(bytes, migration: id, role: role, allowEnded: command.hasPrefix("purge"))
        guard let configuration = commandMovers.first(where: { $0.name == name }) else {
            throw .migrationConflict(
                code: "mover_not_configured",
                message:
                    "no mover \"\(name.prefix(64))\" in this region's movers.json; configured: \(commandMovers.map(\.name))"
            )
        }
        var variables = [
            "RESIDENCY_MIGRATION": id, "RESIDENCY_TENANT": order.tenant, "RESIDENCY_FROM_REGION": order.source.region,
            "RESIDENCY_FROM_SITE": order.source.site, "RESIDENCY_TO_REGION": order.target.region,
            "RESIDENCY_TO_SITE": order.target.site, "RESIDENCY_STEP": stepName, "RESIDENCY_REGION": region,
        ]
        if let phase { variables["RESIDENCY_PHASE"] = phase }
        if command.hasPrefix("purge") { variables["RESIDENCY_PURGE_REGION"] = region }
        let label = command.hasPrefix("purge") ? "purge" : command
        let text: String
        switch label {
        case "export": text = configuration.export
        case "import": text = configuration.importCommand
        case "verify": text = configuration.verify
        default: text = configuration.purge
        }
        return try step("\(role.rawValue)-command") {
            do {
                return try CommandMover(configuration: configuration).run(text, label, variables: variables)
            } catch let error as MoverError {
                throw Refusal.migrationConflict(code: "mover_failed", message: "at region \(region): \(error)")
            }
        }
    }

    // MARK: Target

    /// Pulls the source's snapshot over mutual TLS (resuming a partial pull of the same snapshot), checks its
    /// content hash against the source's and publishes it as the tenant's copy here. Repeating it answers the
    /// copy already made.
    package func pull(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .target)
        try refuseIfHome(order.tenant, doing: "pull a copy")
        let copy = dataPlane.path(region: region, tenant: order.tenant)
        do {
            if let received = try storedSnapshot(id), FileManager.default.fileExists(atPath: copy) { return received }
        } catch {
            throw .storage("the region's store: \(error)")
        }
        return try step("target-pull") {
            let source = try peerClient(order)
            let description = try source.call("snapshot", order: bytes, query: "")
            guard case .number(let total)? = description["bytes"], let size = total.int64Value,
                case .number(let at)? = description["sequence"], let sequence = at.int64Value
            else {
                throw Refusal.migrationConflict(
                    code: "bad_snapshot", message: "the source described its snapshot wrongly")
            }
            try FileManager.default.createDirectory(
                at: migrationDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let incoming = migrationFile(id, "incoming")
            let marker = migrationFile(id, "incoming.json")
            // A partial file is resumed only if it belongs to this same snapshot.
            // With the source's boot: a snapshot taken again after its machine restarted is other bytes.
            var identity = "\(sequence)"
            if case .string(let boot)? = description["boot"] { identity += " \(boot)" }
            if case .string(let taken)? = description["taken"] { identity += " \(taken)" }
            let held = (try? Data(contentsOf: URL(fileURLWithPath: marker))).flatMap {
                String(data: $0, encoding: .utf8)
            }
            if held != identity {
                DataPlane.removeFiles(at: incoming)
                try AtomicFile.write(Array(identity.utf8), to: URL(fileURLWithPath: marker))
            }
            let sha256 = try source.download("snapshot", order: bytes, sequence: sequence, size: size, to: incoming)
            // Hashed here as it arrived; the controller compares it with the source's own hash of its snapshot.
            let received = try TenantDataCopy.fileContent(ofSnapshot: incoming, sha256: sha256).jsonValue
            try FileManager.default.createDirectory(
                at: dataPlane.directory(region: region), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
            try TenantDataCopy.publishReceived(incoming, as: copy, tenant: order.tenant)
            DataPlane.removeFiles(at: marker)
            let answer = JSONValue.object([
                ("bytes", .integer(size)), ("content", received), ("sequence", .integer(sequence)),
            ])
            try store.setSnapshot(migration: id, answer.encoded())
            return answer
        }
    }

    /// After the source's freeze: pulls the rows changed since the snapshot and applies them to the copy.
    package func syncChanges(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .target)
        try refuseIfHome(order.tenant, doing: "apply changes")
        return try step("target-sync") {
            guard let received = try storedSnapshot(id), case .number(let at)? = received["sequence"],
                let since = at.int64Value
            else {
                throw Refusal.migrationConflict(code: "no_copy", message: "migration \(id) has no pulled copy here")
            }
            let source = try peerClient(order)
            let exported = try source.call("changes", order: bytes, query: "since=\(since)")
            guard case .number(let total)? = exported["bytes"], let size = total.int64Value else {
                throw Refusal.migrationConflict(
                    code: "bad_changes", message: "the source described its changes wrongly")
            }
            let path = migrationFile(id, "changes")
            DataPlane.removeFiles(at: path)
            try source.download("changes", order: bytes, sequence: nil, size: size, to: path)
            let changed = try TenantDataCopy.applyChanges(
                from: path, to: dataPlane.path(region: region, tenant: order.tenant))
            DataPlane.removeFiles(at: path)
            return .object([("changed_rows", .integer(Int64(changed)))])
        }
    }

    /// A rollback at the target: the copy and any partial pull removed, the order spent.
    package func discard(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        let order = try checkOrder(bytes, migration: id, role: .target, allowEnded: true)
        try refuseIfHome(order.tenant, doing: "discard the copy")
        return try step("target-discard") {
            try dataPlane.purge(region: region, tenant: order.tenant)
            removeMigrationFiles(id)
            try store.endMigration(id, at: clock.now())
            return .object([("discarded", .string(region))])
        }
    }

    /// After the cutover: the migration's leftovers removed here and its order spent.
    package func finish(order bytes: [UInt8], migration id: String) throws(Refusal) -> JSONValue {
        _ = try checkOrder(bytes, migration: id, role: .target, allowEnded: true)
        return try step("target-finish") {
            removeMigrationFiles(id)
            try store.endMigration(id, at: clock.now())
            return .object([("finished", .bool(true))])
        }
    }

    /// The copy here is the tenant's live data once it is assigned here: no migration step may touch it then.
    private func refuseIfHome(_ tenant: String, doing what: String) throws(Refusal) {
        let held: RegionStore.Held?
        do { held = try store.held(tenant: tenant) } catch { throw .storage("the region's store: \(error)") }
        if let held, held.region == region, held.status != .deleted {
            throw .migrationConflict(
                code: "tenant_home_here",
                message: "tenant \(tenant) is assigned to \(region); cannot \(what) over its live data")
        }
    }

    func peerClient(_ order: MigrationOrder) throws -> MigrationPeerClient {
        guard let identity else { throw Refusal.storage("this service has no key to present to its peer") }
        return try MigrationPeerClient(order: order, identity: identity)
    }
}
