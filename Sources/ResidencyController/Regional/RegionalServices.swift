import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS
import Synchronization

/// The controller's side of the regional services: enrolment with one-time join codes and pinned keys, the
/// signed assignment of every tenant and its delivery to every service, health, the events each service queued
/// for the ledger, and the tenant data calls forwarded to the service where the tenant lives.
///
/// A region with a joined service is *remote*: its tenants' data lives there and nowhere else. A region without
/// one stays in the controller's process (the embedded default), exactly as before.
package final class RegionalServices: Sendable {
    let pool: DatabasePool
    let clock: Clock
    /// The controller's key: its TLS identity towards the services, and the key assignments are signed with.
    package let identity: TLSIdentity
    let catalog: RegionCatalog
    let policyVersion: String
    /// The ledger's verifier key, handed to each service at its join so its witness can follow the log.
    let ledgerKey: String
    /// The commit path's last step after a write that appended ledger entries: sign a checkpoint when one is due,
    /// reporting (never dropping) a failure.
    let signAfterCommit: @Sendable () -> Void
    package let report: @Sendable (String, any Error) -> Void
    /// Connections per service (persistent, reused), rebuilt when its pin or endpoint changes.
    private let pools = Mutex<[String: (pin: String, pool: PeerConnectionPool)]>([:])
    /// Connections for migration steps, which may run for minutes (a large tenant's pull): a longer deadline.
    let migrationPools = Mutex<[String: (pin: String, pool: PeerConnectionPool)]>([:])
    /// The peer list last delivered to each service by this process (its encoding), so it is sent on change only.
    let deliveredPeers = Mutex<[String: [UInt8]]>([:])
    /// When each service last answered and since when it has not; placement passes over a region whose
    /// service has failed since its last answer for longer than `unreachableAfter`.
    private let reachability = Mutex<[String: Reachability]>([:])
    /// How many regions of `reachability` are failing (`failingSince` set), kept with it under its lock: while
    /// none is — nearly always — placement reads no clock and takes no lock to learn that every region answers.
    private let failingRegions = Atomic<Int>(0)
    /// Each service's refused migration orders past a presenter's budget, counted there and not yet queued as
    /// their coalesced event (its last health answer): a hostile peer's flood shows here before it reaches the
    /// ledger as one event per code.
    private let refusalTallies = Mutex<[String: Int64]>([:])
    /// Services joined, read from the store and cached until an enrolment changes (same process) or
    /// `refreshJoined` runs (each sync pass, for changes another process made).
    private let joined = Mutex<[String: RegionalServiceRepository.Service]?>(nil)

    package static let joinCodeLifetime: Int64 = 15 * 60 * 1000
    /// The events a regional service may queue for the ledger; anything else is refused, not recorded.
    static let eventKinds: Set<LedgerKind> = [
        .regionDataWritten, .regionAssignmentRefused, .accessUsed, .accessUseRefused, .regionMigrationOrderRefused,
        .regionMigrationPurged,
    ]
    package static let unreachableAfter: Int64 = 10_000
    /// Time allowed to a service for one call.
    static let callTimeout = 5.0

    struct Reachability {
        var lastAnswer: Int64?
        var failingSince: Int64?
    }

    package init(
        pool: DatabasePool, clock: Clock, identity: TLSIdentity, catalog: RegionCatalog, policyVersion: String,
        ledgerKey: String, signAfterCommit: @escaping @Sendable () -> Void,
        report: @escaping @Sendable (String, any Error) -> Void
    ) {
        self.signAfterCommit = signAfterCommit
        self.ledgerKey = ledgerKey
        self.pool = pool
        self.clock = clock
        self.identity = identity
        self.catalog = catalog
        self.policyVersion = policyVersion
        self.report = report
    }

    /// The controller's identity directory inside its data directory (0700), created when missing.
    package static func identityDirectory(creatingIn dataDirectory: URL) throws -> URL {
        let url = dataDirectory.appendingPathComponent("identity", isDirectory: true)
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return url
    }

    // MARK: Enrolment

    /// Opens the enrolment of `region`'s service at `endpoint`: a join code valid once, for 15 minutes.
    /// Enrolling a region again (a new host, a new key) replaces its pin when the new service joins.
    package func enroll(region regionID: String, endpoint: String, site siteID: String?, actor: String) throws -> (
        code: JoinCode, expiresAt: Int64
    ) {
        guard let region = catalog.region(id: regionID) else {
            throw ControllerError.invalidField(
                field: "region", message: "\"\(regionID)\" is not a region; accepted: \(catalog.regionIDs.joined(separator: ", "))")
        }
        guard let parts = PeerHTTPClient.parse(endpoint), parts.secure else {
            throw ControllerError.invalidField(
                field: "endpoint", message: "\"\(endpoint)\"; accepted: https://HOST:PORT where the regional service listens")
        }
        let site = siteID ?? region.sites[0].id
        guard region.sites.contains(where: { $0.id == site }) else {
            throw ControllerError.invalidField(
                field: "site",
                message: "\"\(site)\" is not a site of \(regionID); accepted: \(region.sites.map(\.id).joined(separator: ", "))")
        }
        let code = JoinCode.generate(controllerKey: identity.publicKey)
        let now = clock.now()
        let expiresAt = now + Self.joinCodeLifetime
        try write { database in
            try RegionalServiceRepository(database).openEnrolment(
                region: regionID, site: site, endpoint: endpoint, secret: code.secret, expiresAt: expiresAt)
            try Ledger.append(
                in: database, time: now, kind: .regionEnrolmentOpened, actor: actor, region: regionID,
                body: .object([
                    ("endpoint", .string(endpoint)), ("expires_at", .string(Timestamp.rfc3339(milliseconds: expiresAt))),
                    ("site", .string(site)),
                ]))
        }
        return (code, expiresAt)
    }

    /// A service's join: the proof must be the open code's HMAC over the region and the presented pin. The code
    /// is then spent; the pin is what the controller accepts from now on. Answers the controller's key and the
    /// service's site.
    package func join(region: String, pin: String, proof: [UInt8], witnessKey: String? = nil) throws -> (
        controllerKey: [UInt8], site: String, ledgerKey: String
    ) {
        guard pin.utf8.count == 44, Data(base64Encoded: pin)?.count == 32 else {
            throw ControllerError.invalidField(field: "pin", message: "accepted: base64 of a 32-byte SHA-256 key pin")
        }
        if let witnessKey {
            do { _ = try CosignerKey(encoded: witnessKey) } catch {
                throw ControllerError.invalidField(field: "witness_key", message: "\(error)")
            }
        }
        let now = clock.now()
        let site = try write { database -> String in
            let repository = RegionalServiceRepository(database)
            guard let service = try repository.service(region: region), let secret = service.joinSecret,
                let expires = service.joinExpiresAt
            else {
                throw ControllerError.refused(
                    code: "join_refused",
                    message:
                        "no join code is open for region \(region) (never issued, or already used); run `residency regions enroll \(region) --endpoint URL` for a new one",
                    rule: nil)
            }
            guard now <= expires else {
                throw ControllerError.refused(
                    code: "join_refused",
                    message: "the join code for region \(region) expired at \(Timestamp.rfc3339(milliseconds: expires)); enrol again for a new one",
                    rule: nil)
            }
            let expected = JoinCode(secret: secret, controllerKey: identity.publicKey).proof(region: region, pin: pin)
            guard HMACSHA256.constantTimeEqual(expected, proof) else {
                throw ControllerError.refused(
                    code: "join_refused", message: "the join proof does not match the code issued for region \(region)",
                    rule: nil)
            }
            try repository.completeJoin(region: region, pin: pin, witnessKey: witnessKey, at: now)
            try repository.queueAllAssignments(for: region)
            try Ledger.append(
                in: database, time: now, kind: service.pin == nil ? .regionEnrolled : .regionKeyRotated,
                actor: "region:\(region)", region: region,
                body: .object(
                    [
                        ("endpoint", .string(service.endpoint)), ("pin", .string(pin)), ("site", .string(service.site)),
                        ("witness_key", .optional(witnessKey)),
                    ] + (service.pin.map { [("previous_pin", .string($0))] } ?? [])))
            return service.site
        }
        return (identity.publicKey, site, ledgerKey)
    }

    /// Forgets a region's service: its key is no longer accepted and its region is served in process again.
    package func remove(region: String, actor: String) throws {
        try write { database in
            let repository = RegionalServiceRepository(database)
            guard let service = try repository.service(region: region) else {
                throw ControllerError.notFound(kind: "regional service", id: region)
            }
            let live = try TenantRepository(database).liveCounts()[region, default: 0]
            if service.pin != nil, live > 0 {
                // Their data is at the service: forgetting it would leave the directory pointing at nothing.
                throw ControllerError.conflict(
                    code: "region_holds_tenants",
                    message:
                        "region \(region)'s service holds \(live) live tenants' data; enrol its replacement (`regions enroll \(region)` with the new endpoint) instead of removing it")
            }
            try repository.remove(region: region)
            try Ledger.append(
                in: database, time: clock.now(), kind: .regionRemoved, actor: actor, region: region,
                body: .object([("endpoint", .string(service.endpoint)), ("pin", .optional(service.pin))]))
        }
    }

    private func write<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        defer { joined.withLock { $0 = nil } }
        do {
            let value = try pool.write(body)
            signAfterCommit()
            return value
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.classify(error) ?? ControllerError.storage(String(describing: error))
        }
    }

    package func services() throws -> [RegionalServiceRepository.Service] {
        try pool.read { try RegionalServiceRepository($0).services() }
    }

    /// The joined service of `region`, or nil when the region is served in process. A store error is thrown,
    /// never read as "served in process": that would provision a remote region's tenant on the controller.
    package func joinedService(region: String) throws -> RegionalServiceRepository.Service? {
        if let cached = joined.withLock({ $0 }) { return cached[region] }
        let all = try pool.read { try RegionalServiceRepository($0).services() }
        var map: [String: RegionalServiceRepository.Service] = [:]
        for service in all where service.pin != nil { map[service.region] = service }
        joined.withLock { $0 = map }
        return map[region]
    }

    package func hasJoinedServices() throws -> Bool {
        _ = try joinedService(region: "")
        return !(joined.withLock { $0 } ?? [:]).isEmpty
    }

    package func refreshJoined() { joined.withLock { $0 = nil } }

    /// Regions whose service has not answered for a while: placement passes over them.
    package var unreachableRegions: Set<String> {
        // The fast path of every placement: no service failing, nothing to look up.
        guard failingRegions.load(ordering: .acquiring) > 0 else { return [] }
        let now = clock.now()
        return Set(
            reachability.withLock { states in
                states.compactMap { region, state in
                    guard let since = state.failingSince, now - since >= Self.unreachableAfter else { return nil }
                    return region
                }
            })
    }

    /// The refused migration orders each service had counted but not yet queued at its last health answer
    /// (-1: the service could not count them); regions not heard from are absent.
    package var orderRefusalsTallied: [String: Int64] { refusalTallies.withLock { $0 } }

    // MARK: Calls to a service

    func client(for service: RegionalServiceRepository.Service) throws -> PeerConnectionPool {
        guard let pin = service.pin else {
            throw ControllerError.storage("region \(service.region)'s service has not joined yet")
        }
        return try pools.withLock { cache -> PeerConnectionPool in
            if let entry = cache[service.region], entry.pin == pin, entry.pool.endpoint == service.endpoint {
                return entry.pool
            }
            let context = try TLSContext(mutual: identity, pinned: [pin], client: true)
            let pool = try PeerConnectionPool(endpoint: service.endpoint, context: context, timeout: Self.callTimeout)
            cache[service.region] = (pin, pool)
            return pool
        }
    }

    /// One call to `service`, recording whether it answered.
    func call(
        _ service: RegionalServiceRepository.Service, _ method: String, _ path: String, body: [UInt8]? = nil,
        contentType: String = "application/json"
    ) throws -> PeerHTTPClient.Response {
        do {
            let response = try client(for: service).send(method, path, body: body, contentType: contentType)
            recordAnswer(region: service.region)
            return response
        } catch {
            recordFailure(region: service.region)
            throw error
        }
    }

    /// The region's service answered: it is reachable again, whatever it was.
    func recordAnswer(region: String) {
        let now = clock.now()
        reachability.withLock { states in
            if states[region]?.failingSince != nil { failingRegions.subtract(1, ordering: .releasing) }
            states[region] = Reachability(lastAnswer: now, failingSince: nil)
        }
    }

    /// A call to the region's service failed: it is failing since now, unless it already was.
    func recordFailure(region: String) {
        let now = clock.now()
        reachability.withLock { states in
            var state = states[region] ?? Reachability()
            if state.failingSince == nil {
                state.failingSince = now
                failingRegions.add(1, ordering: .releasing)
            }
            states[region] = state
        }
    }

    // MARK: Assignments

    /// Issues a new assignment for the tenant when its region or status differs from the one in force (or it
    /// has none), and delivers it to its home service at once when that region is remote.
    package func assign(tenant id: String) throws {
        let now = clock.now()
        let issued = try pool.write { database -> Bool in
            guard let tenant = try TenantRepository(database).tenant(id: id) else { return false }
            let repository = RegionalServiceRepository(database)
            let current = try repository.assignment(tenant: id).flatMap { try? SignedAssignment(parsing: $0.signed) }
            if let current, current.assignment.region == tenant.region, current.assignment.status == tenant.status,
                current.assignment.site == tenant.site
            {
                return false
            }
            let endpoint = try repository.service(region: tenant.region).flatMap { $0.pin == nil ? nil : $0.endpoint } ?? "in-process"
            let assignment = TenantAssignment(
                tenant: id, region: tenant.region, site: tenant.site, endpoint: endpoint, status: tenant.status,
                epoch: (current?.assignment.epoch ?? 0) + 1, policyVersion: policyVersion, issuedAt: now)
            let signed = SignedAssignment(assignment: assignment, signature: try identity.signature(for: assignment.signedMessage))
            try repository.putAssignment(tenant: id, epoch: assignment.epoch, signed: signed.jsonValue.encodedBytes())
            try Ledger.append(
                in: database, time: now, kind: .tenantAssigned, actor: "system", tenant: id, region: tenant.region,
                body: .object([
                    ("epoch", .integer(assignment.epoch)), ("site", .string(tenant.site)),
                    ("status", .string(tenant.status.rawValue)),
                ]))
            return true
        }
        if issued { signAfterCommit() }
        if issued, let tenant = try pool.read({ try TenantRepository($0).tenant(id: id) }),
            let service = try joinedService(region: tenant.region)
        {
            try deliver(to: service, limit: 1, only: id)
        }
    }

    /// Brings the tenant's home service up to date now: issues the assignment the directory calls for (if not
    /// yet issued) and delivers what is owed to that service — for a request that found the service behind the
    /// directory, between a migration's cutover and the delivery its runner makes next (both idempotent).
    /// Reads first and writes only when an assignment is owed, so a request that finds nothing to mend costs
    /// two reads; a failure is reported (counted, on `/readyz`) and answered as a retryable storage failure.
    package func deliverNow(tenant id: String) throws {
        do {
            let stale = try pool.read { database -> Bool in
                guard let tenant = try TenantRepository(database).tenant(id: id) else { return false }
                guard let current = try RegionalServiceRepository(database).assignment(tenant: id)
                    .flatMap({ try? SignedAssignment(parsing: $0.signed) })
                else { return true }
                return current.assignment.region != tenant.region || current.assignment.status != tenant.status
                    || current.assignment.site != tenant.site
            }
            if stale { try assign(tenant: id) }
            if let tenant = try pool.read({ try TenantRepository($0).tenant(id: id) }),
                let service = try joinedService(region: tenant.region)
            {
                try deliver(to: service, only: id)
            }
        } catch {
            report("delivering tenant \(id)'s assignment for a request", error)
            throw ControllerError.storage(
                "the regional service has not yet received tenant \(id)'s newest assignment; retry shortly")
        }
    }

    /// Sends pending assignments to `service` (all, or only `tenant`'s), removing each delivered.
    func deliver(to service: RegionalServiceRepository.Service, limit: Int = 500, only tenant: String? = nil) throws {
        let pending = try pool.read { database in
            let deliveries = RegionalServiceRepository(database)
            if let tenant { return try deliveries.pendingDelivery(region: service.region, tenant: tenant).map { [$0] } ?? [] }
            return try deliveries.pendingDeliveries(region: service.region, limit: limit)
        }
        for delivery in pending {
            let response = try call(service, "PUT", "/internal/v1/assignments/\(delivery.tenant)", body: delivery.signed)
            // 200: stored or already held; 409 stale: the service holds a newer epoch — either way nothing is owed.
            guard response.status == 200 || response.status == 409 else {
                throw ControllerError.storage(
                    "region \(service.region) refused the assignment of \(delivery.tenant): HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))")
            }
            try pool.write {
                try RegionalServiceRepository($0).delivered(
                    region: service.region, tenant: delivery.tenant, epoch: delivery.epoch)
            }
        }
    }

    /// One pass of the background work: assignments brought up to date and delivered, each service's health
    /// read, and its queued events recorded on the ledger. Failures are reported per service, never dropped.
    package func synchronise(version: String) {
        refreshJoined()
        do {
            while true {
                let stale = try pool.read { try RegionalServiceRepository($0).staleAssignments(limit: 500) }
                for id in stale { try assign(tenant: id) }
                if stale.count < 500 { break }
            }
        } catch {
            report("issuing tenant assignments", error)
        }
        let services: [RegionalServiceRepository.Service]
        do {
            services = try self.services()
        } catch {
            report("reading the regional services", error)
            return
        }
        for service in services where service.pin != nil {
            do {
                try checkHealth(of: service)
                try deliverPeers(to: service)
                try deliver(to: service)
                try deliverGrants(to: service)
                try collectEvents(from: service)
            } catch {
                report("synchronising with region \(service.region)'s service", error)
                do {
                    try pool.write { try RegionalServiceRepository($0).recordFailure(region: service.region, "\(error)") }
                } catch {
                    report("recording region \(service.region)'s failure", error)
                }
            }
        }
    }

    func checkHealth(of service: RegionalServiceRepository.Service) throws {
        let response = try call(service, "GET", "/internal/v1/health")
        guard response.status == 200, let health = try? JSONParser.parse(response.body),
            case .string(let region)? = health["region"]
        else {
            throw ControllerError.storage("region \(service.region)'s health answer is HTTP \(response.status)")
        }
        guard region == service.region else {
            throw ControllerError.storage(
                "the service enrolled as \(service.region) answers as region \(region); remove and enrol it again")
        }
        func integer(_ key: String) -> Int64 {
            if case .number(let number)? = health[key] { return number.int64Value ?? -1 }
            return -1
        }
        var version = "unknown"
        if case .string(let text)? = health["version"] { version = text }
        let tallied = integer("order_refusals_tallied")
        refusalTallies.withLock { $0[service.region] = tallied }
        try pool.write {
            try RegionalServiceRepository($0).recordContact(
                region: service.region, at: clock.now(), version: version, tenants: integer("tenants"),
                freeDiskBytes: integer("free_disk_bytes"), pendingEvents: integer("pending_events"))
        }
    }

    /// Reads the service's outbox and records each event once (keyed by the service's key and the event's
    /// sequence, in the transaction of its ledger entry), then acknowledges what is recorded.
    func collectEvents(from service: RegionalServiceRepository.Service) throws {
        guard let pin = service.pin else { return }
        let source = "\(service.region):\(pin)"
        while true {
            let response = try call(service, "GET", "/internal/v1/outbox?limit=500")
            guard response.status == 200, let answer = try? JSONParser.parse(response.body),
                case .array(let events)? = answer["events"]
            else {
                throw ControllerError.storage("region \(service.region)'s outbox answer is HTTP \(response.status)")
            }
            if events.isEmpty { return }
            var last: Int64 = 0
            try pool.write { database in
                let repository = RegionalServiceRepository(database)
                for event in events {
                    guard case .number(let number)? = event["seq"], let seq = number.int64Value,
                        case .string(let kindName)? = event["kind"], let kind = LedgerKind(rawValue: kindName),
                        Self.eventKinds.contains(kind),
                        case .string(let time)? = event["time"], let at = Timestamp.milliseconds(rfc3339: time),
                        let body = event["body"], case .object = body
                    else {
                        throw ControllerError.storage("region \(service.region) sent a malformed event")
                    }
                    last = max(last, seq)
                    if try repository.isEventRecorded(region: source, seq: seq) { continue }
                    var tenant: String?
                    if case .string(let id)? = body["tenant"], TenantIDRule.isWellFormed(id) { tenant = id }
                    var recorded = body.adding([("seq", .integer(seq))])
                    if kind == .accessUsed || kind == .accessUseRefused, let tenant, case .string(let request)? = body["request"] {
                        // A support use at the region joins the controller's own record of uses (reports read it).
                        let event = try AccessRepository(database).insertEvent(
                            requestID: request, tenant: tenant, allowed: kind == .accessUsed, at: at, record: body)
                        recorded = recorded.adding([("event", .integer(event))])
                    }
                    let index = try Ledger.append(
                        in: database, time: at, kind: kind, actor: "region:\(service.region)", tenant: tenant,
                        region: service.region, body: recorded)
                    _ = try repository.markEventRecorded(region: source, seq: seq, ledgerIndex: index)
                }
            }
            signAfterCommit()
            let ack = try call(
                service, "POST", "/internal/v1/outbox/ack",
                body: JSONValue.object([("through", .integer(last))]).encodedBytes())
            guard ack.status == 200 else {
                throw ControllerError.storage("region \(service.region) refused the acknowledgement: HTTP \(ack.status)")
            }
            if events.count < 500 { return }
        }
    }

    // MARK: Support grants

    /// Brings the service's grants in line with the access desk: every grant in force for one of its region's
    /// tenants delivered (again when its expiry changed), every grant that ended since delivered as ended — so a
    /// revocation reaches the region within one synchronisation pass.
    func deliverGrants(to service: RegionalServiceRepository.Service) throws {
        let region = service.region
        let (granted, ended) = try pool.read { database -> ([AccessRequest], [AccessRequest]) in
            let access = AccessRepository(database)
            var granted: [AccessRequest] = []
            for state in AccessState.allCases where state.isGranted {
                granted += try access.requests(tenant: nil, state: state, region: region, limit: 100_000)
            }
            let grantedIDs = Set(granted.map(\.id))
            let ended = try RegionalServiceRepository(database).grantedDeliveries(region: region)
                .filter { !grantedIDs.contains($0) }.compactMap { try access.request(id: $0) }
            return (granted, ended)
        }
        for request in granted {
            let expires = request.grantExpiresAt ?? 0
            let delivered = try pool.read { try RegionalServiceRepository($0).deliveredGrant(request: request.id) }
            if delivered?.state == SupportGrant.State.granted.rawValue, delivered?.expiresAt == expires { continue }
            try send(grant(of: request, state: .granted), to: service)
        }
        for request in ended { try send(grant(of: request, state: .revoked), to: service) }
    }

    private func grant(of request: AccessRequest, state: SupportGrant.State) -> SupportGrant {
        SupportGrant(
            request: request.id, tenant: request.tenant, region: request.region, staff: request.staff.id,
            physicalCountry: request.physicalCountry.rawValue, dataClasses: request.scope.dataClasses.map(\.rawValue),
            mode: request.scope.mode, expiresAt: request.grantExpiresAt ?? 0, state: state, issuedAt: clock.now())
    }

    private func send(_ grant: SupportGrant, to service: RegionalServiceRepository.Service) throws {
        let signed = SignedSupportGrant(grant: grant, signature: try identity.signature(for: grant.signedMessage))
        let response = try call(service, "PUT", "/internal/v1/grants/\(grant.request)", body: signed.jsonValue.encodedBytes())
        guard response.status == 200 || response.status == 409 else {
            throw ControllerError.storage(
                "region \(service.region) refused grant \(grant.request): HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))")
        }
        try pool.write {
            try RegionalServiceRepository($0).markGrantDelivered(
                request: grant.request, region: service.region, state: grant.state.rawValue, expiresAt: grant.expiresAt)
        }
    }

    // MARK: Routing and data

    /// Where a tenant's data is served: its region, site, the endpoint of that region's service (nil when the
    /// region is served in process) and the epoch of its assignment.
    package func route(of tenant: Tenant) throws -> (endpoint: String?, epoch: Int64?) {
        let epoch = try pool.read { try RegionalServiceRepository($0).assignment(tenant: tenant.id)?.epoch }
        return (try joinedService(region: tenant.region)?.endpoint, epoch)
    }

    /// Forwards one tenant data call to the service of `region`; its answer (status, JSON body) comes back as is
    /// for the caller to translate.
    package func forward(
        region: String, _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json"
    ) throws -> PeerHTTPClient.Response {
        guard let service = try joinedService(region: region) else {
            throw ControllerError.storage("region \(region) has no regional service")
        }
        do {
            return try call(service, method, path, body: body, contentType: contentType)
        } catch {
            throw ControllerError.storage("region \(region)'s service does not answer: \(error)")
        }
    }
}
