import ResidencyCore
import Synchronization

/// Decides which refused calls reach the ledger one by one and which are counted into a summary, so that a
/// caller cannot choose how fast the ledger grows.
///
/// Every refused call by a known token is on record, but a durable, fsync'd entry per call let one leaked and
/// then revoked token write 7,424 entries in 3 s, and revocation could not stop it. Now the first refusal of each
/// (token, reason, method, route) in a period is written whole; the rest are counted and written as one
/// `api.refused.summary` entry when the period closes (`TokenService.closeRefusalPeriod`, run by the server's
/// periodic work and at shutdown). The keys come from closed sets (a route template and its methods, the tokens
/// an administrator created), and past `maximumKeys` further keys share one overflow count, so memory is bounded
/// too. Per period the ledger grows by at most `maximumKeys + 1` entries however many calls arrive.
final class RefusalRecorder: Sendable {
    struct Key: Hashable, Sendable {
        let token: String
        let reason: RefusedCall.Reason
        let method: String
        let route: String
    }

    struct Period: Sendable {
        var startedAt: Int64
        var recorded: Set<Key> = []
        var suppressed: [Key: Int] = [:]
        /// Suppressed calls whose key did not fit in `maximumKeys`.
        var overflow = 0
    }

    /// What a period's summary entry holds.
    struct Summary: Sendable {
        let from: Int64
        let counts: [(key: Key, count: Int)]
        let overflow: Int
    }

    let maximumKeys: Int
    private let period: Mutex<Period>

    init(startedAt: Int64, maximumKeys: Int = 4096) {
        self.maximumKeys = maximumKeys
        period = Mutex(Period(startedAt: startedAt))
    }

    /// True when this call is the first of its key in the period and is to be written whole; false when it was
    /// counted into the summary instead.
    func admit(_ key: Key) -> Bool {
        period.withLock { period in
            if period.recorded.contains(key) {
                if period.suppressed[key] != nil || period.suppressed.count < maximumKeys {
                    period.suppressed[key, default: 0] += 1
                } else {
                    period.overflow += 1
                }
                return false
            }
            guard period.recorded.count < maximumKeys else {
                period.overflow += 1
                return false
            }
            period.recorded.insert(key)
            return true
        }
    }

    /// A first refusal that could not be written: forget it, so the next call of its key tries again.
    func forget(_ key: Key) {
        _ = period.withLock { $0.recorded.remove(key) }
    }

    /// Ends the period at `now`: its summary when anything was suppressed (nil otherwise), and a fresh period.
    func close(at now: Int64) -> Summary? {
        let ended = period.withLock { period -> Period in
            let ended = period
            period = Period(startedAt: now)
            return ended
        }
        guard !ended.suppressed.isEmpty || ended.overflow > 0 else { return nil }
        let counts = ended.suppressed.map { (key: $0.key, count: $0.value) }.sorted {
            ($0.key.token, $0.key.route, $0.key.method, $0.key.reason.rawValue)
                < ($1.key.token, $1.key.route, $1.key.method, $1.key.reason.rawValue)
        }
        return Summary(from: ended.startedAt, counts: counts, overflow: ended.overflow)
    }

    /// Puts a summary that could not be written back, so its counts are not lost.
    func restore(_ summary: Summary) {
        period.withLock { period in
            period.startedAt = min(period.startedAt, summary.from)
            for (key, count) in summary.counts {
                if period.suppressed[key] != nil || period.suppressed.count < maximumKeys {
                    period.suppressed[key, default: 0] += count
                } else {
                    period.overflow += count
                }
            }
            period.overflow += summary.overflow
        }
    }
}
