import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

/// The composition root: owns the shared context and the services over it, one per concern. Call sites name
/// the service (`controller.directory.signUp(...)`, `controller.access.decideAccess(...)`); the routes line up
/// with them. One per process; shared by every request thread.
package final class Controller: Sendable {
    /// The store, the ledger, the clock, the policies, failure reporting, the logger and the counters, with the
    /// one commit path every service writes through.
    package let context: ControllerContext
    /// Tenants, signup and placement, residency checks, tenant data.
    package let directory: DirectoryService
    /// Cross-border support access.
    package let access: AccessDesk
    /// Moving tenants between regions (and the runner).
    package let migrations: MigrationService
    /// The retention schedule and tenant lifecycle events.
    package let retention: RetentionService
    /// Compliance reports and residency audits.
    package let reports: ReportService
    /// Bearer tokens and refused calls.
    package let tokens: TokenService
    /// Transparency exports, trust policy and checkpoint publication.
    package let transparency: TransparencyService

    /// Borrowed, not copied: a copy retains every table of the policy set, and the placement route reads the
    /// catalog on every request.
    package var policies: PolicySet {
        _read { yield context.policies }
    }
    package var pool: DatabasePool { context.pool }
    package var clock: Clock { context.clock }
    package var ledger: Ledger { context.ledger }
    package var failures: FailureLog { context.failures }
    package var counters: Counters { context.counters }
    package var logger: Logger { context.logger }
    package var dataPlane: DataPlane? { context.dataPlane }
    package var dataDirectory: URL? { context.dataDirectory }
    package var publisher: LedgerPublisher { transparency.publisher }
    /// The regional services enrolled with this controller (nil in memory): a region with a joined service holds
    /// its tenants' data itself; the others are served in process.
    package var regional: RegionalServices? { context.regional }

    /// Opens the services over `pool`, recording the policy version in the ledger when it differs from the
    /// last one recorded (so every decision's version can be traced to when it took effect).
    ///
    /// `logHandler` receives the structured records of background work and failures (nothing by default; the
    /// service writes JSON lines to standard error).
    package init(
        policies: PolicySet, locator: GeoLocator?, pool: DatabasePool, clock: Clock = .system,
        signer: NoteSigner? = nil,
        checkpointEvery: Int = 100, dataDirectory: URL? = nil, commandMovers: [CommandMoverConfiguration] = [],
        witnesses: WitnessPolicy = .none, identity: TLSIdentity? = nil,
        logHandler: any LogHandler = DiscardingLogHandler()
    ) throws {
        let signer = try signer ?? NoteSigner(name: Ledger.defaultOrigin, privateKey: try Ed25519PrivateKey.generate())
        let ledger = Ledger(signer: signer, pool: pool, clock: clock, checkpointEvery: checkpointEvery)
        let context = try ControllerContext(
            policies: policies, placer: SignupPlacer(policies: policies, locator: locator), pool: pool, clock: clock,
            ledger: ledger, logHandler: logHandler, counters: Counters(), dataDirectory: dataDirectory,
            commandMovers: commandMovers, identity: identity)
        self.context = context
        directory = DirectoryService(context: context)
        access = AccessDesk(context: context)
        migrations = MigrationService(context: context)
        retention = RetentionService(context: context)
        reports = ReportService(context: context, directory: directory)
        tokens = TokenService(context: context)
        transparency = TransparencyService(
            context: context,
            publisher: try LedgerPublisher(policy: witnesses, ledger: ledger, regional: context.regional))
        try Self.recordPolicyVersion(policies, in: context)
        // A store from before the report summaries (schema version 12) adds up its signed ledger once, here.
        try CrossBorderSummary.catchUp(pool)
    }

    /// Records `policy.loaded` when the policy set differs from the last one recorded. Not signed here: opening
    /// a controller that changed nothing else must not sign (or publish) a checkpoint by itself.
    private static func recordPolicyVersion(_ policies: PolicySet, in context: ControllerContext) throws {
        let version = policies.version.hex
        let catalogVersion = policies.catalog.version.hex
        try context.pool.write { database in
            let last = try LedgerRepository(database).latestEntry(kind: LedgerKind.policyLoaded.rawValue).flatMap {
                try? JSONParser.parse($0)
            }
            if last?["body"]?["version"] != .string(version) {
                try Ledger.append(
                    in: database, time: context.clock.now(), kind: .policyLoaded, actor: "system",
                    body: .object([("version", .string(version)), ("regions_version", .string(catalogVersion))]))
            }
        }
    }

    /// Opens the controller on a data directory with the given configuration files.
    package static func open(
        dataDirectory: URL, regions: URL, policies: URL, geoIP: URL?, clock: Clock = .system,
        logHandler: any LogHandler = DiscardingLogHandler()
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
            identity: identity, logHandler: logHandler)
    }

    /// The name of the witness policy file in a data directory.
    package static let witnessPolicyFileName = "witnesses.json"

    /// `RESIDENCY_WITNESSES` or `witnesses.json` in the data directory; no file means no witnesses. A file that
    /// is there but wrong is an error, never a silent "no witnesses".
    package static func loadWitnessPolicy(in dataDirectory: URL) throws -> WitnessPolicy {
        if let path = ProcessInfo.processInfo.environment["RESIDENCY_WITNESSES"] {
            // Named explicitly: a missing file is an error, not "no witnesses".
            return try WitnessPolicy.load(file: URL(fileURLWithPath: path))
        }
        let url = dataDirectory.appendingPathComponent(witnessPolicyFileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return .none }
        return try WitnessPolicy.load(file: url)
    }

    /// Reports a failure no caller is waiting for (see `FailureLog`).
    package func report(failure what: String, _ error: any Error) {
        context.report(failure: what, error)
    }
}
