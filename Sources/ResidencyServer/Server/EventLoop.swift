import ResidencyTLS
import CLinux
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// What every event loop shares: the configuration, the handlers and the server-wide counters.
final class ServerCore: Sendable {
    let configuration: HTTPServer.Configuration
    let handler: @Sendable (HTTPRequest) -> HTTPResponse
    let rejecter: @Sendable (Int, String) -> HTTPResponse
    let inlineHandler: @Sendable (HTTPRequest) -> HTTPResponse?
    let pool: HandlerPool
    /// Open connections, across loops.
    let active = Atomic<Int>(0)
    let shuttingDown = Atomic<Bool>(false)
    let nextConnectionID = Atomic<UInt64>(1)
    /// The most bytes any connection's parser has held, for tests that hold it bounded. One relaxed load per
    /// read; written only when it grows.
    let peakParserBytes = Atomic<Int>(0)

    init(
        configuration: HTTPServer.Configuration, handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse,
        rejecter: @escaping @Sendable (Int, String) -> HTTPResponse,
        inlineHandler: @escaping @Sendable (HTTPRequest) -> HTTPResponse?
    ) {
        self.configuration = configuration
        self.handler = handler
        self.rejecter = rejecter
        self.inlineHandler = inlineHandler
        self.pool = HandlerPool(maximum: configuration.handlerThreads)
    }

    var isShuttingDown: Bool { shuttingDown.load(ordering: .acquiring) }
}

/// One thread serving many connections: epoll tells it which sockets can be read or written, and it never
/// blocks on any one of them.
///
/// A complete request is answered on the loop itself when `inlineHandler` can answer it without blocking (a
/// placement, a health check, a directory read) — no thread hand-off, which is what makes the hot path fast —
/// and otherwise by the handler pool, while the loop goes on serving its other connections. Requests of one
/// connection are answered strictly in order: nothing more of it is read until its pending answer is queued.
/// Sockets are non-blocking and level-triggered; a connection whose output the client does not read stops
/// being read (back-pressure) and is closed after `writeTimeout`. Deadlines are checked every 250 ms.
final class EventLoop: @unchecked Sendable {
    // Thread confinement: `connections`, `readBuffer`, `stopping`, `awaitedAnswers` and every Connection are
    // touched only by the loop's own thread (inside `run`). Other threads reach the loop only through `post`,
    // which locks `inbox` and writes to the eventfd.
    enum Message {
        case adopt(Int32, acceptedDuringShutdown: Bool)
        case answered(connection: UInt64, descriptor: Int32, bytes: [UInt8], keepAlive: Bool)
        /// The server accepts no more connections: close idle ones, finish the rest, then leave.
        case stop
    }

    private let core: ServerCore
    private let epoll: Int32
    private let wake: Int32
    private let inbox = Mutex<[Message]>([])
    private var connections: [Int32: Connection] = [:]
    private var stopping = false
    /// Requests handed to the pool whose answers have not come back, including those of connections closed
    /// meanwhile: the loop outlives them, so no handler ever posts to a closed eventfd (whose number the
    /// kernel may have given to a database file by then).
    private var awaitedAnswers = 0
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    /// Past this much unsent output, a connection's further requests wait until the client reads.
    private static let outputHighWater = 256 * 1024
    private static let readable = EPOLLIN.rawValue
    private static let writable = EPOLLOUT.rawValue
    private static let hangUp = EPOLLHUP.rawValue | EPOLLERR.rawValue
    private static let wakeMarker = UInt64.max

    init(core: ServerCore) throws {
        self.core = core
        epoll = epoll_create1(Int32(EPOLL_CLOEXEC))
        wake = eventfd(0, Int32(EFD_NONBLOCK) | Int32(EFD_CLOEXEC))
        guard epoll >= 0, wake >= 0 else {
            throw ServerError.cannotListen("event loop", String(cString: strerror(errno)))
        }
        var event = epoll_event()
        event.events = Self.readable
        event.data.u64 = Self.wakeMarker
        epoll_ctl(epoll, EPOLL_CTL_ADD, wake, &event)
    }

    deinit {
        readBuffer.deallocate()
    }

    /// Hands the loop a message from any thread.
    func post(_ message: Message) {
        inbox.withLock { $0.append(message) }
        var one: UInt64 = 1
        _ = write(wake, &one, 8)
    }

