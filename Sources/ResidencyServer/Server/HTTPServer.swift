import ResidencyTLS
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP/1.1 over POSIX sockets.
///
/// One accept thread admits connections and deals them out to a few event loops (one a core by default), each
/// multiplexing its connections with epoll; requests whose handlers may block go to a handler pool, so a slow
/// report or an fsync never holds up the connections sharing a loop. Past `maximumConnections` a connection is
/// answered 503 at once, so a flood cannot exhaust memory or starve connections already served. Idle keep-alive
/// connections, slow clients (a request must arrive whole within `requestTimeout` of its first byte, else 408)
/// and clients that stop reading are all bounded by deadlines.
package final class HTTPServer: Sendable {
    package struct Configuration: Sendable {
        package var address: ListenAddress
        package var maximumConnections = 512
        /// Seconds a keep-alive connection may wait for its next request.
        package var idleTimeout = 30.0
        /// Seconds from a request's first byte to its last.
        package var requestTimeout = 10.0
        /// Seconds a response may wait for a client that does not read.
        package var writeTimeout = 10.0
        /// Seconds shutdown waits for in-flight requests.
        package var drainTimeout = 15.0
        /// Threads multiplexing connections.
        package var eventLoops = max(1, ProcessInfo.processInfo.activeProcessorCount)
        /// Most threads running handlers that may block at once; further such requests wait their turn.
        package var handlerThreads = 64
        package var limits = HTTPLimits()
        /// Serve TLS 1.3 with this certificate and key (`serve --tls-cert --tls-key`); nil serves plain HTTP.
        package var tls: TLSContext?

        package init(address: ListenAddress) { self.address = address }
    }

    package let configuration: Configuration
    /// The port actually bound (useful with port 0).
    package let port: UInt16
    private let listener: Int32
    private let core: ServerCore
    private let loops: [EventLoop]

    /// Binds and listens. `handler` answers every request; `rejecter` builds the response for a request that
    /// could not be parsed or admitted (status and message). `inlineHandler` answers on the event loop itself
    /// the requests it can answer without blocking (no disk writes, no long computation) and returns nil for the
    /// rest, which `handler` answers on the handler pool.
    package init(
        configuration: Configuration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        rejecter: @escaping @Sendable (Int, String) -> HTTPResponse,
        inlineHandler: @escaping @Sendable (HTTPRequest) -> HTTPResponse? = { _ in nil }
    ) throws {
        self.configuration = configuration
        signal(SIGPIPE, SIG_IGN)
        // A file-size limit (ulimit -f) must turn into write errors the API reports, not kill the server.
        signal(SIGXFSZ, SIG_IGN)
        let core = ServerCore(
            configuration: configuration, handler: handler, rejecter: rejecter, inlineHandler: inlineHandler)
        self.core = core
        loops = try (0..<max(1, configuration.eventLoops)).map { _ in try EventLoop(core: core) }
        (listener, port) = try Self.bind(configuration.address)
    }

    static func bind(_ address: ListenAddress) throws -> (Int32, UInt16) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(address.host, String(address.port), &hints, &result)
        guard status == 0, let first = result else {
            throw ServerError.cannotListen(address.description, String(cString: gai_strerror(status)))
        }
        defer { freeaddrinfo(result) }
        var lastError = "no usable address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(
                info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue),
                info.pointee.ai_protocol)
            guard fd >= 0 else { continue }
            var one: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            guard Glibc.bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0, listen(fd, 1024) == 0 else {
                lastError = String(cString: strerror(errno))
                close(fd)
                continue
            }
            var storage = sockaddr_storage()
            var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
            let port = withUnsafeMutablePointer(to: &storage) { pointer -> UInt16 in
                _ = pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
                if pointer.pointee.ss_family == sa_family_t(AF_INET6) {
                    return pointer.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) {
                        UInt16(bigEndian: $0.pointee.sin6_port)
                    }
                }
                return pointer.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
                    UInt16(bigEndian: $0.pointee.sin_port)
                }
            }
            return (fd, port)
        }
        throw ServerError.cannotListen(address.description, lastError)
    }

    package var activeConnections: Int { core.active.load(ordering: .acquiring) }

    /// The most bytes one connection's request parser has held so far (bounded by the limits and one read).
    var peakParserBytes: Int { core.peakParserBytes.load(ordering: .relaxed) }
    /// Streamed answers cut short because their producer failed.
    var streamFailures: Int { core.streamFailures.load(ordering: .relaxed) }

    /// Threads the handler pool has started (at most `handlerThreads`).
    package var handlerThreadCount: Int { core.pool.threadCount }

    /// Accepts connections until `shutdown()`, then waits for in-flight requests (up to `drainTimeout`).
    ///
    /// The listener is polled rather than blocked on, so shutdown can first accept what is already in the
    /// kernel's backlog: a client that connected and sent its request before the signal is served, not reset.
    package func run() {
        let finished = Atomic<Int>(0)
        for (index, loop) in loops.enumerated() {
            let thread = Thread {
                loop.run()
                finished.add(1, ordering: .acquiringAndReleasing)
            }
            thread.name = "residency-loop-\(index)"
            thread.stackSize = 4 << 20
            thread.start()
        }
        var next = 0
        func handOff(_ client: Int32, duringShutdown: Bool) {
            guard admit(client) else { return }
            loops[next % loops.count].post(.adopt(client, acceptedDuringShutdown: duringShutdown))
            next &+= 1
        }
        while true {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 250)
            if isShuttingDown {
                _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
                while case let client = accept(listener, nil, nil), client >= 0 {
                    handOff(client, duringShutdown: true)
                }
                break
            }
            guard ready > 0 else { continue }
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EMFILE || errno == ENFILE { usleep(10_000) }  // out of descriptors: back off, don't spin
                continue
            }
            handOff(client, duringShutdown: false)
        }
        close(listener)
        for loop in loops { loop.post(.stop) }
        let deadline = Date().addingTimeInterval(configuration.drainTimeout)
        // A loop leaves only once every request it handed to the pool has been answered, so this also waits
        // for handlers whose clients have gone.
        while finished.load(ordering: .acquiring) < loops.count && Date() < deadline { usleep(20_000) }
    }

    /// Counts the connection in, or answers 503 and closes it when the server is full. The socket leaves here
    /// non-blocking: the event loops never wait on one client.
    private func admit(_ client: Int32) -> Bool {
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let admitted =
            core.active.add(1, ordering: .acquiringAndReleasing).newValue <= configuration.maximumConnections
        guard admitted else {
            core.active.subtract(1, ordering: .acquiringAndReleasing)
            // A short answer into an empty socket buffer: it does not block, and if it would, it is dropped.
            let bytes = ConnectionMachine.capacityRefusal(
                maximum: configuration.maximumConnections, configuration: core.machineConfiguration)
            _ = bytes.withUnsafeBytes {
                Glibc.send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            close(client)
            return false
        }
        _ = fcntl(client, F_SETFL, fcntl(client, F_GETFL) | O_NONBLOCK)
        return true
    }

    /// Stops accepting; connections finish their current request and close.
    package func shutdown() {
        core.shuttingDown.store(true, ordering: .releasing)
    }

    var isShuttingDown: Bool { core.isShuttingDown }

}

package enum ServerError: Error, Sendable, CustomStringConvertible {
    case cannotListen(String, String)

    package var description: String {
        switch self {
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        }
    }
}
