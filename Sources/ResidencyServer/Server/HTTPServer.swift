import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// HTTP/1.1 over POSIX sockets.
///
/// One accept thread hands each connection to a thread of its own, up to `maximumConnections`; past that a
/// connection is answered 503 at once, so a flood cannot exhaust threads or starve connections already
/// served. Blocking calls stay off Swift's cooperative pool. Each connection waits with `poll` in short
/// slices, which bounds idle keep-alive time and slow clients (a request must arrive whole within
/// `requestTimeout` of its first byte, else 408) and lets shutdown reach idle connections promptly.
public final class HTTPServer: Sendable {
    public struct Configuration: Sendable {
        public var address: ListenAddress
        public var maximumConnections = 512
        /// Seconds a keep-alive connection may wait for its next request.
        public var idleTimeout = 30.0
        /// Seconds from a request's first byte to its last.
        public var requestTimeout = 10.0
        /// Seconds a response write may block on a client that does not read.
        public var writeTimeout = 10.0
        /// Seconds shutdown waits for in-flight requests.
        public var drainTimeout = 15.0
        public var limits = HTTPLimits()

        public init(address: ListenAddress) { self.address = address }
    }

    public let configuration: Configuration
    /// The port actually bound (useful with port 0).
    public let port: UInt16
    private let listener: Int32
    private let handler: @Sendable (HTTPRequest) -> HTTPResponse
    private let rejecter: @Sendable (Int, String) -> HTTPResponse
    /// Atomics, not a lock: every request reads them, from many threads.
    private let active = Atomic<Int>(0)
    private let shuttingDown = Atomic<Bool>(false)

    /// Binds and listens. `handler` answers every request; `rejecter` builds the response for a request that
    /// could not be parsed or admitted (status and message).
    public init(
        configuration: Configuration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        rejecter: @escaping @Sendable (Int, String) -> HTTPResponse
    ) throws {
        self.configuration = configuration
        self.handler = handler
        self.rejecter = rejecter
        signal(SIGPIPE, SIG_IGN)
        // A file-size limit (ulimit -f) must turn into write errors the API reports, not kill the server.
        signal(SIGXFSZ, SIG_IGN)
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

    public var activeConnections: Int { active.load(ordering: .acquiring) }

    /// Accepts connections until `shutdown()`, then waits for in-flight requests (up to `drainTimeout`).
    ///
    /// The listener is polled rather than blocked on, so shutdown can first accept what is already in the
    /// kernel's backlog: a client that connected and sent its request before the signal is served, not reset.
    public func run() {
        while true {
            var descriptor = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            let ready = poll(&descriptor, 1, 250)
            if isShuttingDown {
                _ = fcntl(listener, F_SETFL, fcntl(listener, F_GETFL) | O_NONBLOCK)
                while case let client = accept(listener, nil, nil), client >= 0 { admit(client, duringShutdown: true) }
                break
            }
            guard ready > 0 else { continue }
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EMFILE || errno == ENFILE { usleep(10_000) }  // out of descriptors: back off, don't spin
                continue
            }
            admit(client, duringShutdown: false)
        }
        close(listener)
        let deadline = Date().addingTimeInterval(configuration.drainTimeout)
        while activeConnections > 0 && Date() < deadline { usleep(20_000) }
    }

    /// Hands an accepted connection to a thread of its own, or answers 503 when the server is full.
    private func admit(_ client: Int32, duringShutdown: Bool) {
        _ = fcntl(client, F_SETFD, FD_CLOEXEC)
        var timeout = timeval(tv_sec: Int(configuration.writeTimeout), tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var slice = timeval(tv_sec: 0, tv_usec: 250_000)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &slice, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(client, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        let admitted = active.add(1, ordering: .acquiringAndReleasing).newValue <= configuration.maximumConnections
        if !admitted { active.subtract(1, ordering: .acquiringAndReleasing) }
        guard admitted else {
            let response = rejecter(
                503, "the server is at its limit of \(configuration.maximumConnections) connections; retry shortly")
            Self.send(client, response.serialized(keepAlive: false))
            close(client)
            return
        }
        let thread = Thread { [self] in
            serve(client, acceptedDuringShutdown: duringShutdown)
            close(client)
            active.subtract(1, ordering: .acquiringAndReleasing)
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Stops accepting; connections finish their current request and close.
    public func shutdown() {
        shuttingDown.store(true, ordering: .releasing)
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }

    private func serve(_ fd: Int32, acceptedDuringShutdown: Bool) {
        // A connection taken from the backlog at shutdown gets one chance to deliver its request.
        var mustServeOne = acceptedDuringShutdown
        var parser = HTTPRequestParser(limits: configuration.limits)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var continueSent = false
        var requestStarted: Double?
        while true {
            // Answer every complete request in the buffer, in order (pipelining).
            while true {
                let next: HTTPRequestParser.Next
                do {
                    next = try parser.next()
                } catch {
                    Self.send(fd, rejecter(error.status, error.message).serialized(keepAlive: false))
                    return
                }
                guard case .request(let request) = next else {
                    if case .needMore(true) = next, !continueSent {
                        Self.send(fd, Array("HTTP/1.1 100 Continue\r\n\r\n".utf8))
                        continueSent = true
                    }
                    break
                }
                continueSent = false
                mustServeOne = false
                requestStarted = parser.isIdle ? nil : Self.now()
                let response = handler(request)
                let keepAlive = request.keepsAlive && !isShuttingDown
                guard Self.send(fd, response.serialized(keepAlive: keepAlive, omitBody: request.method == "HEAD")),
                    keepAlive
                else { return }
            }
            // Wait for more bytes, in slices short enough to notice shutdown.
            var idle = parser.isIdle && !mustServeOne
            if idle && isShuttingDown {
                // Leave only if no request is already waiting: closing over unread bytes resets the connection.
                var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
                guard poll(&descriptor, 1, 0) > 0 else { return }
                mustServeOne = true
                idle = false
            }
            let deadline = idle ? nil : (requestStarted ?? Self.now()) + configuration.requestTimeout
            // recv blocks for at most one 250 ms slice (SO_RCVTIMEO), then deadlines and shutdown are checked:
            // one system call per wait instead of poll and recv.
            var waited = 0.0
            var count = 0
            while true {
                count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                if count >= 0 { break }
                guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else { return }
                waited += 0.25
                if idle && (isShuttingDown || waited >= configuration.idleTimeout) { return }
                if let deadline, Self.now() >= deadline {
                    Self.send(
                        fd,
                        rejecter(408, "the request did not arrive within \(Int(configuration.requestTimeout)) seconds")
                            .serialized(keepAlive: false))
                    return
                }
            }
            if count == 0 { return }
            if parser.isIdle { requestStarted = Self.now() }
            parser.append(buffer[0..<count])
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

    /// Writes all of `bytes`; false when the peer is gone or too slow.
    @discardableResult
    static func send(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return false
            }
            offset += written
        }
        return true
    }
}

public enum ServerError: Error, Sendable, CustomStringConvertible {
    case cannotListen(String, String)

    public var description: String {
        switch self {
        case .cannotListen(let address, let reason): return "cannot listen on \(address): \(reason)"
        }
    }
}
