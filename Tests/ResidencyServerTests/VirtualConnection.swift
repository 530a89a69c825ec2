@testable import ResidencyServer

/// The event loop's part without a socket: carries out a `ConnectionMachine`'s actions against buffers in memory,
/// on a virtual clock, the way `EventLoop` does against a socket — reading only when the machine asks to, one read
/// of at most `readSize` bytes at a time, and writing only what the socket has room for.
struct VirtualConnection {
    typealias Action = ConnectionMachine.Action

    var machine: ConnectionMachine
    private(set) var now = 0.0
    /// Bytes the peer has sent that the machine has not read yet (the kernel's receive buffer).
    private(set) var inbound: [UInt8] = []
    /// The peer has closed its side: once `inbound` is read, a read sees the end.
    private(set) var peerHasClosed = false
    /// The most bytes one read takes.
    var readSize = 64 * 1024
    /// Bytes the machine queued that the socket has not taken.
    private(set) var outbound: [UInt8] = []
    /// Bytes the socket still takes before the peer reads some (nil: it takes everything).
    var room: Int?
    /// What the socket took, in order: what the peer gets.
    private(set) var delivered: [UInt8] = []
    /// Whether the application answers a request on the spot (inline); if not, it waits in `handedOut` for
    /// `answerHandedOut`.
    var answersInline: (HTTPRequest) -> Bool = { _ in true }
    /// Requests handed to the application and not answered yet.
    private(set) var handedOut: [HTTPRequest] = []
    /// Every request handed to the application, in order.
    private(set) var requests: [HTTPRequest] = []
    /// Set on `endOutput`, `shutdownWrite` and `close`.
    private(set) var outputEnded = false
    private(set) var writeIsShut = false
    private(set) var isClosed = false
    /// Input read and thrown away while lingering.
    private(set) var discardedBytes = 0
    /// The most bytes the parser held after any read.
    private(set) var peakHeldBytes = 0
    /// A request was handed out while another was unanswered (which the rules forbid).
    private(set) var overlappingRequests = false
    /// Streamed answers started (`.startStream`), and how many times the machine asked for a next piece.
    private(set) var startedStreams = 0
    private(set) var pulls = 0
    /// The machine took a read while not asking for one (which the loop never gives it).
    private(set) var readWhileNotReading = false
    /// The application is answering while the server stops.
    var serverIsStopping = false

    static let rejection: @Sendable (Int, String) -> HTTPResponse = { status, message in
        HTTPResponse(status: status, body: Array(message.utf8))
    }

    init(
        acceptedDuringShutdown: Bool = false, configure: (inout ConnectionMachine.Configuration) -> Void = { _ in }
    ) {
        var configuration = ConnectionMachine.Configuration(rejection: Self.rejection)
        configure(&configuration)
        machine = ConnectionMachine(
            configuration: configuration, now: 0, acceptedDuringShutdown: acceptedDuringShutdown)
    }

    /// The application's answer: the method, the target and the body's size, or `echo` of the body.
    static func answer(_ request: HTTPRequest) -> HTTPResponse {
        HTTPResponse(
            status: 200, body: Array("\(request.method) \(request.target) \(request.body.count)".utf8))
    }

    // MARK: The peer

    /// The peer sends bytes; the machine reads them if and as it asks to.
    mutating func send(_ text: String) { send(Array(text.utf8)) }

    mutating func send(_ bytes: [UInt8]) {
        inbound += bytes
        pump()
    }

    /// The peer closes its side (FIN).
    mutating func peerCloses() {
        peerHasClosed = true
        pump()
    }

    /// The peer reads `count` bytes, making room for as many: the socket becomes writable.
    mutating func peerReads(_ count: Int) {
        if let room { self.room = room + count }
        writable()
    }

    /// The responses the peer has received whole, with their bodies.
    var responses: [(status: Int, body: String)] { TestClient.parse(delivered).map { (status: $0.0, body: $0.1) } }

    var deliveredText: String { String(decoding: delivered, as: UTF8.self) }

    // MARK: The loop

    /// Reads while the machine asks to and there is something (or the end) to read.
    mutating func pump() {
        while !isClosed && machine.interest.reads {
            if inbound.isEmpty {
                if peerHasClosed { perform(machine.peerClosed(now: now)) }
                return
            }
            let chunk = Array(inbound.prefix(readSize))
            inbound.removeFirst(chunk.count)
            let discarding = machine.isDiscardingInput
            perform(machine.received(chunk, now: now))
            if discarding { discardedBytes += chunk.count }
            peakHeldBytes = max(peakHeldBytes, machine.heldBytes)
        }
    }

    /// A read handed over even though the machine did not ask for one (a readiness event gathered earlier).
    mutating func forceRead(_ bytes: [UInt8]) {
        if !machine.interest.reads { readWhileNotReading = true }
        perform(machine.received(bytes, now: now))
    }

    /// The socket can be written.
    mutating func writable() {
        perform([])
        pump()
    }

    /// The clock moves on by `seconds`; the machine is ticked as the loop's sweep does.
    mutating func advance(by seconds: Double, serverIsStopping stopping: Bool = false) {
        now += seconds
        let unread = !inbound.isEmpty || peerHasClosed
        perform(machine.tick(now: now, serverIsStopping: stopping) { unread })
        pump()
    }

    /// The application answers the oldest request handed out.
    mutating func answerHandedOut(_ response: HTTPResponse? = nil) {
        guard !handedOut.isEmpty else { return }
        let request = handedOut.removeFirst()
        perform(machine.answered(response ?? Self.answer(request), serverIsStopping: serverIsStopping, now: now))
        pump()
    }

    /// The producer of a streamed answer hands over a piece (as the loop does once the machine awaits one).
    mutating func streamPiece(_ text: String) {
        precondition(machine.awaitsPiece, "a piece handed over before the last was written")
        perform(machine.streamed(Array(text.utf8), now: now))
    }

    mutating func endStream(succeeded: Bool) {
        perform(machine.streamEnded(succeeded: succeeded, now: now))
    }

    /// Carries out actions the way `EventLoop.perform` does, writing after each batch.
    mutating func perform(_ initial: [Action]) {
        var actions = initial
        var index = 0
        while true {
            while index < actions.count {
                let action = actions[index]
                index += 1
                switch action {
                case .send(let bytes):
                    precondition(!outputEnded, "bytes sent after the end of output")
                    outbound += bytes
                case .endOutput:
                    outputEnded = true
                case .answer(let request):
                    if !handedOut.isEmpty { overlappingRequests = true }
                    requests.append(request)
                    if answersInline(request) {
                        actions += machine.answered(
                            Self.answer(request), serverIsStopping: serverIsStopping, now: now)
                    } else {
                        handedOut.append(request)
                    }
                case .shutdownWrite:
                    writeIsShut = true
                case .close:
                    isClosed = true
                    return
                case .startStream:
                    startedStreams += 1
                case .pullStream:
                    pulls += 1
                }
            }
            guard !outbound.isEmpty || machine.unsentBytes > 0 else { return }
            let accepted = min(outbound.count, room ?? .max)
            delivered += outbound.prefix(accepted)
            outbound.removeFirst(accepted)
            if let room { self.room = room - accepted }
            let more = machine.wrote(accepted, unsent: outbound.count, now: now)
            guard !more.isEmpty else { return }
            actions = more
            index = 0
        }
    }
}
