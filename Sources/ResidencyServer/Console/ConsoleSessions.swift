import Foundation
import ResidencyController
import ResidencyCore
import Synchronization

/// Console sessions, kept by the server: a signed-in browser holds only a random session id (cookie `HttpOnly`,
/// `SameSite=Strict`, `Secure` under TLS); the token it was exchanged for stays here and is checked again on
/// every request, so a revoked token ends its sessions at once. Sessions end after `idleTimeout` without use,
/// `absoluteTimeout` after sign-in, or at sign-out. At most `maximumSessions` are kept (the oldest go first), so
/// sign-ins cannot grow the server's memory without bound.
package final class ConsoleSessions: Sendable {
    package struct Session: Sendable {
        package let id: String
        /// The token the session was made from (server-side only; never sent back to the browser).
        let token: String
        /// Carried by every state-changing form; compared in constant time.
        package let csrf: String
        package let createdAt: Int64
        package var lastSeen: Int64
    }

    let idleTimeout: Int64
    let absoluteTimeout: Int64
    let maximumSessions: Int
    private let sessions = Mutex<[String: Session]>([:])

    package init(
        idleTimeout: Int64 = 30 * 60_000, absoluteTimeout: Int64 = 12 * 3_600_000, maximumSessions: Int = 10_000
    ) {
        self.idleTimeout = idleTimeout
        self.absoluteTimeout = absoluteTimeout
        self.maximumSessions = maximumSessions
    }

    /// A new session for `token` (already checked by the caller).
    package func open(token: String, at now: Int64) -> Session {
        let session = Session(
            id: SecureRandom.hex(32), token: token, csrf: SecureRandom.hex(32), createdAt: now, lastSeen: now)
        sessions.withLock { all in
            if all.count >= maximumSessions {
                // Expired ones first, then the least recently used.
                all = all.filter { now - $0.value.lastSeen < idleTimeout && now - $0.value.createdAt < absoluteTimeout }
                while all.count >= maximumSessions, let oldest = all.min(by: { $0.value.lastSeen < $1.value.lastSeen })
                {
                    all.removeValue(forKey: oldest.key)
                }
            }
            all[session.id] = session
        }
        return session
    }

    /// The live session with `id`, its use recorded; nil (and removed) when unknown or expired.
    package func touch(_ id: String, at now: Int64) -> Session? {
        sessions.withLock { all in
            guard var session = all[id] else { return nil }
            guard now - session.lastSeen < idleTimeout, now - session.createdAt < absoluteTimeout else {
                all.removeValue(forKey: id)
                return nil
            }
            session.lastSeen = now
            all[id] = session
            return session
        }
    }

    package func close(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    package var count: Int { sessions.withLock { $0.count } }
}
