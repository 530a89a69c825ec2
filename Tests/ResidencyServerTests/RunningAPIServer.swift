import Foundation
import Synchronization

@testable import ResidencyServer

/// The real HTTP server answering with an `APIApplication` on a loopback port, its event loops on a thread of
/// their own: for tests that drive the API over real sockets. `stop()` shuts it down and waits for `run()` to return.
final class RunningAPIServer: Sendable {
    let server: HTTPServer
    private let finished = Atomic<Bool>(false)

    init(_ application: APIApplication) throws {
        server = try HTTPServer(
            configuration: HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0")),
            handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) },
            inlineHandler: { application.respondInline(to: $0) })
        Thread.detachNewThread { [self] in
            server.run()
            finished.store(true, ordering: .releasing)
        }
    }

    var port: UInt16 { server.port }

    func stop() {
        server.shutdown()
        let deadline = Date().addingTimeInterval(20)
        while !finished.load(ordering: .acquiring) && Date() < deadline { usleep(10_000) }
    }
}
