import CLinux
import Foundation
import ResidencyTLS
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// One thread serving many connections: epoll tells it which sockets can be read or written, and it never
/// blocks on any one of them.
///
/// The loop is glue: it moves bytes between sockets (through TLS when served) and each connection's
/// `ConnectionMachine`, which decides what HTTP requires — what to read, send, answer, when to close — and it
/// carries out those decisions. A request the machine hands out is answered on the loop itself when
/// `inlineHandler` can answer it without blocking (a placement, a health check, a directory read) — no thread
/// hand-off, which is what makes the hot path fast — and otherwise by the handler pool, while the loop goes on
/// serving its other connections. Sockets are non-blocking and level-triggered; deadlines are checked every
/// 250 ms.
///
/// Output is written once per epoll batch: the events of one `epoll_wait` are read and answered first, and the
/// connections they left with output are written after, each with one `send` for all its answers. A slow reader
/// holds up no one — a send takes what the kernel takes and the rest waits for EPOLLOUT — and the loop's work
/// between reads is the parsing and answering alone, with the sends together at the end.
final class EventLoop: @unchecked Sendable {
    // Thread confinement: `connections`, `readBuffer`, `stopping`, `awaitedAnswers` and every Connection are
    // touched only by the loop's own thread (inside `run`). Other threads reach the loop only through `post`,
    // which locks `inbox` and writes to the eventfd.
    enum Message {
        case adopt(Int32, acceptedDuringShutdown: Bool)
        case answered(connection: UInt64, descriptor: Int32, response: HTTPResponse)
        /// A streamed answer's producer left a piece in its channel.
        case pieceReady(connection: UInt64, descriptor: Int32)
        /// A streamed answer's producer returned or threw; its outcome is in the channel.
        case streamDone(connection: UInt64, descriptor: Int32)
        /// The server accepts no more connections: close idle ones, finish the rest, then leave.
        case stop
    }

