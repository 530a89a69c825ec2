/// One HTTP/1.1 connection's rules as a value: events in — bytes received, the peer closed, an answer ready, bytes
/// written, a tick of the clock — and actions out — send, answer a request, shut the write side, close.
///
/// It holds no socket, thread or clock: the event loop feeds it what happened and carries out what it asks, so
/// every rule can be tested byte by byte with a virtual clock (the model is swift-nio's
/// `HTTPServerPipelineHandler` and postgres-nio's `ConnectionStateMachine`). The rules:
///
/// - Requests are answered strictly in order, one at a time: while one is with the application (`answering`),
///   nothing more is read or answered, and pipelined requests wait in the kernel's buffer, not in ours — the
///   parser holds at most one unfinished request and one read.
/// - A streamed answer (`HTTPResponse.stream`) is sent as chunks (RFC 9112 §7.1; to an HTTP/1.0 peer, as bytes
///   ending with the connection): the head goes out, then each piece the producer hands over, the next taken only
///   once the socket has taken all before it (`pullStream`), so the output holds about one piece; then the last
///   chunk. Nothing is read meanwhile. A producer that fails cuts the connection (the peer sees the body end
///   short, never a complete-looking one); a peer that takes nothing for `writeTimeout` is cut off as ever.
/// - Past `outputHighWater` unsent bytes, answering pauses (`held`) and nothing is read until the peer has taken
///   all of it; a peer that takes nothing for `writeTimeout` is cut off.
/// - A request must arrive whole within `requestTimeout` of its first byte (an empty line before it counts) or is
///   answered 408; a keep-alive connection waiting for its next request closes after `idleTimeout`.
/// - `Connection: close`, HTTP/1.0 without keep-alive and a stopping server end the connection after the answer.
/// - A request the parser refuses (400, 413, 431, 501, 505…) and a 408 are answered, then the write side is shut
///   and what the peer still sends is read and discarded for `lingerTimeout` (`lingering`), so the refusal
///   reaches it instead of a reset.
///
/// `send` carries HTTP bytes; under TLS the loop seals them, and it reports what the socket took, TLS records
/// included, with `wrote`.
struct ConnectionMachine: Sendable {
    struct Configuration: Sendable {
        var limits = HTTPLimits()
        /// Seconds a keep-alive connection may wait for its next request.
        var idleTimeout = 30.0
        /// Seconds from a request's first byte to its last.
        var requestTimeout = 10.0
        /// Seconds unsent output may wait for a peer that reads nothing.
        var writeTimeout = 10.0
        /// Seconds a refused connection's remaining input is read and discarded before it is closed.
        var lingerTimeout = 2.0
        /// Unsent bytes past which answering, and reading with it, waits until the peer has taken them all.
        var outputHighWater = 256 * 1024
        /// The response to a request the connection refuses itself (a parse error, 408, 503), by status and
        /// reason.
        var rejection: @Sendable (Int, String) -> HTTPResponse

        init(rejection: @escaping @Sendable (Int, String) -> HTTPResponse) { self.rejection = rejection }
    }

    /// Where the connection is in its exchange of requests and answers.
    enum State: Equatable, Sendable {
        /// Waiting for a request: no byte of the next one has arrived. Reads; closes `idleTimeout` after the last
        /// activity.
        case idle
        /// Part of a request has arrived, its first byte at `since` — or, for a connection accepted while the
        /// server stops, one is expected. Reads; 408 if it is not whole `requestTimeout` after `since`.
        case receiving(since: Double)
        /// A complete request is with the application. Reads nothing and answers nothing else until its answer
        /// comes back.
        case answering(Exchange)
        /// A streamed answer's head is sent and its body is being produced and sent (`chunked`, or until the
        /// connection closes). `closesLingering`: what happens after it, as in `answered` (nil: the connection
        /// stays open). Reads nothing.
        case streaming(Exchange, chunked: Bool, closesLingering: Bool?)
        /// Answering paused at the output high-water mark; complete requests may wait in the parser. Reads nothing
        /// until the peer has taken every unsent byte.
        case held
        /// The last answer is queued (or the peer has left): once it is written, the write side is shut and the
        /// connection lingers, or it closes. `awaiting` is a request still with the application when the peer
        /// closed its TLS session; its answer is still sent if it comes before the output runs dry.
        case closing(lingers: Bool, awaiting: Exchange?)
        /// The write side is shut; what the peer still sends is discarded until it closes or `until`.
        case lingering(until: Double)
        case closed
    }