    /// Serves until stopped and every connection is closed.
    func run() {
        var events = [epoll_event](repeating: epoll_event(), count: 256)
        var lastSweep = Self.now()
        while !(stopping && connections.isEmpty && awaitedAnswers == 0) {
            let count = events.withUnsafeMutableBufferPointer {
                epoll_wait(epoll, $0.baseAddress, Int32($0.count), 250)
            }
            for index in 0..<max(0, Int(count)) {
                let event = events[index]
                if event.data.u64 == Self.wakeMarker {
                    receiveMessages()
                    continue
                }
                let descriptor = Int32(truncatingIfNeeded: event.data.u64)
                guard let connection = connections[descriptor] else { continue }
                if event.events & Self.writable != 0 {
                    flush(connection)
                    if connections[descriptor] === connection, !connection.hasPendingOutput { service(connection) }
                }
                if event.events & (Self.readable | Self.hangUp) != 0, connections[descriptor] === connection {
                    receive(connection, events: event.events)
                }
            }
            let now = Self.now()
            if now - lastSweep >= 0.25 {
                lastSweep = now
                sweep(now: now)
            }
        }
        close(epoll)
        close(wake)
    }

    // MARK: Messages

    private func receiveMessages() {
        var counter: UInt64 = 0
        _ = read(wake, &counter, 8)
        let messages = inbox.withLock { inbox -> [Message] in
            defer { inbox.removeAll(keepingCapacity: true) }
            return inbox
        }
        for message in messages {
            switch message {
            case .adopt(let descriptor, let duringShutdown):
                adopt(descriptor, acceptedDuringShutdown: duringShutdown)
            case .answered(let id, let descriptor, let bytes, let keepAlive):
                awaitedAnswers -= 1
                // The client may have gone while its handler ran; the answer then has nowhere to go.
                guard let connection = connections[descriptor], connection.id == id else { continue }
                connection.awaitingHandler = false
                queue(bytes, keepAlive: keepAlive, on: connection)
                service(connection)
            case .stop:
                stopping = true
                sweep(now: Self.now())
            }
        }
    }

    private func adopt(_ descriptor: Int32, acceptedDuringShutdown: Bool) {
        let connection = Connection(
            descriptor: descriptor, id: core.nextConnectionID.add(1, ordering: .relaxed).oldValue,
            limits: core.configuration.limits, now: Self.now(), acceptedDuringShutdown: acceptedDuringShutdown,
            interest: Self.readable)
        var event = epoll_event()
        event.events = Self.readable
        event.data.u64 = UInt64(UInt32(bitPattern: descriptor))
        if let context = core.configuration.tls {
            do {
                connection.tls = try TLSSession(context: context)
            } catch {
                close(descriptor)
                core.active.subtract(1, ordering: .acquiringAndReleasing)
                return
            }
        }
        guard epoll_ctl(epoll, EPOLL_CTL_ADD, descriptor, &event) == 0 else {
            close(descriptor)
            core.active.subtract(1, ordering: .acquiringAndReleasing)
            return
        }
        connections[descriptor] = connection
    }

    // MARK: Reading and answering