    private let core: ServerCore
    private let epoll: Int32
    private let wake: Int32
    private let inbox = Mutex<[Message]>([])
    // The loop's own state is touched by its thread alone (above), so it goes without run-time exclusivity
    // checks, like `Connection`'s.
    @exclusivity(unchecked) private var connections: [Int32: Connection] = [:]
    private var stopping = false
    /// Requests handed to the pool whose answers have not come back, including those of connections closed
    /// meanwhile: the loop outlives them, so no handler ever posts to a closed eventfd (whose number the
    /// kernel may have given to a database file by then).
    private var awaitedAnswers = 0
    /// Inside an epoll batch: output is queued, and written by `flushBatch` once the batch is handled.
    @exclusivity(unchecked) private var batching = false
    /// Connections with output queued during the batch, in the order they first queued it.
    @exclusivity(unchecked) private var awaitingFlush: [Connection] = []
    private let readBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
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
            batching = true
            for index in 0..<max(0, Int(count)) {
                let event = events[index]
                if event.data.u64 == Self.wakeMarker {
                    receiveMessages()
                    continue
                }
                let descriptor = Int32(truncatingIfNeeded: event.data.u64)
                guard let connection = connections[descriptor] else { continue }
                if event.events & Self.writable != 0 { perform([], on: connection, now: Self.now()) }
                if event.events & (Self.readable | Self.hangUp) != 0, connections[descriptor] === connection {
                    receive(connection, events: event.events)
                }
            }
            batching = false
            flushBatch()
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
            case .answered(let id, let descriptor, let response):
                awaitedAnswers -= 1
                // The client may have gone while its handler ran; the answer then has nowhere to go.
                guard let connection = connections[descriptor], connection.id == id else { continue }
                let now = Self.now()
                let actions = connection.machine.answered(response, serverIsStopping: core.isShuttingDown, now: now)
                perform(actions, on: connection, now: now)
            case .pieceReady(let id, let descriptor):
                guard let connection = connections[descriptor], connection.id == id else { continue }
                pullStream(connection)
            case .streamDone(let id, let descriptor):
                awaitedAnswers -= 1
                guard let connection = connections[descriptor], connection.id == id else { continue }
                pullStream(connection)
            case .stop:
                stopping = true
                sweep(now: Self.now())
            }
        }
    }

    private func adopt(_ descriptor: Int32, acceptedDuringShutdown: Bool) {
        let machine = ConnectionMachine(
            configuration: core.machineConfiguration, now: Self.now(), acceptedDuringShutdown: acceptedDuringShutdown)
        let connection = Connection(
            descriptor: descriptor, id: core.nextConnectionID.add(1, ordering: .relaxed).oldValue, machine: machine,
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

    // MARK: Reading

    /// One read per readiness event (level-triggered: more data means another event), handed to the machine.
    ///
    /// Nothing is read while the machine does not ask for it, even when an event gathered before it stopped says
    /// the socket could be read: that is what holds the parser's buffer to one unfinished request and one read,
    /// whatever a pipelining client sends.
    private func receive(_ connection: Connection, events: UInt32) {
        guard connection.machine.interest.reads else {
            // A hang-up or an error is reported whatever the interest; the client is gone or broken.
            if events & Self.hangUp != 0 { drop(connection) }
            return
        }
        let count = recv(connection.descriptor, readBuffer.baseAddress, readBuffer.count, 0)
        if count < 0 {
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { return }
            drop(connection)
            return
        }
        let now = Self.now()
        if count == 0 {
            perform(connection.machine.peerClosed(now: now), on: connection, now: now)
            return
        }
        let bytes = UnsafeRawBufferPointer(rebasing: readBuffer[0..<count])
        guard let tls = connection.tls, !connection.machine.isDiscardingInput else {
            perform(connection.machine.received(bytes, now: now), on: connection, now: now)
            notePeakParserBytes(of: connection)
            return
        }
        // Ciphertext in, plaintext to the machine; what the handshake answers goes out with the responses. The
        // read buffer is free once the ciphertext is in the session, and records are decrypted into it.
        var plaintext: [UInt8] = []
        switch tls.receive(bytes, plaintext: &plaintext, wire: &connection.output, scratch: readBuffer) {
        case .failed:
            // Not TLS, another version, or a broken record: there is no one to answer in HTTP.
            flushThenDrop(connection)
        case .closed:
            // The session's last words go out before the machine decides what the end means.
            perform([], on: connection, now: now, writingNow: true)
            guard connections[connection.descriptor] === connection else { return }
            perform(connection.machine.peerClosedSession(now: now), on: connection, now: now)
        case .data:
            perform(connection.machine.received(plaintext, now: now), on: connection, now: now)
            notePeakParserBytes(of: connection)
        }
    }

    private func notePeakParserBytes(of connection: Connection) {
        let held = connection.machine.heldBytes
        if held > core.peakParserBytes.load(ordering: .relaxed) { core.peakParserBytes.max(held, ordering: .relaxed) }
    }

    // MARK: Carrying out the machine's actions

    /// Carries out the machine's actions, then writes what they queued — at once, or inside an epoll batch when
    /// the batch is handled (`flushBatch`) unless `writingNow`; what the writing changes (output that ran dry lets
    /// a held connection answer again, a closing one close) may call for more, until nothing is left to do
    /// without waiting.
    private func perform(
        _ initial: [ConnectionMachine.Action], on connection: Connection, now: Double, writingNow: Bool = false
    ) {
        var actions = initial
        var index = 0
        while true {
            while index < actions.count {
                let action = actions[index]
                index += 1
                switch action {
                case .send(let bytes):
                    append(bytes, to: connection)
                case .endOutput:
                    connection.tls?.close(into: &connection.output)
                case .answer(var request):
                    // Under mutual TLS, who the peer proved to be at the handshake (services give peers different rights).
                    request.peerPin = connection.tls?.peerPin
                    request.bearerMemo = connection.bearerMemo
                    if let response = core.inlineHandler(request) {
                        let more = connection.machine.answered(
                            response, serverIsStopping: core.isShuttingDown, now: now)
                        if index == actions.count {
                            // The answer was the last action: its own array goes on, no copy into this one.
                            actions = more
                            index = 0
                        } else {
                            actions += more
                        }
                    } else {
                        dispatch(request, from: connection)
                    }
                case .shutdownWrite:
                    shutdown(connection.descriptor, Int32(SHUT_WR))
                case .close:
                    drop(connection)
                    return
                case .startStream(let stream):
                    startStream(stream, on: connection)
                case .pullStream:
                    actions += takePiece(of: connection, now: now)
                }
            }
            guard connection.hasPendingOutput || connection.machine.unsentBytes > 0 else { break }
            if batching && !writingNow {
                // Written with the rest of the batch's output; the interest is settled then.
                if !connection.awaitsFlush {
                    connection.awaitsFlush = true
                    awaitingFlush.append(connection)
                }
                return
            }
            guard let more = writeOutput(of: connection, now: now) else { return }
            guard !more.isEmpty else { break }
            actions = more
            index = 0
        }
        updateInterest(connection)
    }

    /// Writes the output the batch's events queued, connection by connection (one send each, unless the kernel
    /// takes less), and carries out what the writing calls for. A connection dropped meanwhile is skipped: its
    /// descriptor may already be another's.
    private func flushBatch() {
        guard !awaitingFlush.isEmpty else { return }
        let now = Self.now()
        for connection in awaitingFlush {
            connection.awaitsFlush = false
            guard connections[connection.descriptor] === connection else { continue }
            perform([], on: connection, now: now)
        }
        awaitingFlush.removeAll(keepingCapacity: true)
    }

    private func dispatch(_ request: HTTPRequest, from connection: Connection) {
        awaitedAnswers += 1
        let id = connection.id
        let descriptor = connection.descriptor
        core.pool.submit { [core, self] in
            post(.answered(connection: id, descriptor: descriptor, response: core.handler(request)))
        }
    }

    /// Runs a streamed answer's producer on the handler pool. Counted with the awaited answers, so the loop
    /// outlives it; the channel it writes to is cancelled when the connection goes (`drop`), which stops it.
    private func startStream(_ stream: ResponseStream, on connection: Connection) {
        awaitedAnswers += 1
        let id = connection.id
        let descriptor = connection.descriptor
        let channel = ResponseChannel { [self] in post(.pieceReady(connection: id, descriptor: descriptor)) }
        connection.stream = channel
        core.pool.submit { [core, self] in
            var succeeded = true
            do {
                try stream.produce(ResponseStream.Writer(put: channel.put))
            } catch {
                succeeded = false
                // A reader that left is no failure of ours; anything else cut a body short, and is counted.
                if !(error is ResponseStreamCancelled) { core.streamFailures.add(1, ordering: .relaxed) }
            }
            channel.finish(succeeded: succeeded)
            post(.streamDone(connection: id, descriptor: descriptor))
        }
    }

    /// The next piece of a streamed answer, once everything before it is written.
    private func takePiece(of connection: Connection, now: Double) -> [ConnectionMachine.Action] {
        guard connection.machine.awaitsPiece, !connection.hasPendingOutput, let channel = connection.stream else {
            return []
        }
        switch channel.take() {
        case .piece(let piece): return connection.machine.streamed(piece, now: now)
        case .finished(let succeeded):
            connection.stream = nil
            return connection.machine.streamEnded(succeeded: succeeded, now: now)
        case .nothing: return []
        }
    }

    private func pullStream(_ connection: Connection) {
        let now = Self.now()
        let actions = takePiece(of: connection, now: now)
        if !actions.isEmpty { perform(actions, on: connection, now: now) }
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

    /// Writes what the kernel takes now (the rest waits for EPOLLOUT) and tells the machine; nil when the socket
    /// failed and the connection is gone.
    private func writeOutput(of connection: Connection, now: Double) -> [ConnectionMachine.Action]? {
        var accepted = 0
        while connection.hasPendingOutput {
            let written = connection.output.withUnsafeBytes {
                send(
                    connection.descriptor, $0.baseAddress! + connection.outputOffset, connection.pendingOutputCount,
                    Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK { break }
                drop(connection)
                return nil
            }
            connection.outputOffset += written
            accepted += written
        }
        if !connection.hasPendingOutput {
            connection.output.removeAll(keepingCapacity: connection.output.capacity <= 64 * 1024)
            connection.outputOffset = 0
        }
        return connection.machine.wrote(accepted, unsent: connection.pendingOutputCount, now: now)
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

    /// Registers the readiness the machine waits for, when it changed.
    private func updateInterest(_ connection: Connection) {
        let interest = connection.machine.interest
        let wanted = (interest.reads ? Self.readable : 0) | (interest.writes ? Self.writable : 0)
        guard wanted != connection.interest else { return }
        var event = epoll_event()
        event.events = wanted
        event.data.u64 = UInt64(UInt32(bitPattern: connection.descriptor))
        epoll_ctl(epoll, EPOLL_CTL_MOD, connection.descriptor, &event)
        connection.interest = wanted
    }

    private func drop(_ connection: Connection) {
        connection.stream?.cancel()
        connection.stream = nil
        epoll_ctl(epoll, EPOLL_CTL_DEL, connection.descriptor, nil)
        close(connection.descriptor)
        connections[connection.descriptor] = nil
        core.active.subtract(1, ordering: .acquiringAndReleasing)
    }

    // MARK: Deadlines and shutdown

    /// Ticks the connections whose deadline has passed — every connection while stopping, when those waiting for
    /// a request close unless one is already waiting unread.
    private func sweep(now: Double) {
        for connection in Array(connections.values) {
            guard stopping || connection.machine.deadline.map({ now >= $0 }) == true else { continue }
            let actions = connection.machine.tick(now: now, serverIsStopping: stopping) {
                var descriptor = pollfd(fd: connection.descriptor, events: Int16(POLLIN), revents: 0)
                return poll(&descriptor, 1, 0) > 0
            }
            if !actions.isEmpty { perform(actions, on: connection, now: now) }
        }
    }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }
}