    /// A request being answered: how its answer is framed.
    struct Exchange: Equatable, Sendable {
        var keepsAlive: Bool
        /// HEAD: the answer's headers without its body.
        var omitsBody: Bool
        /// HTTP/1.1 or later: a streamed body may be chunked.
        var takesChunks: Bool = true
    }

    enum Action: Sendable {
        /// Queue bytes for the peer, after everything queued before.
        case send([UInt8])
        /// Nothing will follow what is queued: a TLS session says close_notify after it.
        case endOutput
        /// Hand the request to the application, inline or on the handler pool; its response comes back through
        /// `answered`.
        case answer(HTTPRequest)
        /// Everything queued has been written: shut the socket's write side (the peer sees the end) and keep
        /// reading.
        case shutdownWrite
        /// Close the socket; the machine takes no further events.
        case close
        /// A streamed answer's head is queued: run `ResponseStream` and hand its pieces to `streamed`.
        case startStream(ResponseStream)
        /// Everything queued has been written while streaming: the next piece (or the end) may be handed over.
        case pullStream
    }

    /// The socket readiness the machine waits for.
    struct Interest: Equatable, Sendable {
        var reads: Bool
        var writes: Bool
    }

    let configuration: Configuration
    private(set) var state: State
    private var parser: HTTPRequestParser
    /// Bytes queued for the peer and not taken by the kernel yet, TLS records included — as last reported by
    /// `wrote`, plus what was sent since.
    private(set) var unsentBytes = 0
    /// Since when the kernel has taken none of the unsent bytes (the write deadline counts from it).
    private var writeStalledSince: Double?
    /// When bytes last arrived or an answer was last queued (the idle deadline counts from it).
    private var lastActivity: Double
    /// `100 Continue` has been sent for the request being received.
    private var continueSent = false

    /// A connection accepted at `now`; one accepted while the server stops gets one request's time to send it.
    init(configuration: Configuration, now: Double, acceptedDuringShutdown: Bool = false) {
        self.configuration = configuration
        self.parser = HTTPRequestParser(limits: configuration.limits)
        self.lastActivity = now
        self.state = acceptedDuringShutdown ? .receiving(since: now) : .idle
    }

    /// The readiness to wait for: reads only while a request can be taken (or while lingering, to discard),
    /// writes only with output unsent.
    var interest: Interest {
        let reads: Bool
        switch state {
        case .idle, .receiving: reads = unsentBytes < configuration.outputHighWater
        case .lingering: reads = true
        case .answering, .streaming, .held, .closing, .closed: reads = false
        }
        return Interest(reads: reads, writes: unsentBytes > 0 && state != .closed)
    }

    /// When a `tick` will next change something without any other event (nil: only another event can).
    var deadline: Double? {
        switch state {
        case .closed, .answering, .closing(_, .some): return nil
        case .lingering(let until): return until
        case .idle, .receiving, .held, .closing(_, nil), .streaming: break
        }
        if unsentBytes > 0 { return writeStalledSince.map { $0 + configuration.writeTimeout } }
        switch state {
        case .idle: return lastActivity + configuration.idleTimeout
        case .receiving(let since): return since + configuration.requestTimeout
        default: return nil
        }
    }

    /// Bytes the parser holds (an unfinished request, at most within the limits, and the last read).
    var heldBytes: Int { parser.heldBytes }

    /// Whether what arrives is only discarded (TLS need not decrypt it).
    var isDiscardingInput: Bool {
        if case .lingering = state { return true }
        return false
    }

    // MARK: Events

    /// Bytes arrived from the peer: `bytes` is what they carry for HTTP, none when they were only a TLS
    /// handshake (which counts as activity, not as a request).
    mutating func received(_ bytes: some Collection<UInt8>, now: Double) -> [Action] {
        let since: Double
        switch state {
        case .idle: since = now
        case .receiving(let started): since = started
        case .answering, .held, .streaming:
            // The loop does not read now; should it, the bytes wait their turn in the parser, not lost.
            parser.append(bytes)
            return []
        case .closing, .lingering, .closed: return []
        }
        lastActivity = now
        guard !bytes.isEmpty else { return [] }
        parser.append(bytes)
        return answerNext(now: now, requestSince: since)
    }