    /// One read per readiness event (level-triggered: more data means another event), then every complete
    /// request in the buffer is answered.
    ///
    /// Nothing is read while the connection is not taking requests (see `takesInput`), even when an event
    /// gathered before it stopped says it could: that is what holds the parser's buffer to one unfinished
    /// request and one read, whatever a pipelining client sends.
    private func receive(_ connection: Connection, events: UInt32) {
        if connection.lingerDeadline == nil && !takesInput(connection) {
            // A hang-up or an error is reported whatever the interest; the client is gone or broken.
            if events & Self.hangUp != 0 { drop(connection) }
            return
        }
        let count = recv(connection.descriptor, readBuffer.baseAddress, readBuffer.count, 0)
        if connection.lingerDeadline != nil {
            // Discarding: only the client's close (or an error) ends it early.
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
                drop(connection)
            }
            return
        }
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            drop(connection)
            return
        }
        if count == 0 {
            // The client finished sending. What it already sent has been answered or is being answered; a
            // handler's answer in progress has no reader left that HTTP can rely on.
            if connection.hasPendingOutput && !connection.awaitingHandler {
                connection.closeAfterWrite = true
                updateInterest(connection)
            } else {
                drop(connection)
            }
            return
        }
        let now = Self.now()
        if connection.parser.isIdle { connection.requestStarted = connection.requestStarted ?? now }
        connection.lastActivity = now
        if let tls = connection.tls {
            // Ciphertext in, plaintext to the parser; what the handshake answers goes out with the responses.
            var plaintext: [UInt8] = []
            switch tls.receive(
                UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), plaintext: &plaintext, wire: &connection.output)
            {
            case .failed:
                // Not TLS, another version, or a broken record: there is no one to answer in HTTP.
                flushThenDrop(connection)
                return
            case .closed:
                if !plaintext.isEmpty { connection.parser.append(plaintext) }
                connection.closeAfterWrite = true
                service(connection)
                return
            case .data:
                if plaintext.isEmpty {
                    flush(connection)
                    return
                }
                connection.parser.append(plaintext)
            }
        } else {
            connection.parser.append(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]))
        }
        let held = connection.parser.heldBytes
        if held > core.peakParserBytes.load(ordering: .relaxed) { core.peakParserBytes.max(held, ordering: .relaxed) }
        service(connection)
    }

    /// Answers the connection's complete requests in order, as far as it can without waiting, then writes.
    /// Answering pauses at `outputHighWater` bytes of unsent output; when the kernel then takes all of it at
    /// once, no event will come to resume (the client may have sent everything already), so it resumes here.
    private func service(_ connection: Connection) {
        while true {
            let pausedForOutput = answerBufferedRequests(connection)
            flush(connection)
            guard pausedForOutput, connections[connection.descriptor] === connection, !connection.hasPendingOutput
            else { return }
        }
    }

    /// Answers complete requests until one goes to the pool, the connection is closing, no complete request
    /// is left, or the output reaches the high-water mark — which is what it answers true for.
    private func answerBufferedRequests(_ connection: Connection) -> Bool {
        while !connection.awaitingHandler && !connection.closeAfterWrite {
            guard connection.pendingOutputCount < Self.outputHighWater else {
                connection.mayHoldRequests = true
                return true
            }
            let next: HTTPRequestParser.Next
            do {
                next = try connection.parser.next()
            } catch {
                connection.lingers = true
                queue(
                    core.rejecter(error.status, error.message).serialized(keepAlive: false), keepAlive: false,
                    on: connection)
                return false
            }
            guard case .request(var request) = next else {
                connection.mayHoldRequests = false
                if case .needMore(true) = next, !connection.continueSent {
                    append(Self.continueLine, to: connection)
                    connection.continueSent = true
                }
                return false
            }
            request.peerPin = connection.tls?.peerPin
            connection.continueSent = false
            connection.mustServeOne = false
            connection.mayHoldRequests = true
            connection.requestStarted = connection.parser.isIdle ? nil : Self.now()
            if let response = core.inlineHandler(request) {
                let keepAlive = request.keepsAlive && !core.isShuttingDown
                queue(
                    response.serialized(keepAlive: keepAlive, omitBody: request.method == "HEAD"),
                    keepAlive: keepAlive, on: connection)
            } else {
                dispatch(request, from: connection)
            }
        }
        return false
    }

    private static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    private func dispatch(_ request: HTTPRequest, from connection: Connection) {
        connection.awaitingHandler = true
        awaitedAnswers += 1
        let id = connection.id
        let descriptor = connection.descriptor
        core.pool.submit { [core, self] in
            let response = core.handler(request)
            let keepAlive = request.keepsAlive && !core.isShuttingDown
            let bytes = response.serialized(keepAlive: keepAlive, omitBody: request.method == "HEAD")
            post(.answered(connection: id, descriptor: descriptor, bytes: bytes, keepAlive: keepAlive))
        }
    }

    private func queue(_ bytes: [UInt8], keepAlive: Bool, on connection: Connection) {
        append(bytes, to: connection)
        if !keepAlive {
            connection.closeAfterWrite = true
            connection.tls?.close(into: &connection.output)
        }
        connection.lastActivity = Self.now()
    }

    /// Response bytes onto the connection's output: as they are, or sealed in TLS records.
    private func append(_ bytes: [UInt8], to connection: Connection) {
        if let tls = connection.tls {
            tls.seal(bytes, into: &connection.output)
        } else if connection.output.isEmpty {
            connection.output = bytes
        } else {
            connection.output.append(contentsOf: bytes)
        }
    }

    /// Sends what is queued (a TLS alert, say) if the kernel takes it now, then closes.
    private func flushThenDrop(_ connection: Connection) {
        if connection.hasPendingOutput {
            _ = connection.output.withUnsafeBytes {
                send(
                    connection.descriptor, $0.baseAddress! + connection.outputOffset, connection.pendingOutputCount,
                    Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
        }
        drop(connection)
    }

    // MARK: Writing

    /// Writes what the kernel takes now; the rest waits for EPOLLOUT.
    private func flush(_ connection: Connection) {
        while connection.hasPendingOutput {
            let written = connection.output.withUnsafeBytes {
                send(
                    connection.descriptor, $0.baseAddress! + connection.outputOffset, connection.pendingOutputCount,
                    Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    connection.writeStalledSince = connection.writeStalledSince ?? Self.now()
                    updateInterest(connection)
                    return
                }
                drop(connection)
                return
            }
            connection.outputOffset += written
            connection.writeStalledSince = nil
        }
        connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
        connection.outputOffset = 0
        connection.writeStalledSince = nil
        if connection.closeAfterWrite {
            if connection.lingers && connection.lingerDeadline == nil {
                shutdown(connection.descriptor, Int32(SHUT_WR))
                connection.lingerDeadline = Self.now() + Self.lingerSeconds
                updateInterest(connection)
            } else if connection.lingerDeadline == nil {
                drop(connection)
            }
            return
        }
        updateInterest(connection)
    }

    /// How long a refused connection's remaining input is read and discarded.
    private static let lingerSeconds = 2.0

    /// Whether the connection reads: not while a request is with the pool, the connection is closing, its
    /// output is past the high-water mark, or its parser may still hold a complete request not yet answered.
    private func takesInput(_ connection: Connection) -> Bool {
        !connection.awaitingHandler && !connection.closeAfterWrite && !connection.mayHoldRequests
            && connection.pendingOutputCount < Self.outputHighWater
    }

    /// Reads only when the connection can take another request; waits for writability only with output pending.
    private func updateInterest(_ connection: Connection) {
        var wanted: UInt32 = 0
        if connection.lingerDeadline != nil { wanted = Self.readable }
        if connection.hasPendingOutput { wanted |= Self.writable }
        if takesInput(connection) { wanted |= Self.readable }
        guard wanted != connection.interest else { return }
        var event = epoll_event()
        event.events = wanted
        event.data.u64 = UInt64(UInt32(bitPattern: connection.descriptor))
        epoll_ctl(epoll, EPOLL_CTL_MOD, connection.descriptor, &event)
        connection.interest = wanted
    }

    private func drop(_ connection: Connection) {
        epoll_ctl(epoll, EPOLL_CTL_DEL, connection.descriptor, nil)
        close(connection.descriptor)
        connections[connection.descriptor] = nil
        core.active.subtract(1, ordering: .acquiringAndReleasing)
    }

    // MARK: Deadlines and shutdown

    /// Idle keep-alive connections past `idleTimeout` close; a request not whole `requestTimeout` after its first
    /// byte gets 408; output the client has not taken for `writeTimeout` is abandoned. When stopping, idle
    /// connections close — unless a request is already waiting unread, which gets answered first (closing over
    /// unread bytes would reset the connection and lose the answer).
    private func sweep(now: Double) {
        let configuration = core.configuration
        for connection in Array(connections.values) {
            if let deadline = connection.lingerDeadline {
                if now >= deadline { drop(connection) }
                continue
            }
            if connection.awaitingHandler { continue }
            if connection.hasPendingOutput {
                if let since = connection.writeStalledSince, now - since >= configuration.writeTimeout {
                    drop(connection)
                }
                continue
            }
            if connection.parser.isIdle && !connection.mustServeOne {
                if stopping {
                    var descriptor = pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0)
                    if poll(&descriptor, 1, 0) > 0 {
                        connection.mustServeOne = true
                        connection.requestStarted = now
                    } else {
                        drop(connection)
                    }
                } else if now - connection.lastActivity >= configuration.idleTimeout {
                    drop(connection)
                }
                continue
            }
            // Bytes reset only the idle clock: a request that never completes — however busy its sender — is
            // cut off `requestTimeout` after its first byte.
            guard let started = connection.requestStarted else {
                connection.requestStarted = now
                continue
            }
            if now - started >= configuration.requestTimeout {
                let message = "the request did not arrive within \(Int(configuration.requestTimeout)) seconds"
                connection.lingers = true
                queue(core.rejecter(408, message).serialized(keepAlive: false), keepAlive: false, on: connection)
                flush(connection)
            }
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
