import Foundation
@testable import ResidencyController
import ResidencyCore
import Synchronization
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// A connection remembers its last bearer token and whose it is (`BearerMemo`); revocation must still refuse the
/// very next request, and another token on the same connection must never be taken for the remembered one.
@Suite struct BearerMemoTests {
    /// The memo answers for the token it saw, only for that one, and not once the token table has changed.
    @Test func theMemoAnswersOnlyForItsTokenAndForgetsAtAChange() throws {
        let api = try APIHarness()
        let tokens = api.controller.tokens
        let memo = BearerMemo()
        let ops = Array(api.tokens[.ops]!.utf8)
        let support = Array(api.tokens[.support]!.utf8)
        func name(_ authentication: Authentication) -> String {
            switch authentication {
            case .caller(let caller): return caller.tokenName
            case .revoked(let caller): return "revoked " + caller.tokenName
            case .unknown: return "unknown"
            case .unavailable: return "unavailable"
            }
        }
        func check(_ secret: [UInt8]) -> String {
            secret.withUnsafeBytes { name(tokens.authentication(bearer: $0, memo: memo)) }
        }
        #expect(check(ops) == "t-ops")
        // Remembered: the memo itself now answers for the ops token, and for nothing else.
        let epoch = tokens.tokenCache.epoch()
        let now = DispatchTime.now().uptimeNanoseconds
        #expect(ops.withUnsafeBytes { memo.answer(for: $0, epoch: epoch, now: now) }.map(name) == "t-ops")
        #expect(support.withUnsafeBytes { memo.answer(for: $0, epoch: epoch, now: now) } == nil)
        var forged = ops
        forged[forged.count - 1] ^= 1
        #expect(forged.withUnsafeBytes { memo.answer(for: $0, epoch: epoch, now: now) } == nil)
        #expect(check(forged) == "unknown")
        // An unknown token is not remembered, nor does it leave the last one answering for it.
        #expect(forged.withUnsafeBytes { memo.answer(for: $0, epoch: epoch, now: now) } == nil)
        #expect(check(support) == "t-support")
        #expect(check(ops) == "t-ops")
        // Not past the cache entry's lifetime (one second), nor after the counter moved.
        #expect(ops.withUnsafeBytes { memo.answer(for: $0, epoch: epoch, now: now + 2_000_000_000) } == nil)
        #expect(ops.withUnsafeBytes { memo.answer(for: $0, epoch: epoch + 1, now: now) } == nil)
        try TokenService.revokeToken(name: "t-ops", pool: api.controller.pool)
        #expect(check(ops) == "revoked t-ops")
        #expect(check(support) == "t-support")
    }

    /// Over one keep-alive connection of the real server: placements answered with the remembered token, the
    /// token revoked by another hand, and the connection's next request refused 401.
    @Test func aRevokedTokenIsRefusedOnTheConnectionsNextRequest() throws {
        let api = try APIHarness()
        let lines = Mutex<[String]>([])
        let application = APIApplication(controller: api.controller) { line in
            lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        }
        let server = try RunningAPIServer(application)
        defer { server.stop() }
        func placement(_ token: String) -> String {
            let body = #"{"ip":"81.2.69.160","plan":"trial"}"#
            return
                "POST /v1/placements HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(token)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        }
        let client = try TestClient(port: server.port)
        let signup = api.tokens[.signup]!
        client.send(placement(signup) + placement(signup))
        #expect(client.responses(2).map(\.status) == [200, 200])
        client.send(placement(signup))
        #expect(client.responses(1).map(\.status) == [200])
        // Another token on the same connection is its own caller, then the first is again.
        let ops = api.tokens[.ops]!
        client.send(placement(ops) + placement(signup))
        #expect(client.responses(2).map(\.status) == [200, 200])
        let tokenNames = lines.withLock { $0 }.compactMap { line -> String? in
            guard case .string(let name)? = (try? JSONParser.parse(Array(line.utf8)))?["token"] else { return nil }
            return name
        }
        #expect(tokenNames == ["t-signup", "t-signup", "t-signup", "t-ops", "t-signup"])
        try TokenService.revokeToken(name: "t-signup", pool: api.controller.pool)
        client.send(placement(signup))
        let refused = client.responses(1)
        #expect(refused.map(\.status) == [401])
        #expect(refused.first?.body.contains("invalid_token") == true)
        client.send(placement(ops))
        #expect(client.responses(1).map(\.status) == [200])
    }
}
