import Dispatch
import ResidencyCore

/// The bearer token a connection last presented and who it turned out to be, so that connection's next request
/// with the same token skips hashing it and looking the digest up (SHA-256 and the shared cache's lock were a
/// tenth of a placement's instructions; a client sends the same token on every request of a connection).
///
/// Held to exactly the shared `TokenCache`'s rules, so revocation stays immediate: an answer is reused only while
/// the pool's token-change counter still reads the value it had before the answer was looked up, and no longer
/// than the cache entry it came from would have lived. Only live and revoked callers are kept, never an unknown
/// token or a failed read. The secret is compared in constant time.
///
/// One per connection; a connection's requests are answered one at a time (on its event loop, or on a handler
/// thread the loop hands the request to and waits for), so the memo is never used by two threads at once.
package final class BearerMemo: @unchecked Sendable {
    private var secret: [UInt8] = []
    private var authentication: Authentication?
    private var epoch: UInt64 = 0
    private var expires: UInt64 = 0

    package init() {}

    /// The remembered answer for `secret`, if it is still good at `epoch` (the counter read now).
    func answer(for secret: UnsafeRawBufferPointer, epoch: UInt64, now: UInt64) -> Authentication? {
        guard let authentication, epoch == self.epoch, now < expires, secret.count == self.secret.count else {
            return nil
        }
        let same = self.secret.withUnsafeBytes { ConstantTime.equal($0, secret) }
        return same ? authentication : nil
    }

    func remember(
        _ secret: UnsafeRawBufferPointer, _ authentication: Authentication, epoch: UInt64, expires: UInt64
    ) {
        switch authentication {
        case .caller, .revoked: break
        case .unknown, .unavailable:
            forget()
            return
        }
        self.secret.removeAll(keepingCapacity: true)
        self.secret.append(contentsOf: secret)
        self.authentication = authentication
        self.epoch = epoch
        self.expires = expires
    }

    func forget() {
        authentication = nil
        secret.removeAll(keepingCapacity: true)
    }
}