    /// The peer closed its side (a read returned end of file). What it sent has been answered or is being
    /// answered; an answer still being computed has no reader HTTP can rely on, so the connection closes unless
    /// written answers are still on their way out.
    mutating func peerClosed(now: Double) -> [Action] {
        switch state {
        case .closed: return []
        case .answering, .streaming, .lingering, .closing(_, .some): return close()
        case .idle, .receiving, .held, .closing(_, nil):
            guard unsentBytes > 0 else { return close() }
            if case .closing = state { return [] }
            state = .closing(lingers: false, awaiting: nil)
            return []
        }
    }

    /// The peer ended its TLS session (close_notify): nothing more is answered; what is queued is written, then
    /// the connection closes.
    mutating func peerClosedSession(now: Double) -> [Action] {
        switch state {
        case .closed, .lingering: return []
        case .closing(let lingers, let awaiting):
            return unsentBytes > 0 ? [] : finishClosing(lingers: lingers, awaiting: awaiting, now: now)
        case .answering(let exchange):
            guard unsentBytes > 0 else { return close() }
            state = .closing(lingers: false, awaiting: exchange)
            return []
        case .streaming:
            return close()
        case .idle, .receiving, .held:
            guard unsentBytes > 0 else { return close() }
            state = .closing(lingers: false, awaiting: nil)
            return []
        }
    }

    /// The application's response to the request handed out with `answer`. `serverIsStopping` makes it the
    /// connection's last.
    mutating func answered(_ response: HTTPResponse, serverIsStopping: Bool = false, now: Double) -> [Action] {
        let exchange: Exchange
        // Whether the connection closes after this answer, and lingers then (nil: it stays open).
        var closesLingering: Bool?
        switch state {
        case .answering(let current):
            exchange = current
            if !current.keepsAlive || serverIsStopping { closesLingering = false }
        case .closing(let lingers, .some(let current)):
            exchange = current
            closesLingering = lingers
        default: return []
        }
        if let stream = response.stream {
            // HTTP/1.0 knows no chunks: its body ends with the connection.
            let chunked = exchange.takesChunks
            let closes = chunked ? closesLingering : (closesLingering ?? false)
            let head = queue(
                response.head(keepAlive: closes == nil, framing: chunked ? .chunked : .untilClose), now: now)
            if exchange.omitsBody {
                guard let lingers = closes else { return [head] + answerNext(now: now) }
                state = .closing(lingers: lingers, awaiting: nil)
                return [head, .endOutput]
            }
            state = .streaming(exchange, chunked: chunked, closesLingering: closes)
            return [head, .startStream(stream)]
        }
        let bytes = response.serialized(keepAlive: closesLingering == nil, omitBody: exchange.omitsBody)
        let send = queue(bytes, now: now)
        guard let lingers = closesLingering else {
            // Usually nothing is pipelined behind: then one array of one action (inserting into the empty array
            // answerNext returned went through replaceSubrange, some 500 instructions).
            let next = answerNext(now: now)
            return next.isEmpty ? [send] : [send] + next
        }
        state = .closing(lingers: lingers, awaiting: nil)
        return [send, .endOutput]
    }

    /// The socket took `accepted` bytes and `unsent` are left (TLS records included). Output that has run dry
    /// lets a closing connection close (or shut its write side and linger) and a held one answer again.
    mutating func wrote(_ accepted: Int, unsent: Int, now: Double) -> [Action] {
        unsentBytes = unsent
        if unsent == 0 {
            writeStalledSince = nil
        } else if accepted > 0 {
            writeStalledSince = now
        } else if writeStalledSince == nil {
            writeStalledSince = now
        }
        guard unsent == 0 else { return [] }
        switch state {
        case .closing(let lingers, let awaiting): return finishClosing(lingers: lingers, awaiting: awaiting, now: now)
        case .held: return answerNext(now: now)
        case .streaming: return [.pullStream]
        case .idle, .receiving, .answering, .lingering, .closed: return []
        }
    }

    /// Whether a streamed answer waits for its next piece: everything before it has been written.
    var awaitsPiece: Bool {
        guard case .streaming = state else { return false }
        return unsentBytes == 0
    }

    /// The next piece of a streamed answer's body.
    mutating func streamed(_ piece: [UInt8], now: Double) -> [Action] {
        guard case .streaming(_, let chunked, _) = state, !piece.isEmpty else { return [] }
        return [queue(chunked ? HTTPResponse.chunk(piece) : piece, now: now)]
    }

