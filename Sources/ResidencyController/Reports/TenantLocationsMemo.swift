import ResidencyStore
import Synchronization

/// What the residency map and the audit read of every tenant — where each is homed, and how many live in each
/// region and country — kept between views with the value of the tenants table's location change counter
/// (`TenantRepository.locationChanges`, schema version 14) it was read at.
///
/// A view reads the counter in its own read transaction and reuses what is kept only when the value is the same;
/// otherwise it reads the rows in that same transaction (one snapshot: the rows and the counter agree). Triggers
/// keep the counter, so a change by any writer — this process, a command beside it, another controller on the
/// same PostgreSQL, a hand edit in the sqlite3 shell — is seen at the next view. Nothing is kept on trust or age.
/// Reading 100,000 tenants' locations costs the map page 40–70 ms; the counter costs one row.
final class TenantLocationsMemo: Sendable {
    typealias CountryCount = (region: String, country: String?, tenants: Int)

    /// A value and the counter it was read at.
    private struct Kept<Value: Sendable>: Sendable {
        let changes: Int64
        let value: Value

        /// What to keep after a view read `value` at `changes`: two views finishing out of order must not put an
        /// older read over a newer one (never stale — lookups want the same value — but the next view would read
        /// every tenant again).
        static func newer(_ kept: Kept?, changes: Int64, value: Value) -> Kept {
            if let kept, kept.changes > changes { return kept }
            return Kept(changes: changes, value: value)
        }
    }

    private let homes = Mutex<Kept<TenantHomes>?>(nil)
    /// How many times every tenant's home was read afresh rather than reused (what the tests check reuse by).
    private let freshReads = Atomic<Int>(0)
    var readsOfEveryHome: Int { freshReads.load(ordering: .relaxed) }
    private let countryCounts = Mutex<Kept<[CountryCount]>?>(nil)

    /// Inside a read transaction: every tenant grouped by home region (`TenantHomes`), and the counter's value
    /// they describe.
    func homes(in database: Database) throws -> (changes: Int64, homes: TenantHomes) {
        let directory = TenantRepository(database)
        let changes = try directory.locationChanges()
        if let kept = homes.withLock({ $0 }), kept.changes == changes { return (changes, kept.value) }
        let fresh = try TenantHomes(directory.forEachHome)
        freshReads.add(1, ordering: .relaxed)
        homes.withLock { $0 = Kept.newer($0, changes: changes, value: fresh) }
        return (changes, fresh)
    }

    /// Inside a read transaction: how many tenants that are not deleted live in each region and country
    /// (`TenantRepository.liveCountsByCountry`).
    func liveCountsByCountry(in database: Database) throws -> [CountryCount] {
        let directory = TenantRepository(database)
        let changes = try directory.locationChanges()
        if let kept = countryCounts.withLock({ $0 }), kept.changes == changes { return kept.value }
        let fresh = try directory.liveCountsByCountry()
        countryCounts.withLock { $0 = Kept.newer($0, changes: changes, value: fresh) }
        return fresh
    }
}
