import Dispatch
import Foundation
import ResidencyStore
import Synchronization

/// Whether this controller is the one doing the periodic work — checkpoints, retention, access expiry, the
/// migration runner's resumes, regional sync — when several controllers share a PostgreSQL store.
///
/// On PostgreSQL a lease row in the database (`LeaseRepository`), taken and renewed by the service's ticker:
/// held for `duration` seconds by the database's clock, renewed every quarter of that. This process counts it
/// as held only until 80% of `duration` after the start of its last successful renewal — before the row can
/// expire for anyone else — so two controllers never both do the work, even if this one stalls. A controller
/// that dies stops renewing; another takes the lease once it expires, within `duration`. On SQLite (one
/// controller per file, guarded by the data directory's lock) it is always held.
package final class WorkLease: Sendable {
    /// The lease's name in the table.
    static let name = "periodic-work"
    private let pool: DatabasePool
    /// Who this controller is in the lease table: host, process and a random part (a restarted process on the
    /// same host is a new holder).
    package let holder: String
    /// Seconds a renewal holds the lease (`RESIDENCY_LEASE_SECONDS`, default 10).
    package let duration: Double
    private struct State {
        /// Monotonic nanoseconds until which the lease counts as held here; nil when not held.
        var heldUntil: UInt64?
        var lastAttempt: UInt64?
    }
    private let state = Mutex(State())

    init(pool: DatabasePool, duration: Double? = nil) {
        self.pool = pool
        let configured = ProcessInfo.processInfo.environment["RESIDENCY_LEASE_SECONDS"].flatMap(Double.init)
        self.duration = max(1, duration ?? configured ?? 10)
        holder = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    /// Whether this controller may do the periodic work now.
    package var isHeld: Bool {
        guard pool.isPostgres else { return true }
        let now = DispatchTime.now().uptimeNanoseconds
        return state.withLock { $0.heldUntil.map { now < $0 } ?? false }
    }

    /// Takes or renews the lease when a quarter of its duration has passed since the last attempt (every call on
    /// SQLite answers true at once); answers whether it is held. Throws what the store threw — the database is
    /// unreachable — after which the lease is not held here.
    @discardableResult
    package func renew() throws -> Bool {
        guard pool.isPostgres else { return true }
        let started = DispatchTime.now().uptimeNanoseconds
        let due = state.withLock { state in
            guard let last = state.lastAttempt else { return true }
            return Double(started - last) >= duration / 4 * 1e9
        }
        guard due else { return isHeld }
        state.withLock { $0.lastAttempt = started }
        let held: Bool
        do {
            held = try pool.write { database in
                try LeaseRepository(database).acquire(
                    name: Self.name, holder: holder, milliseconds: Int64(duration * 1000))
            }
        } catch {
            state.withLock { $0.heldUntil = nil }
            throw error
        }
        state.withLock { $0.heldUntil = held ? started + UInt64(duration * 0.8 * 1e9) : nil }
        return held
    }

    /// Gives the lease up (shutdown): another controller takes it at its next attempt rather than after expiry.
    package func release() throws {
        guard pool.isPostgres else { return }
        state.withLock { $0.heldUntil = nil }
        try pool.write { try LeaseRepository($0).release(name: Self.name, holder: holder) }
    }

    /// Who holds the lease now, by the database (`/readyz`); this controller on SQLite.
    package func currentHolder() throws -> String? {
        guard pool.isPostgres else { return holder }
        return try pool.read { try LeaseRepository($0).holder(name: Self.name) }
    }
}
