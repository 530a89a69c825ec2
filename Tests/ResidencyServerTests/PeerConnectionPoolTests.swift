import Foundation
import ResidencyTLS
import Testing

@testable import ResidencyServer

/// The controller's persistent connections to a regional service: calls share one mutual-TLS connection, and a
/// connection the service closed while idle is replaced without the caller seeing a failure.
@Suite struct PeerConnectionPoolTests {
    @Test func callsReuseOneConnectionAndSurviveTheServiceClosingIt() throws {
        let region = try TLSIdentity.generate(name: "region-eu")
        let controller = try TLSIdentity.generate(name: "controller")
        var configuration = HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0"))
        configuration.tls = try TLSContext(mutual: region, pinned: [controller.pin], client: false)
        configuration.idleTimeout = 0.3
        let peers = PeerPins()
        let server = try HTTPServer(
            configuration: configuration,
            handler: { request in
                peers.record(request.peerPin)
                return .text("ok \(request.path)\n")
            },
            rejecter: { status, message in .text(message, status: status) })
        Thread.detachNewThread { server.run() }
        defer { server.shutdown() }
        let pool = try PeerConnectionPool(
            endpoint: "https://127.0.0.1:\(server.port)",
            context: try TLSContext(mutual: controller, pinned: [region.pin], client: true))
        for index in 0..<5 {
            let answer = try pool.send("GET", "/call/\(index)")
            #expect(answer.status == 200 && String(decoding: answer.body, as: UTF8.self) == "ok /call/\(index)\n")
        }
        // One connection carried all five.
        #expect(server.activeConnections == 1)
        // Every request knew its peer by the key it proved.
        #expect(peers.all == Array(repeating: controller.pin, count: 5))
        // The service drops the idle connection; the next call opens another, unseen by the caller.
        Thread.sleep(forTimeInterval: 1.0)
        #expect(server.activeConnections == 0)
        #expect(try pool.send("PUT", "/after-idle", body: Array("{}".utf8)).status == 200)
    }
}

final class PeerPins: @unchecked Sendable {
    private let lock = NSLock()
    private var pins: [String?] = []
    func record(_ pin: String?) {
        lock.lock()
        pins.append(pin)
        lock.unlock()
    }
    var all: [String?] {
        lock.lock()
        defer { lock.unlock() }
        return pins
    }
}
