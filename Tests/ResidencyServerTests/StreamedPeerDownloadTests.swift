import Foundation
import ResidencyTLS
import Testing

@testable import ResidencyServer

/// A peer's streamed answer over mutual TLS (how a migration's snapshot travels between regional services): the
/// whole body reaches the sink piece by piece; a body cut short by the producer, or longer than expected, is an
/// error, never taken for a whole one; a refusal comes back whole for the caller to report.
@Suite struct StreamedPeerDownloadTests {
    static let piece = 300_000

    static func bytes(_ index: Int) -> [UInt8] { (0..<piece).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ index) } }

    @Test func aStreamedBodyArrivesWholeOrIsReportedCut() throws {
        let region = try TLSIdentity.generate(name: "region-uk")
        let peer = try TLSIdentity.generate(name: "region-eu")
        var configuration = HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0"))
        configuration.tls = try TLSContext(mutual: region, pinned: [peer.pin], client: false)
        let answer: @Sendable (HTTPRequest) -> HTTPResponse = { request in
            if request.path == "/refused" {
                return APIError(status: 409, code: "snapshot_changed", message: "start again").response
            }
            let pieces = Int(request.queryValue("pieces") ?? "4")!
            let failAfter = request.queryValue("fail").flatMap { Int($0) }
            return HTTPResponse(
                status: 200, headers: [("Content-Type", "application/octet-stream")],
                stream: ResponseStream { writer in
                    for index in 0..<pieces {
                        if index == failAfter { throw APIError.badRequest("producer failed") }
                        try writer.write(Self.bytes(index))
                    }
                })
        }
        let server = try HTTPServer(
            configuration: configuration, handler: answer,
            rejecter: { status, message in HTTPResponse(status: status, body: Array(message.utf8)) })
        Thread.detachNewThread { server.run() }
        defer { server.shutdown() }
        let client = try PeerHTTPClient(
            endpoint: "https://127.0.0.1:\(server.port)",
            context: try TLSContext(mutual: peer, pinned: [region.pin], client: true), timeout: 10, limit: 64 * 1024)
        let expected = (0..<4).flatMap { Self.bytes($0) }

        var received: [UInt8] = []
        var pieces = 0
        let refusal = try client.stream("POST", "/file?pieces=4", body: [1, 2, 3], length: Int64(expected.count)) {
            received.append(contentsOf: $0)
            pieces += 1
        }
        #expect(refusal == nil)
        #expect(received == expected)
        #expect(pieces > 1)

        // The producer fails after two pieces: the connection is cut and the missing bytes are reported.
        received = []
        #expect(throws: PeerHTTPClient.Failure.self) {
            _ = try client.stream("POST", "/file?pieces=4&fail=2", body: [], length: Int64(expected.count)) {
                received.append(contentsOf: $0)
            }
        }
        #expect(received.count < expected.count)

        // More bytes than the caller expects: refused, not written past the end.
        received = []
        #expect(throws: PeerHTTPClient.Failure.self) {
            _ = try client.stream("POST", "/file?pieces=4", body: [], length: Int64(expected.count - 1)) {
                received.append(contentsOf: $0)
            }
        }
        #expect(received.count <= expected.count - 1)

        // A refusal comes back whole, with its status and body, and nothing reaches the sink.
        received = []
        let refused = try client.stream("POST", "/refused", body: [], length: 10) { received.append(contentsOf: $0) }
        let refusal409 = try #require(refused)
        #expect(refusal409.status == 409)
        #expect(String(decoding: refusal409.body, as: UTF8.self).contains("snapshot_changed"))
        #expect(received.isEmpty)
    }
}