    /// The producer of a streamed answer returned (`succeeded`) or failed. A complete body ends with the last
    /// chunk and the connection goes on as after any answer; a failed one is cut off, so the peer cannot take a
    /// part for the whole.
    mutating func streamEnded(succeeded: Bool, now: Double) -> [Action] {
        guard case .streaming(_, let chunked, let closesLingering) = state else { return [] }
        guard succeeded else { return close() }
        var actions: [Action] = chunked ? [queue(HTTPResponse.lastChunk, now: now)] : []
        guard let lingers = closesLingering else {
            state = .idle
            return actions + answerNext(now: now)
        }
        state = .closing(lingers: lingers, awaiting: nil)
        actions.append(.endOutput)
        if unsentBytes == 0 { actions += finishClosing(lingers: lingers, awaiting: nil, now: now) }
        return actions
    }

    /// The clock reads `now`: deadlines that have passed act. While the server stops, a connection waiting for a
    /// request closes — unless `peerHasSentMore` (bytes wait unread), which then gets one request's time: closing
    /// over unread bytes would reset the connection and lose the answer.
    mutating func tick(
        now: Double, serverIsStopping: Bool = false, peerHasSentMore: () -> Bool = { false }
    ) -> [Action] {
        switch state {
        case .closed, .answering, .closing(_, .some): return []
        case .lingering(let until): return now >= until ? close() : []
        case .idle, .receiving, .held, .closing(_, nil), .streaming: break
        }
        if unsentBytes > 0 {
            guard let since = writeStalledSince, now - since >= configuration.writeTimeout else { return [] }
            return close()
        }
        switch state {
        case .idle:
            if serverIsStopping {
                guard peerHasSentMore() else { return close() }
                state = .receiving(since: now)
                return []
            }
            return now - lastActivity >= configuration.idleTimeout ? close() : []
        case .receiving(let since):
            // Bytes reset only the idle clock: a request that never completes — however busy its sender — is cut
            // off `requestTimeout` after its first byte.
            guard now - since >= configuration.requestTimeout else { return [] }
            return refuse(
                status: 408, message: "the request did not arrive within \(Int(configuration.requestTimeout)) seconds",
                now: now)
        default: return []
        }
    }

    /// What a connection accepted past the server's limit of `maximum` gets before it is closed, unread.
    static func capacityRefusal(maximum: Int, configuration: Configuration) -> [UInt8] {
        configuration.rejection(503, "the server is at its limit of \(maximum) connections; retry shortly")
            .serialized(keepAlive: false)
    }

    // MARK: Transitions

    static let continueLine = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Takes the next complete request out of the parser — if the output leaves room for its answer — and hands
    /// it out; otherwise waits for more bytes, sending `100 Continue` once when a head asked for it.
    ///
    /// `requestSince` is when the first byte of the request in the parser arrived. Without it (answering resumes
    /// after an answer or a pause) the clock of a request already begun starts now: its bytes arrived while the
    /// connection was not being read, and that time is not the client's to account for.
    private mutating func answerNext(now: Double, requestSince: Double? = nil) -> [Action] {
        guard unsentBytes < configuration.outputHighWater else {
            state = .held
            return []
        }
        let next: HTTPRequestParser.Next
        do {
            next = try parser.next()
        } catch {
            return refuse(status: error.status, message: error.message, now: now)
        }
        switch next {
        case .request(let request):
            continueSent = false
            state = .answering(
                Exchange(
                    keepsAlive: request.keepsAlive, omitsBody: request.method == "HEAD",
                    takesChunks: request.minorVersion >= 1))
            return [.answer(request)]
        case .needMore(let expectsContinue):
            state = parser.isIdle ? .idle : .receiving(since: requestSince ?? now)
            guard expectsContinue && !continueSent else { return [] }
            continueSent = true
            return [queue(Self.continueLine, now: nil)]
        }
    }

    /// Answers a request the connection refuses itself, then shuts the write side and lingers.
    private mutating func refuse(status: Int, message: String, now: Double) -> [Action] {
        let bytes = configuration.rejection(status, message).serialized(keepAlive: false)
        state = .closing(lingers: true, awaiting: nil)
        return [queue(bytes, now: now), .endOutput]
    }

    /// Output has run dry on a closing connection.
    private mutating func finishClosing(lingers: Bool, awaiting: Exchange?, now: Double) -> [Action] {
        guard lingers && awaiting == nil else { return close() }
        state = .lingering(until: now + configuration.lingerTimeout)
        return [.shutdownWrite]
    }

    private mutating func queue(_ bytes: [UInt8], now: Double?) -> Action {
        unsentBytes += bytes.count
        if let now { lastActivity = now }
        return .send(bytes)
    }

    private mutating func close() -> [Action] {
        state = .closed
        return [.close]
    }
}
