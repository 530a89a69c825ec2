import ResidencyCore
import Dispatch
import ResidencyStore
import Synchronization

/// Who recently seen tokens belong to, by the SHA-256 of their secret, so a request need not read SQLite to
/// learn its caller (measured: a tenth of a placement's time went to that read and its file locks).
///
/// Revocation stays immediate: every change to the tokens table — by this process or by a `residency tokens`
/// command beside it — bumps the pool's shared counter after it commits, and a lookup that sees the counter
/// moved empties the cache first. An entry is tagged with the counter as it stood before its row was read, and
/// is kept only if the counter has not moved since, so a lookup racing a revocation cannot cache the live row.
/// Entries also expire after `lifetime`, a bound on staleness should the table ever change some other way.
/// Unknown tokens are never cached: anyone can send them, and caching them would let a caller fill memory.
final class TokenCache: Sendable {
    private struct Entry {
        let authentication: Authentication
        let expires: UInt64
    }

    private struct State {
        var epoch: UInt64 = 0
        var entries: [SHA256Digest: Entry] = [:]
    }

    private let changes: SharedCounter
    private let state = Mutex(State())
    private let lifetime: UInt64
    private let capacity: Int

    init(changes: SharedCounter, lifetimeSeconds: Double = 1, capacity: Int = 4096) {
        self.changes = changes
        self.lifetime = UInt64(lifetimeSeconds * 1e9)
        self.capacity = capacity
    }

    /// The counter to tag a lookup with: read it before reading the row.
    func epoch() -> UInt64 { changes.load() }

    func lookup(_ hash: SHA256Digest, epoch: UInt64) -> Authentication? {
        lookupWithExpiry(hash, epoch: epoch)?.authentication
    }

    /// `lookup`, with when the entry expires (uptime nanoseconds): a connection's `BearerMemo` lives no longer.
    func lookupWithExpiry(_ hash: SHA256Digest, epoch: UInt64) -> (authentication: Authentication, expires: UInt64)? {
        let now = DispatchTime.now().uptimeNanoseconds
        return state.withLock { state in
            if state.epoch != epoch {
                // The counter only grows; a lookup tagged before another thread saw it move just misses.
                if epoch > state.epoch {
                    state.entries.removeAll(keepingCapacity: true)
                    state.epoch = epoch
                }
                return nil
            }
            guard let entry = state.entries[hash], entry.expires > now else { return nil }
            return (entry.authentication, entry.expires)
        }
    }

    /// When an entry stored now expires.
    func expiry(from now: UInt64) -> UInt64 { now + lifetime }

    func store(_ hash: SHA256Digest, _ authentication: Authentication, epoch: UInt64) {
        switch authentication {
        case .unknown, .unavailable: return
        case .caller, .revoked: break
        }
        let expires = expiry(from: DispatchTime.now().uptimeNanoseconds)
        state.withLock { state in
            guard state.epoch == epoch, changes.load() == epoch else { return }
            if state.entries.count >= capacity { state.entries.removeAll(keepingCapacity: true) }
            state.entries[hash] = Entry(authentication: authentication, expires: expires)
        }
    }
}
