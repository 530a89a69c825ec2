import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

/// What every service of the controller shares: the store, the ledger, the clock, the policies, failure
/// reporting, the logger and the counters — and the one way to commit a state change with its ledger entries.
package final class ControllerContext: Sendable {
    package let policies: PolicySet
    package let placer: SignupPlacer
    package let pool: DatabasePool
    package let clock: Clock
    package let ledger: Ledger
    /// Failures of work no caller waits for: counted, shown by `/readyz`, logged.
    package let failures: FailureLog
    package let logger: Logger
    /// Counts made where the use cases happen (exposed by `/metrics` in the server).
    package let counters: Counters
    /// Where tenants' application data lives; nil for a controller without one (in-memory tests).
    package let dataPlane: DataPlane?
    /// The data directory (run locks, mover configuration); nil in memory.
    package let dataDirectory: URL?
    /// External movers run beside the built-in one for every migration (from `movers.json`).
    package let commandMovers: [CommandMoverConfiguration]
    /// Live tenants per region (placement and capacity checks).
    let occupancy: TenantOccupancy
    /// Migrations this process is carrying forward (the runner and the retention schedule both claim them).
    let migrationRuns: MigrationRuns
    /// Which controller does the periodic work when several share a PostgreSQL store (always this one on
    /// SQLite).
    package let lease: WorkLease
    /// The regional services enrolled with this controller (nil without an identity, as in memory): a region
    /// with a joined service holds its tenants' data itself; the others are served in process.
    package let regional: RegionalServices?

    init(
        policies: PolicySet, placer: SignupPlacer, pool: DatabasePool, clock: Clock, ledger: Ledger,
        logHandler: any LogHandler, counters: Counters, dataDirectory: URL?,
        commandMovers: [CommandMoverConfiguration], identity: TLSIdentity?
    ) throws {
        self.policies = policies
        self.placer = placer
        self.pool = pool
        self.clock = clock
        self.ledger = ledger
        logger = Logger(label: "residency", handler: logHandler, clock: clock)
        failures = FailureLog(logger: logger.labelled("residency.failures"))
        self.counters = counters
        self.dataDirectory = dataDirectory
        dataPlane = dataDirectory.map { DataPlane(dataDirectory: DataDirectory($0)) }
        self.commandMovers = commandMovers
        occupancy = try TenantOccupancy(pool: pool)
        migrationRuns = MigrationRuns(postgresURL: pool.postgresURL)
        lease = WorkLease(pool: pool)
        let failures = failures
        // A WAL checkpoint runs after the commit it follows (off the commit path): no caller hears of its failure.
        pool.walCheckpointer?.reportFailures { error in
            failures.report("checkpointing the database's write-ahead log", error, at: clock.now())
        }
        regional = identity.map { identity in
            RegionalServices(
                pool: pool, clock: clock, identity: identity, catalog: policies.catalog,
                policyVersion: policies.version.hex, ledgerKey: ledger.signer.verifier.encoded,
                signAfterCommit: { Self.signCheckpoint(ledger, counters: counters, failures: failures, clock: clock) }
            ) { what, error in failures.report(what, error, at: clock.now()) }
        }
    }

    /// Commits a state change with its ledger entries: begin, apply and append (`body`, in one write
    /// transaction), commit, then sign a checkpoint when entries were appended and enough have gathered
    /// (`Ledger.checkpointEvery`; publication signs the rest within moments).
    ///
    /// A signing failure does not undo the commit — the change and its record are durable — but it is reported,
    /// never dropped: logged, counted (`residency_checkpoint_signing_failures_total`) and shown by `/readyz`.
    /// One of them, "the log does not extend the checkpoint", is the tamper signal.
    func commit<T: Sendable>(_ body: (LedgerTransaction) throws -> T) throws -> T {
        let (value, logSize, changedOccupancy) = try pool.write { database in
            let transaction = LedgerTransaction(database: database, occupancy: occupancy)
            let value = try body(transaction)
            return (value, transaction.appendedEntries > 0 ? transaction.logSize : nil, transaction.changedOccupancy)
        }
        if changedOccupancy { occupancy.committed() }
        if let logSize { signCheckpointAfterCommit(logSize: logSize) }
        return value
    }

    /// Reads in a read transaction (a snapshot; never a write).
    func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T { try pool.read(body) }

    /// Signs a checkpoint when one is due after a commit that left the log at `logSize` entries (see
    /// `Ledger.signCheckpointAfterCommit`); a failure is counted and reported, never dropped.
    private func signCheckpointAfterCommit(logSize: Int) {
        do { try ledger.signCheckpointAfterCommit(logSize: logSize) } catch {
            counters.increment(.checkpointSigningFailures)
            failures.report("signing a ledger checkpoint", error, at: clock.now())
        }
    }

    /// Signs a checkpoint if one is due; a failure is counted and reported, never dropped.
    static func signCheckpoint(_ ledger: Ledger, counters: Counters, failures: FailureLog, clock: Clock) {
        do { try ledger.signCheckpoint() } catch {
            counters.increment(.checkpointSigningFailures)
            failures.report("signing a ledger checkpoint", error, at: clock.now())
        }
    }

    /// Reports a failure no caller is waiting for (see `FailureLog`).
    package func report(failure what: String, _ error: any Error) {
        failures.report(what, error, at: clock.now())
    }

    /// The retention schedule of the policy set.
    var schedule: RetentionSchedule { RetentionSchedule(policy: policies.retention) }
}
