import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS
import Synchronization

/// A regional service's use cases: it holds its region's tenants' data and acts only on what the controller
/// signed. An assignment is taken only with the pinned controller key's signature and only if it is not older
/// than the one held; data is stored and served only for tenants whose current assignment names this region and
/// is active; a tenant held elsewhere is a misdirected request (421, naming where it lives); every write is
/// queued for the controller's ledger in the outbox.
package final class RegionNode: Sendable {
    package let configuration: RegionNodeConfiguration
    package var region: String { configuration.region }
    package let dataDirectory: URL
    let store: RegionStore
    let dataPlane: DataPlane
    let controllerKey: Ed25519PublicKey
    let clock: Clock
    /// Failures no caller waits for (an event that could not be queued): counted and shown by the health call.
    package let failures = FailureLog(logger: Logger(label: "residency.region", handler: JSONLineLogHandler()))

    /// The service's witness of the controller's log (nil when its enrolment carried no ledger key).
    package let witness: Witness?
    /// The service's own key: what it presents when it pulls a migrating tenant's data from a peer service.
    let identity: TLSIdentity?
    /// The peer services the controller named (pins, regions, endpoints): their keys pass this service's
    /// handshake and reach the peer routes only.
    let peers: Mutex<[String: RegionStore.Peer]>
    /// Migration snapshots being copied in this process (`SnapshotCopy`), by migration id.
    let snapshotCopies = Mutex<[String: SnapshotCopy]>([:])
    /// The external stores' movers configured for this region (`movers.json` in the data directory): run here,
    /// at the region, when a migration moves a tenant out of or into it.
    package let commandMovers: [CommandMoverConfiguration]

    package init(
        configuration: RegionNodeConfiguration, dataDirectory: URL, witness: Witness? = nil, identity: TLSIdentity? = nil,
        clock: Clock = .system
    ) throws {
        self.witness = witness
        self.identity = identity
        self.configuration = configuration
        self.dataDirectory = dataDirectory
        self.store = try RegionStore(directory: dataDirectory)
        self.dataPlane = DataPlane(dataDirectory: DataDirectory(dataDirectory))
        self.controllerKey = Ed25519PublicKey(rawValue: configuration.controllerKey)
        self.clock = clock
        self.commandMovers = try CommandMoverConfiguration.load(
            from: dataDirectory.appendingPathComponent(CommandMoverConfiguration.defaultFileName))
        let known = try store.peers()
        self.peers = Mutex(Dictionary(known.map { ($0.pin, $0) }, uniquingKeysWith: { first, _ in first }))
    }

    /// Why a data request is not served here.
    package enum Refusal: Error, Sendable, Equatable, CustomStringConvertible {
        /// No assignment for the tenant: unknown here.
        case unknownTenant(String)
        /// The tenant lives in another region.
        case elsewhere(tenant: String, region: String, endpoint: String)
        /// Assigned here but not served in its state.
        case notServed(tenant: String, status: TenantStatus)
        /// A migration holds the tenant's writes.
        case frozen(String)
        case invalid(String)
        case storage(String)
        /// A support use outside its grant (or without one), refused here and recorded.
        case accessRefused(code: String, message: String)
        /// A migration order refused (recorded for the ledger).
        case orderRefused(code: String, message: String)
        /// A migration step that found its data different from what was ordered.
        case migrationConflict(code: String, message: String)
        /// The peer service of a migration did not answer: worth retrying.
        case peerUnavailable(String)

        package var description: String {
            switch self {
            case .unknownTenant(let tenant): return "no tenant \(tenant) is assigned to this region"
            case .elsewhere(let tenant, let region, let endpoint):
                return "tenant \(tenant) lives in region \(region); send its data requests to \(endpoint)"
            case .notServed(let tenant, let status):
                return "tenant \(tenant) is \(status.rawValue); its data is not served"
            case .frozen(let tenant): return "tenant \(tenant)'s writes are held by a migration; retry shortly"
            case .invalid(let message): return message
            case .storage(let message): return message
            case .accessRefused(_, let message): return message
            case .orderRefused(_, let message): return message
            case .migrationConflict(_, let message): return message
            case .peerUnavailable(let message): return message
            }
        }
    }

    // MARK: Assignments

    /// Verifies and keeps a signed assignment; provisions the tenant's database when it is assigned here and
    /// active. An assignment signed by any other key, or older than the one held, changes nothing.
    package func accept(assignment bytes: [UInt8]) throws -> RegionStore.Acceptance {
        let signed = try SignedAssignment(parsing: bytes)
        guard signed.isSigned(by: controllerKey) else {
            throw RegionEnrolmentError(
                "the assignment of \(signed.assignment.tenant) is not signed by the controller this service enrolled with")
        }
        let assignment = signed.assignment
        let outcome = try store.accept(assignment, signed: bytes, at: clock.now())
        if case .stale = outcome { return outcome }
        if assignment.region == region, assignment.status == .active,
            !dataPlane.exists(region: region, tenant: assignment.tenant)
        {
            try dataPlane.provision(region: region, tenant: assignment.tenant)
        }
        if assignment.region == region, assignment.status == .deleted {
            // Deleted by the retention schedule or on request: the data goes from the region that held it.
            try dataPlane.purge(region: region, tenant: assignment.tenant)
        }
        return outcome
    }

    /// The tenant's database, if its data may be used here now.
    func home(of tenant: String) throws(Refusal) -> TenantDatabase {
        guard TenantIDRule.isWellFormed(tenant) else { throw .unknownTenant(tenant) }
        let held: RegionStore.Held?
        do { held = try store.held(tenant: tenant) } catch { throw .storage("the region's store: \(error)") }
        guard let held else { throw .unknownTenant(tenant) }
        guard held.region == region else {
            throw .elsewhere(tenant: tenant, region: held.region, endpoint: held.endpoint)
        }
        guard held.status == .active else { throw .notServed(tenant: tenant, status: held.status) }
        do {
            return try dataPlane.open(region: region, tenant: tenant)
        } catch {
            throw movedAway(tenant) ?? .storage("tenant \(tenant)'s data is not available in \(region)")
        }
    }

    private func translating<T>(_ tenant: String, _ body: () throws -> T) throws(Refusal) -> T {
        do {
            return try body()
        } catch let refusal as Refusal {
            throw refusal
        } catch TenantDataError.frozen {
            throw .frozen(tenant)
        } catch {
            throw movedAway(tenant) ?? .storage("tenant \(tenant)'s data in \(region): \(error)")
        }
    }

    /// When an operation on a tenant's file fails, the cutover's assignment may have arrived meanwhile and the
    /// purge removed the file under it: the answer is then where the tenant lives now (421), which the
    /// controller follows, not a storage failure.
    private func movedAway(_ tenant: String) -> Refusal? {
        guard let held = try? store.held(tenant: tenant), held.region != region else { return nil }
        return .elsewhere(tenant: tenant, region: held.region, endpoint: held.endpoint)
    }

    // MARK: Data

    // A write's event is queued after the write, outside `translating`: once the write has committed, a failure
    // to queue its event is a storage failure here, never "the tenant moved" (which a caller would follow by
    // repeating the write at the new home).

    package func put(tenant: String, _ record: TenantRecord) throws(Refusal) {
        let database = try home(of: tenant)
        try translating(tenant) { try database.put(record) }
        try queue(event(tenant, record.collection, record.key, "put"))
    }

    package func delete(tenant: String, _ collection: TenantCollection, key: String) throws(Refusal) -> Bool {
        let database = try home(of: tenant)
        let deleted = try translating(tenant) { try database.delete(collection, key: key) }
        if deleted { try queue(event(tenant, collection, key, "delete")) }
        return deleted
    }

    private func queue(_ body: JSONValue) throws(Refusal) {
        do {
            try store.enqueue(kind: LedgerKind.regionDataWritten.rawValue, body: body, at: clock.now())
        } catch {
            throw .storage("the region's store: \(error)")
        }
    }

    package func record(tenant: String, _ collection: TenantCollection, key: String) throws(Refusal) -> TenantRecord? {
        let database = try home(of: tenant)
        return try record(in: database, tenant: tenant, collection, key: key)
    }

    /// Reads one record from a database this node handed out (a support use's), with the translation of the
    /// application's reads: a file purged under the read answers where the tenant lives now.
    package func record(
        in database: TenantDatabase, tenant: String, _ collection: TenantCollection, key: String
    ) throws(Refusal) -> TenantRecord? {
        try translating(tenant) { try database.record(collection, key: key) }
    }

    package func records(tenant: String, _ collection: TenantCollection, after: String?, limit: Int) throws(Refusal)
        -> [TenantRecord]
    {
        let database = try home(of: tenant)
        return try translating(tenant) { try database.records(collection, after: after, limit: limit) }
    }

    private func event(_ tenant: String, _ collection: TenantCollection, _ key: String, _ operation: String) -> JSONValue {
        .object([
            ("collection", .string(collection.rawValue)), ("key", .string(key)), ("operation", .string(operation)),
            ("region", .string(region)), ("tenant", .string(tenant)),
        ])
    }

    // MARK: Support access

    /// Verifies and keeps a signed grant for one of this region's tenants.
    package func accept(grant bytes: [UInt8]) throws -> RegionStore.Acceptance {
        let signed = try SignedSupportGrant(parsing: bytes)
        guard signed.isSigned(by: controllerKey) else {
            throw RegionEnrolmentError("the grant \(signed.grant.request) is not signed by the controller this service enrolled with")
        }
        guard signed.grant.region == region else {
            throw RegionEnrolmentError("the grant \(signed.grant.request) is for region \(signed.grant.region), not \(region)")
        }
        return try store.accept(signed.grant, signed: bytes)
    }

    /// One support use of a tenant's data: who, from where, under which grant, what. Checked here against the
    /// controller-signed grant with this service's clock — so a grant ends on time even while the controller is
    /// down — and recorded either way (`access.used` or `access.use_refused`, queued for the ledger).
    package func supportUse(
        tenant: String, grant requestID: String, staff: String, physicalCountry: String, method: String,
        resource: String, dataClass: String, mode: AccessScope.Mode
    ) throws(Refusal) -> TenantDatabase {
        let database = try home(of: tenant)
        let now = clock.now()
        let grant: SupportGrant?
        do {
            grant = try store.grant(request: requestID).flatMap { try? SignedSupportGrant(parsing: $0) }?.grant
        } catch {
            throw .storage("the region's store: \(error)")
        }
        var refusal: (code: String, message: String)?
        if let grant, grant.tenant == tenant {
            refusal = grant.check(staff: staff, physicalCountry: physicalCountry, dataClass: dataClass, mode: mode, at: now)
        } else {
            refusal = ("no_active_grant", "this region holds no grant \(requestID.prefix(64)) for tenant \(tenant)")
        }
        var record: [(key: String, value: JSONValue)] = [
            ("request", .string(String(requestID.prefix(64)))), ("staff", .string(String(staff.prefix(64)))),
            ("physical_country", .string(String(physicalCountry.prefix(2)))), ("method", .string(method)),
            ("resource", .string(String(resource.prefix(300)))), ("data_class", .string(dataClass)),
            ("mode", .string(mode.rawValue)), ("time", .string(Timestamp.rfc3339(milliseconds: now))),
            ("tenant", .string(tenant)), ("region", .string(region)),
        ]
        if let refusal {
            record += [("outcome", .string("refused")), ("refusal", .string(refusal.code)), ("message", .string(refusal.message))]
        } else {
            record.append(("outcome", .string("allowed")))
        }
        do {
            try store.enqueue(
                kind: (refusal == nil ? LedgerKind.accessUsed : .accessUseRefused).rawValue, body: .object(record), at: now)
        } catch {
            // A use that cannot be recorded is not allowed.
            throw .storage("the use could not be recorded: \(error)")
        }
        if let refusal { throw .accessRefused(code: refusal.code, message: refusal.message) }
        return database
    }

    // MARK: Controller's reads

    /// What the controller tracks: tenants held, free disk, events waiting.
    package func health(version: String) -> JSONValue {
        let tenants = (try? store.tenantCount(region: region)) ?? -1
        let pending = (try? store.pendingEvents()) ?? -1
        let tallied = (try? store.talliedOrderRefusals()) ?? -1
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: dataDirectory.path)[.systemFreeSize])
            .flatMap { ($0 as? NSNumber)?.int64Value } ?? -1
        return .object([
            ("failures", .integer(failures.count)), ("free_disk_bytes", .integer(free)),
            ("movers", .array(commandMovers.map { .string($0.name) })),
            // Refused migration orders past a presenter's budget, counted but not yet queued as their event.
            ("order_refusals_tallied", .integer(tallied)),
            ("pending_events", .integer(pending)), ("region", .string(region)),
            ("site", .string(configuration.site)), ("status", .string(tenants >= 0 && pending >= 0 && tallied >= 0 ? "ok" : "degraded")),
            ("tenants", .integer(tenants)), ("version", .string(version)),
        ])
    }

    /// The outbox for the controller, after turning the tallies of refused orders whose window has ended into
    /// their events (the controller's regular read is what brings them to the ledger).
    package func events(after seq: Int64, limit: Int) throws -> [RegionStore.Event] {
        try store.flushOrderRefusalTallies(
            kind: LedgerKind.regionMigrationOrderRefused.rawValue, at: clock.now(),
            window: Self.orderRefusalBudget.window)
        return try store.events(after: seq, limit: limit)
    }

    package func acknowledge(through seq: Int64) throws { try store.acknowledge(through: seq) }
}

extension RegionNode {
    /// Puts a refused assignment on record: queued for the controller's ledger like every event (only pinned
    /// peers reach this, so a stranger cannot fill the outbox).
    package func recordRefusal(tenant: String?, reason: String, detail: String) {
        do {
            try store.enqueue(
                kind: LedgerKind.regionAssignmentRefused.rawValue,
                body: .object([
                    ("detail", .string(String(detail.prefix(300)))), ("reason", .string(reason)),
                    ("region", .string(region)), ("tenant", .optional(tenant)),
                ]), at: clock.now())
        } catch {
            failures.report("recording a refused assignment", error, at: clock.now())
        }
    }
}
