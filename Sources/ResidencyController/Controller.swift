import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// The use cases over the policy set, the geolocation database and the store. One per process; shared
/// by every request thread.
public final class Controller: Sendable {
    public let policies: PolicySet
    public let placer: SignupPlacer
    public let pool: DatabasePool
    public let clock: Clock
    public let ledger: Ledger
    /// Live tenants per region, kept in memory so placement need not count millions of rows per signup.
    /// Changed only inside a write (so writes see it in order), each change with its inverse registered by
    /// `Database.onRollback`: a write rolled back — alone or within a group commit — leaves it as it was.
    let occupancy: Mutex<[String: Int]>
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

    /// Opens the use cases over `pool`, recording the policy version in the ledger when it differs from the
    /// last one recorded (so every decision's version can be traced to when it took effect).
    public init(
        policies: PolicySet, locator: GeoLocator?, pool: DatabasePool, clock: Clock = .system,
        signer: NoteSigner? = nil,
        checkpointEvery: Int = 100, dataDirectory: URL? = nil, commandMovers: [CommandMoverConfiguration] = []
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
        self.failures = FailureLog()
        let signer = try signer ?? NoteSigner(name: Ledger.defaultOrigin, privateKey: try Ed25519PrivateKey.generate())
        ledger = Ledger(signer: signer, pool: pool, clock: clock, checkpointEvery: checkpointEvery)
        occupancy = Mutex(try pool.read { try TenantRepository($0).liveCounts() })
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
        return try Controller(
            policies: policySet, locator: locator, pool: pool, clock: clock, signer: signer,
            dataDirectory: dataDirectory, commandMovers: movers)
    }

    /// Reports a failure no caller is waiting for (see `FailureLog`).
    public func report(failure what: String, _ error: any Error) {
        failures.report(what, error, at: clock.now())
    }

    /// The number of live tenants per region, as placement sees it.
    public var tenantCounts: [String: Int] { occupancy.withLock { $0 } }

    /// Where a signup would go; nothing is stored.
    public func place(_ request: PlacementRequest) -> PlacementDecision {
        placer.place(request, occupancy: tenantCounts)
    }
}
