import ResidencyStore
import Synchronization

/// Live tenants per region, kept in memory so placement need not count millions of rows per signup, with the
/// value of `pool.tenantChanges` they are good for. A write that changed them and then rolled back — alone or
/// within a group commit — moves the counter, so they are read again rather than trusted.
final class TenantOccupancy: Sendable {
    private let pool: DatabasePool
    private let state: Mutex<Occupancy>

    init(pool: DatabasePool) throws {
        self.pool = pool
        let epoch = pool.tenantChanges.load()
        state = Mutex(Occupancy(epoch: epoch, counts: try pool.read { try TenantRepository($0).liveCounts() }))
    }

    /// The number of live tenants per region, as placement sees it: re-read from the database first when any
    /// process has changed them since (a migration run by `residency migrations` beside a server).
    ///
    /// What a reader outside the write transaction reads is not kept: the counter is bumped before a write
    /// commits, so a snapshot read at that value may lack the write, and kept under that value it would later
    /// be taken for current (`committed` advances a state whose value is one behind) — 64 threads of signups
    /// showed the in-memory counts one short. Only the writer's own reads and changes, made under the write lock,
    /// are kept.
    var counts: [String: Int] {
        let epoch = pool.tenantChanges.load()
        if let counts = state.withLock({ $0.epoch == epoch ? $0.counts : nil }) { return counts }
        guard let counts = try? pool.read({ try TenantRepository($0).liveCounts() }) else {
            return state.withLock { $0.counts }
        }
        return counts
    }

    /// The counts last read or changed by this process, without looking whether they are still current: a hint,
    /// for work done before a write that the write checks again against `counts(in:)` (a signup's placement
    /// preview). Reading the rows here instead cost a scan of every tenant per signup — the counter moves with
    /// every signup another thread commits — about a sixth of the CPU time of 64 concurrent signups (perf).
    var lastKnown: [String: Int] { state.withLock { $0.counts } }

    /// Takes counts read elsewhere (another data directory's database) as current at the counter's value now.
    func seed(_ counts: [String: Int]) {
        let epoch = pool.tenantChanges.load()
        state.withLock { $0.replace(with: counts, epoch: epoch) }
    }

    /// Inside a write transaction: the counts every process has committed (re-read in this transaction when the
    /// counter moved, so a capacity check sees a signup another process committed a moment ago).
    func counts(in database: Database) throws -> [String: Int] {
        let epoch = pool.tenantChanges.load()
        if let counts = state.withLock({ $0.epoch == epoch ? $0.counts : nil }) { return counts }
        let counts = try TenantRepository(database).liveCounts()
        state.withLock { $0.replace(with: counts, epoch: epoch) }
        return counts
    }

    /// Inside the write transaction that makes it: applies a change of the counts and bumps the shared counter; if
    /// the write is rolled back (`Database.onRollback`), the counter moves again, so this process and every
    /// other re-read the counts instead of keeping the change.
    ///
    /// The counter moves twice, here and after the commit (`committed`): a writer in another process that begins
    /// after this commit sees the first bump and re-reads the rows inside its own transaction; a reader that
    /// re-read between the two (before the commit) is sent back by the second.
    ///
    /// Every caller has already made the change in the database (inserted, scrubbed or moved the tenant), so counts
    /// that must be re-read here — the counter moved since they were read, as another thread's `committed` does
    /// at any moment — include it and are taken as they are; only counts still current get `change` applied.
    /// (Applying it to a re-read counted the tenant twice: 64 threads of signups found the counts disagreeing
    /// with the rows in about one run in four.)
    func change(in database: Database, _ change: (inout [String: Int]) -> Void) throws {
        let epoch = pool.tenantChanges.load()
        let isCurrent = state.withLock { $0.epoch == epoch }
        let reread = isCurrent ? nil : try TenantRepository(database).liveCounts()
        let bumped = pool.tenantChanges.increment()
        state.withLock { state in
            // Only this transaction changes the counts (it holds the writer); others move the epoch alone.
            if let reread {
                guard epoch >= state.epoch else { return }
                state.epoch = epoch
                state.counts = reread
            } else {
                change(&state.counts)
            }
            // Only our own bump moved it: the counts are still exact. Otherwise the next reader re-reads.
            if state.epoch == bumped - 1 { state.epoch = bumped }
        }
        database.onRollback { [pool] in _ = pool.tenantChanges.increment() }
    }

    /// After the commit of a `change`: the second bump.
    func committed() {
        let bumped = pool.tenantChanges.increment()
        state.withLock { if $0.epoch == bumped - 1 { $0.epoch = bumped } }
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
