import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS
import Synchronization

/// The use cases over the policy set, the geolocation database and the store. One per process; shared
/// by every request thread.
public final class Controller: Sendable {
    public let policies: PolicySet
    public let placer: SignupPlacer
    public let pool: DatabasePool
    public let clock: Clock
    public let ledger: Ledger
    /// Live tenants per region, kept in memory so placement need not count millions of rows per signup, with
    /// the value of `pool.tenantChanges` they are good for (see `tenantCounts` and `changeOccupancy`). A write
    /// that changed them and then rolled back — alone or within a group commit — moves the counter, so they are
    /// read again rather than trusted.
    let occupancy: Mutex<Occupancy>
    /// Where tenants' application data lives; nil for a controller without one (in-memory tests).
    public let dataPlane: DataPlane?
    /// The data directory (run locks, mover configuration); nil in memory.
    public let dataDirectory: URL?
    /// External movers run beside the built-in one for every migration (from `movers.json`).
    public let commandMovers: [CommandMoverConfiguration]
    /// Migrations this process is carrying forward, and the background runner.
    let migrationRuns = MigrationRuns()
    /// Callers of recently seen tokens (revocations by any process still take effect at once).
    let tokenCache: TokenCache
    /// Which refused calls are written one by one and which are counted into a period's summary.
    let refusals: RefusalRecorder
    /// Refused calls that could not be written to the ledger (they were still refused).
    let unrecordedRefusals = Atomic<Int>(0)
    public var unrecordedRefusalCount: Int { unrecordedRefusals.load(ordering: .relaxed) }
    /// Failures of work no caller waits for: counted, shown by `/readyz`, written to standard error.
    public let failures: FailureLog
    /// Signs and publishes checkpoints, with a witness quorum's cosignatures under `witnesses.json`.
    public let publisher: LedgerPublisher
    /// The regional services enrolled with this controller (nil in memory): a region with a joined service holds
    /// its tenants' data itself; the others are served in process.
    public let regional: RegionalServices?

    /// Opens the use cases over `pool`, recording the policy version in the ledger when it differs from the
    /// last one recorded (so every decision's version can be traced to when it took effect).
    public init(
        policies: PolicySet, locator: GeoLocator?, pool: DatabasePool, clock: Clock = .system,
        signer: NoteSigner? = nil,
        checkpointEvery: Int = 100, dataDirectory: URL? = nil, commandMovers: [CommandMoverConfiguration] = [],
        witnesses: WitnessPolicy = .none, identity: TLSIdentity? = nil
    ) throws {
        self.dataDirectory = dataDirectory
        self.dataPlane = dataDirectory.map { DataPlane(dataDirectory: DataDirectory($0)) }
        self.commandMovers = commandMovers
        self.policies = policies
        self.placer = SignupPlacer(policies: policies, locator: locator)
        self.pool = pool
        self.clock = clock
        self.tokenCache = TokenCache(changes: pool.tokenChanges)
        self.refusals = RefusalRecorder(startedAt: clock.now())
        let failures = FailureLog()
        self.failures = failures
        let signer = try signer ?? NoteSigner(name: Ledger.defaultOrigin, privateKey: try Ed25519PrivateKey.generate())
        let regional = identity.map { identity in
            RegionalServices(
                pool: pool, clock: clock, identity: identity, catalog: policies.catalog,
                policyVersion: policies.version.hex, ledgerKey: signer.verifier.encoded
            ) { what, error in failures.report(what, error, at: clock.now()) }
        }
        self.regional = regional
        ledger = Ledger(signer: signer, pool: pool, clock: clock, checkpointEvery: checkpointEvery)
        publisher = try LedgerPublisher(policy: witnesses, ledger: ledger, regional: regional)
        let epoch = pool.tenantChanges.load()
        occupancy = Mutex(Occupancy(epoch: epoch, counts: try pool.read { try TenantRepository($0).liveCounts() }))
        let version = policies.version.hex
        let catalogVersion = policies.catalog.version.hex
        try pool.write { database in
            let last = try LedgerRepository(database).latestEntry(kind: "policy.loaded").flatMap {
                try? JSONParser.parse($0)
            }
            if last?["body"]?["version"] != .string(version) {
                try Ledger.append(
                    in: database, time: clock.now(), kind: "policy.loaded", actor: "system",
                    body: .object([("version", .string(version)), ("regions_version", .string(catalogVersion))]))
            }
        }
    }

