import Foundation
import ResidencyTLS
import Testing

@testable import ResidencyServer

/// The event loop serving mutual TLS: a pinned client (the project's TLSClient) is answered over a real
/// socket; OpenSSL's own client with an unpinned certificate, or with none, is refused at the handshake.
@Suite struct MutualTLSServerTests {
    @Test func onlyPinnedClientsAreServed() throws {
        let region = try TLSIdentity.generate(name: "region-eu")
        let controller = try TLSIdentity.generate(name: "controller")
        let stranger = try TLSIdentity.generate(name: "controller")
        var configuration = HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0"))
        configuration.tls = try TLSContext(mutual: region, pinned: [controller.pin], client: false)
        let server = try HTTPServer(
            configuration: configuration, handler: { _ in .text("hello from eu\n") },
            rejecter: { status, message in .text(message, status: status) })
        Thread.detachNewThread { server.run() }
        defer { server.shutdown() }

        /// The answer a client under `context` gets, or nil when TLS refused it. Under TLS 1.3 a client's
        /// certificate is checked after the client has finished its side of the handshake, so a refused client
        /// learns it at its first read: either way it gets no answer.
        func attempt(_ context: TLSContext) -> String? {
            guard let client = try? TLSClient(host: "127.0.0.1", port: server.port, context: context) else {
                return nil
            }
            guard (try? client.send(Array("GET /x HTTP/1.1\r\nHost: eu\r\nConnection: close\r\n\r\n".utf8))) != nil,
                let bytes = try? client.receive(until: { String(decoding: $0, as: UTF8.self).hasSuffix("eu\n") }),
                !bytes.isEmpty
            else { return nil }
            return String(decoding: bytes, as: UTF8.self)
        }
        let answer = attempt(try TLSContext(mutual: controller, pinned: [region.pin], client: true))
        #expect(answer?.hasPrefix("HTTP/1.1 200 OK") == true && answer?.hasSuffix("hello from eu\n") == true, "\(answer ?? "refused")")
        let pinned = try TLSClient(
            host: "127.0.0.1", port: server.port,
            context: try TLSContext(mutual: controller, pinned: [region.pin], client: true))
        #expect(pinned.peerPin == region.pin)
        // Another key with the same name: refused.
        #expect(attempt(try TLSContext(mutual: stranger, pinned: [region.pin], client: true)) == nil)
        // A client that pins another server key refuses this one at the handshake.
        #expect(throws: TLSClient.Failure.self) {
            _ = try TLSClient(
                host: "127.0.0.1", port: server.port,
                context: try TLSContext(mutual: controller, pinned: [stranger.pin], client: true))
        }
        // OpenSSL's client: with no certificate, and with an unpinned one.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-mtls-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try TLSIdentity.loadOrCreate(in: directory, name: "intruder")
        for extra in [[String](), ["-cert", directory.appendingPathComponent(TLSIdentity.certificateFileName).path,
            "-key", directory.appendingPathComponent(TLSIdentity.keyFileName).path]]
        {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
            process.arguments = ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_3", "-quiet"] + extra
            let input = Pipe()
            let output = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = output
            try process.run()
            input.fileHandleForWriting.write(Data("GET /x HTTP/1.1\r\nHost: eu\r\nConnection: close\r\n\r\n".utf8))
            try input.fileHandleForWriting.close()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(!text.contains("hello from eu"), "\(extra.isEmpty ? "no certificate" : "unpinned"): \(text)")
        }
    }
}
