import Foundation
import Testing

@testable import ResidencyTLS

/// Mutual TLS between services with pinned keys, run in memory: a client session and a server session hand
/// each other the bytes a socket would carry, so every handshake outcome is exact and needs no network.
@Suite struct MutualTLSTests {
    /// Shuttles bytes between the two sessions until neither has anything to say; answers the plaintext each
    /// side received and whether either failed.
    static func converse(
        client: TLSSession, server: TLSSession, clientSends: [UInt8] = [], serverSends: [UInt8] = []
    ) -> (toServer: [UInt8], toClient: [UInt8], failure: String?) {
        var wire: [UInt8] = []
        if case .failed(let reason) = client.start(into: &wire) { return ([], [], "client: \(reason)") }
        var toServer: [UInt8] = []
        var toClient: [UInt8] = []
        var sentClient = false
        var sentServer = false
        for _ in 0..<20 {
            var back: [UInt8] = []
            if !wire.isEmpty {
                let outcome = wire.withUnsafeBytes { server.receive($0, plaintext: &toServer, wire: &back) }
                if case .failed(let reason) = outcome { return (toServer, toClient, "server: \(reason)") }
            }
            if server.isEstablished && !sentServer && !serverSends.isEmpty {
                server.seal(serverSends, into: &back)
                sentServer = true
            }
            wire = []
            if !back.isEmpty {
                let outcome = back.withUnsafeBytes { client.receive($0, plaintext: &toClient, wire: &wire) }
                if case .failed(let reason) = outcome { return (toServer, toClient, "client: \(reason)") }
            }
            if client.isEstablished && !sentClient && !clientSends.isEmpty {
                client.seal(clientSends, into: &wire)
                sentClient = true
            }
            if wire.isEmpty && back.isEmpty { break }
        }
        return (toServer, toClient, nil)
    }

    let controller: TLSIdentity
    let region: TLSIdentity
    let stranger: TLSIdentity

    init() throws {
        controller = try TLSIdentity.generate(name: "controller")
        region = try TLSIdentity.generate(name: "region-eu")
        stranger = try TLSIdentity.generate(name: "region-eu")  // same name, another key
    }

    @Test func pinnedPeersTalk() throws {
        let serverContext = try TLSContext(mutual: region, pinned: [controller.pin], client: false)
        let clientContext = try TLSContext(mutual: controller, pinned: [region.pin], client: true)
        let client = try TLSSession(context: clientContext, client: true)
        let server = try TLSSession(context: serverContext)
        let result = Self.converse(
            client: client, server: server, clientSends: Array("GET / HTTP/1.1\r\n\r\n".utf8),
            serverSends: Array("HTTP/1.1 200 OK\r\n\r\n".utf8))
        #expect(result.failure == nil, "\(result.failure ?? "")")
        #expect(client.isEstablished && server.isEstablished)
        #expect(String(decoding: result.toServer, as: UTF8.self) == "GET / HTTP/1.1\r\n\r\n")
        #expect(String(decoding: result.toClient, as: UTF8.self) == "HTTP/1.1 200 OK\r\n\r\n")
        #expect(server.peerPin == controller.pin)
        #expect(client.peerPin == region.pin)
    }

    /// A client whose key the server has not pinned is refused at the handshake, whatever its name; and a
    /// client refuses a server it has not pinned. No application data crosses in either case.
    @Test func unpinnedPeersAreRefusedAtTheHandshake() throws {
        let serverContext = try TLSContext(mutual: region, pinned: [controller.pin], client: false)
        let intruder = try TLSContext(mutual: stranger, pinned: [region.pin], client: true)
        let refused = Self.converse(
            client: try TLSSession(context: intruder, client: true), server: try TLSSession(context: serverContext),
            clientSends: Array("secret".utf8))
        #expect(refused.failure != nil)
        #expect(refused.toServer.isEmpty)

        let impostorServer = try TLSContext(mutual: stranger, pinned: [controller.pin], client: false)
        let careful = try TLSContext(mutual: controller, pinned: [region.pin], client: true)
        let client = try TLSSession(context: careful, client: true)
        let wrongServer = Self.converse(
            client: client, server: try TLSSession(context: impostorServer), serverSends: Array("data".utf8))
        #expect(wrongServer.failure != nil)
        #expect(wrongServer.toClient.isEmpty)
        #expect(!client.isEstablished)
    }

    /// An identity made at first start is read back the same (its key 0600), and half an identity is an
    /// error, never silently replaced by a new key that peers would not have pinned.
    @Test func anIdentityIsKeptPrivateAndNeverSilentlyReplaced() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-tls-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let saved = try TLSIdentity.loadOrCreate(in: directory, name: "controller")
        // Saved and read back: the same key, the key file private.
        let again = try TLSIdentity.loadOrCreate(in: directory, name: "controller")
        #expect(again.pin == saved.pin)
        var status = stat()
        stat(directory.appendingPathComponent(TLSIdentity.keyFileName).path, &status)
        #expect(status.st_mode & 0o777 == 0o600)
        // The same files serve HTTPS too.
        _ = try TLSContext(
            certificate: directory.appendingPathComponent(TLSIdentity.certificateFileName).path,
            privateKey: directory.appendingPathComponent(TLSIdentity.keyFileName).path)
        // A half identity is an error, never silently replaced.
        try FileManager.default.removeItem(at: directory.appendingPathComponent(TLSIdentity.certificateFileName))
        #expect(throws: TLSError.self) { try TLSIdentity.loadOrCreate(in: directory, name: "controller") }
    }
}