    /// Opens the controller on a data directory with the given configuration files.
    public static func open(
        dataDirectory: URL, regions: URL, policies: URL, geoIP: URL?, clock: Clock = .system
    ) throws -> Controller {
        let policySet = try PolicySet.load(regions: regions, policies: policies)
        let locator = try geoIP.map { try GeoLocator(path: $0.path) }
        let pool = try DatabasePool(directory: DataDirectory(dataDirectory))
        let signer = try Ledger.loadOrCreateKey(in: dataDirectory)
        let movers = try CommandMoverConfiguration.load(
            from: ProcessInfo.processInfo.environment["RESIDENCY_MOVERS"].map { URL(fileURLWithPath: $0) }
                ?? dataDirectory.appendingPathComponent(CommandMoverConfiguration.defaultFileName))
        let identity = try TLSIdentity.loadOrCreate(
            in: try RegionalServices.identityDirectory(creatingIn: dataDirectory), name: "residency-controller")
        return try Controller(
            policies: policySet, locator: locator, pool: pool, clock: clock, signer: signer,
            dataDirectory: dataDirectory, commandMovers: movers, witnesses: try loadWitnessPolicy(in: dataDirectory),
            identity: identity)
    }

    /// The name of the witness policy file in a data directory.
    public static let witnessPolicyFileName = "witnesses.json"

    /// `RESIDENCY_WITNESSES` or `witnesses.json` in the data directory; no file means no witnesses. A file that
    /// is there but wrong is an error, never a silent "no witnesses".
    public static func loadWitnessPolicy(in dataDirectory: URL) throws -> WitnessPolicy {
        if let path = ProcessInfo.processInfo.environment["RESIDENCY_WITNESSES"] {
            // Named explicitly: a missing file is an error, not "no witnesses".
            return try WitnessPolicy.load(file: URL(fileURLWithPath: path))
        }
        let url = dataDirectory.appendingPathComponent(witnessPolicyFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        return try WitnessPolicy.load(file: url)
    }

    /// Signs a checkpoint after a write when enough entries gathered since the last (`Ledger.checkpointEvery`;
    /// publication signs the rest within moments). A failure is reported — counted, on `/readyz`, on standard
    /// error — never dropped: one of them, "the log does not extend the checkpoint", is the tamper signal.
    func signAfterWrite() {
        do { try ledger.signCheckpoint() } catch { report(failure: "signing a ledger checkpoint", error) }
    }

    /// Reports a failure no caller is waiting for (see `FailureLog`).
    public func report(failure what: String, _ error: any Error) {
        failures.report(what, error, at: clock.now())
    }

    /// The number of live tenants per region, as placement sees it: re-read from the database first when any
    /// process has changed them since (a migration run by `residency migrations` beside a server).
    public var tenantCounts: [String: Int] {
        let epoch = pool.tenantChanges.load()
        if let counts = occupancy.withLock({ $0.epoch == epoch ? $0.counts : nil }) { return counts }
        guard let counts = try? pool.read({ try TenantRepository($0).liveCounts() }) else {
            return occupancy.withLock { $0.counts }
        }
        occupancy.withLock { $0.replace(with: counts, epoch: epoch) }
        return counts
    }

    /// Inside a write transaction: the counts every process has committed (re-read in this transaction when the
    /// counter moved, so a capacity check sees a signup another process committed a moment ago).
    func occupancy(in database: Database) throws -> [String: Int] {
        let epoch = pool.tenantChanges.load()
        if let counts = occupancy.withLock({ $0.epoch == epoch ? $0.counts : nil }) { return counts }
        let counts = try TenantRepository(database).liveCounts()
        occupancy.withLock { $0.replace(with: counts, epoch: epoch) }
        return counts
    }

    /// Inside the write transaction that makes it: applies a change of the counts and bumps the shared counter; if
    /// the write is rolled back (`Database.onRollback`), the counter moves again, so this process and every
    /// other re-read the counts instead of keeping the change.
    ///
    /// The counter moves twice, here and after the commit (`occupancyCommitted`): a writer in another process
    /// that begins after this commit sees the first bump and re-reads the rows inside its own transaction; a
    /// reader that re-read between the two (before the commit) is sent back by the second.
    func changeOccupancy(in database: Database, _ change: (inout [String: Int]) -> Void) throws {
        _ = try occupancy(in: database)
        let bumped = pool.tenantChanges.increment()
        occupancy.withLock { state in
            change(&state.counts)
            // Only our own bump moved it: the counts are still exact. Otherwise the next reader re-reads.
            if state.epoch == bumped - 1 { state.epoch = bumped }
        }
        database.onRollback { [pool] in _ = pool.tenantChanges.increment() }
    }

    /// After the commit of a `changeOccupancy`: the second bump.
    func occupancyCommitted() {
        let bumped = pool.tenantChanges.increment()
        occupancy.withLock { if $0.epoch == bumped - 1 { $0.epoch = bumped } }
    }

    /// Where a signup would go; nothing is stored.
    public func place(_ request: PlacementRequest) -> PlacementDecision {
        placer.place(request, occupancy: tenantCounts, unreachable: regional?.unreachableRegions ?? [])
    }
}

/// The per-region counts and the value of the shared change counter they were read at.
struct Occupancy: Sendable {
    var epoch: UInt64
    var counts: [String: Int]

    /// Takes counts read at `epoch` unless newer ones are already here (the counter only grows).
    mutating func replace(with counts: [String: Int], epoch: UInt64) {
        guard epoch >= self.epoch else { return }
        self.epoch = epoch
        self.counts = counts
    }
}
