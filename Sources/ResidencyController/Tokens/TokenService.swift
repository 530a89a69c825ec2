import Dispatch
import ResidencyCore
import ResidencyStore
import Synchronization

/// A token as listed: never the secret, which exists only in the caller's hands.
package struct TokenInfo: Sendable, Hashable {
    package let name: String
    package let role: String
    package let createdAt: Int64
    package let revokedAt: Int64?
}

/// Who is calling: tokens (created, listed and revoked by an administrator at the console), the caller a bearer
/// token belongs to, and the record of calls refused because of who made them.
package final class TokenService: ControllerService {
    let context: ControllerContext
    /// Callers of recently seen tokens (revocations by any process still take effect at once).
    let tokenCache: TokenCache
    /// Which refused calls are written one by one and which are counted into a period's summary.
    let refusals: RefusalRecorder
    /// Refused calls that could not be written to the ledger (they were still refused).
    let unrecordedRefusals = Atomic<Int>(0)

    init(context: ControllerContext) {
        self.context = context
        tokenCache = TokenCache(changes: context.pool.tokenChanges)
        refusals = RefusalRecorder(startedAt: context.clock.now())
    }

    package var unrecordedRefusalCount: Int { unrecordedRefusals.load(ordering: .relaxed) }
}

extension TokenService {
    /// Tokens look like `rsd_` and 64 hex digits (256 random bits).
    static let tokenPrefix = "rsd_"

    /// Creates a token and answers its secret, shown this once; only its SHA-256 is stored.
    package static func createToken(
        name: String, role: Role, pool: DatabasePool, clock: Clock = .system, actor: String = "cli",
        tenant: String? = nil
    ) throws -> String {
        guard Identifier.isValid(name) else {
            throw ControllerError.invalidField(
                field: "name",
                message:
                    "\"\(name)\" is not a valid token name; use lowercase letters, digits, '-' and '_', starting with a letter"
            )
        }
        let secret = tokenPrefix + SecureRandom.hex(32)
        do {
            try pool.write { database in
                let tokens = TokenRepository(database)
                if try tokens.record(name: name) != nil { throw ControllerError.tokenExists(name: name) }
                let now = clock.now()
                if let tenant, try TenantRepository(database).tenant(id: tenant) == nil {
                    throw ControllerError.notFound(kind: "tenant", id: tenant)
                }
                try tokens.insert(
                    name: name, role: role.rawValue, hash: SHA256.hash(Array(secret.utf8)).bytes, createdAt: now,
                    tenant: tenant)
                try Ledger.append(
                    in: database, time: now, kind: .tokenCreated, actor: actor, tenant: tenant,
                    body: .object([("name", .string(name)), ("role", .string(role.rawValue))]))
            }
        }
        pool.tokenChanges.increment()
        return secret
    }

    package static func tokens(pool: DatabasePool) throws -> [TokenInfo] {
        try pool.read { try TokenRepository($0).all() }.map {
            TokenInfo(name: $0.name, role: $0.role, createdAt: $0.createdAt, revokedAt: $0.revokedAt)
        }
    }

    package static func revokeToken(
        name: String, pool: DatabasePool, clock: Clock = .system, actor: String = "cli"
    ) throws {
        let revoked = try pool.write { database -> Bool in
            let now = clock.now()
            guard try TokenRepository(database).revoke(name: name, at: now) else { return false }
            try Ledger.append(
                in: database, time: now, kind: .tokenRevoked, actor: actor, body: .object([("name", .string(name))]))
            return true
        }
        // After the commit: a server that then sees the counter move reads the revoked row.
        pool.tokenChanges.increment()
        guard revoked else { throw ControllerError.notFound(kind: "live token", id: name) }
    }

    /// The caller a bearer token belongs to, or nil for an unknown, malformed or revoked token. A revocation,
    /// even by another process, takes effect at the next request (see `TokenCache`).
    package func authenticate(bearer secret: String) -> Caller? {
        if case .caller(let caller) = authentication(bearer: secret) { return caller }
        return nil
    }

    /// What a bearer token is: a live caller, a revoked token (whose use is worth recording), or nothing.
    package func authentication(bearer secret: String) -> Authentication {
        var secret = secret
        return secret.withUTF8 { authentication(bearer: UnsafeRawBufferPointer($0)) }
    }

    /// `authentication(bearer:)` over the secret's bytes as they arrived (the API reads them straight from the
    /// request head). The cache is keyed by the digest itself, held inline: no array per request.
    package func authentication(bearer secret: UnsafeRawBufferPointer) -> Authentication {
        authentication(bearer: secret, memo: nil)
    }

    /// `authentication(bearer:)`, first asking the connection's memo of its last token (see `BearerMemo`), and
    /// telling it the answer.
    package func authentication(bearer secret: UnsafeRawBufferPointer, memo: BearerMemo?) -> Authentication {
        guard secret.count == Self.tokenPrefix.utf8.count + 64, secret.starts(with: Self.tokenPrefix.utf8) else {
            return .unknown
        }
        // Read before anything is looked up: an answer is good only while the counter still reads this.
        let epoch = tokenCache.epoch()
        let now = DispatchTime.now().uptimeNanoseconds
        if let memo, let remembered = memo.answer(for: secret, epoch: epoch, now: now) { return remembered }
        let digest = SHA256.hash(secret)
        if let cached = tokenCache.lookupWithExpiry(digest, epoch: epoch) {
            memo?.remember(secret, cached.authentication, epoch: epoch, expires: cached.expires)
            return cached.authentication
        }
        let found = authentication(digest: digest, epoch: epoch)
        memo?.remember(secret, found, epoch: epoch, expires: tokenCache.expiry(from: now))
        return found
    }

    /// The token whose secret has `digest`, read from the store and cached (tagged with `epoch`).
    private func authentication(digest: SHA256Digest, epoch: UInt64) -> Authentication {
        let hash = digest.bytes
        let authentication: Authentication
        let record: TokenRepository.Record?
        do {
            record = try context.read { try TokenRepository($0).record(hash: hash) }
        } catch {
            // Not "unknown": the caller may hold a good token, and a 401 would tell it otherwise. Never cached.
            return .unavailable(String(describing: error))
        }
        if let record, ConstantTime.equal(record.hash, hash), let role = Role(rawValue: record.role) {
            let caller = Caller(tokenName: record.name, role: role, tenant: record.tenant)
            authentication = record.revokedAt == nil ? .caller(caller) : .revoked(caller)
        } else {
            authentication = .unknown
        }
        tokenCache.store(digest, authentication, epoch: epoch)
        return authentication
    }
}

package enum Authentication: Sendable {
    case caller(Caller)
    /// A token that was real and has been revoked.
    case revoked(Caller)
    case unknown
    /// The store could not be read: neither known nor unknown (answered 503, never cached).
    case unavailable(String)
}
