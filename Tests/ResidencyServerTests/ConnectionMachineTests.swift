import Foundation
import Testing

@testable import ResidencyServer

/// The connection's rules, driven byte by byte on a virtual clock: no socket, no thread, no sleep.
@Suite struct ConnectionMachineTests {
    typealias State = ConnectionMachine.State

    /// Requests and what the application answers them (method, target, body size).
    static let requests: [(wire: String, answer: String)] = [
        ("GET /a HTTP/1.1\r\nHost: t\r\n\r\n", "GET /a 0"),
        ("\r\nPOST /b?x=1 HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nhello", "POST /b?x=1 5"),
        (
            "POST /c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\nT: v\r\n\r\n",
            "POST /c 5"
        ),
        ("GET /d HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "GET /d 0"),
    ]

    // MARK: Splitting

    /// Cut in two at every byte, or sent a byte at a time: one request, answered once, whole, and only once its
    /// last byte is in; the connection then waits for the next.
    @Test(arguments: requests)
    func aRequestSplitAnywhereIsAnsweredOnce(wire: String, answer: String) {
        let bytes = Array(wire.utf8)
        for split in 0...bytes.count {
            var connection = VirtualConnection()
            connection.send(Array(bytes[..<split]))
            if split < bytes.count {
                #expect(connection.requests.isEmpty, "split at \(split)")
                #expect(connection.machine.state == (split == 0 ? .idle : .receiving(since: 0)), "split at \(split)")
            }
            connection.send(Array(bytes[split...]))
            #expect(connection.responses.map(\.body) == [answer], "split at \(split)")
            #expect(connection.machine.state == .idle && !connection.isClosed, "split at \(split)")
        }
        var trickled = VirtualConnection()
        for byte in bytes {
            #expect(trickled.responses.isEmpty)
            trickled.send([byte])
        }
        #expect(trickled.responses.map(\.body) == [answer])
    }

    // MARK: Pipelining

    /// Pipelined requests, some answered inline and some by the pool: answered in the order sent, one at a time;
    /// while one is with the pool nothing else is read or handed out.
    @Test func pipelinedRequestsAreAnsweredInOrder() {
        var connection = VirtualConnection()
        connection.answersInline = { $0.path != "/slow" }
        connection.send(get("/a") + get("/slow") + get("/b") + get("/slow?2") + get("/c"))
        #expect(connection.requests.map(\.target) == ["/a", "/slow"])
        #expect(connection.responses.map(\.body) == ["GET /a 0"])
        #expect(connection.machine.state == .answering(.init(keepsAlive: true, omitsBody: false)))
        #expect(!connection.machine.interest.reads)
        connection.answerHandedOut()
        #expect(connection.requests.map(\.target) == ["/a", "/slow", "/b", "/slow?2"])
        connection.answerHandedOut()
        #expect(
            connection.responses.map(\.body) == ["GET /a 0", "GET /slow 0", "GET /b 0", "GET /slow?2 0", "GET /c 0"])
        #expect(!connection.overlappingRequests)
        #expect(connection.machine.state == .idle)
    }

    /// A thousand pipelined requests for a slow application: the machine reads nothing while one is unanswered,
    /// so the rest stay in the kernel's buffer and the parser holds at most one request and one read.
    @Test func pipeliningIsNotBufferedWhileARequestIsUnanswered() {
        var connection = VirtualConnection()
        connection.answersInline = { _ in false }
        connection.readSize = 100
        let stream = (0..<1000).map { get("/x?n=\($0)") }.joined()
        connection.send(stream)
        #expect(connection.requests.count == 1)
        #expect(connection.inbound.count == stream.utf8.count - 100)
        for _ in 0..<1000 { connection.answerHandedOut() }
        #expect(connection.responses.map(\.body) == (0..<1000).map { "GET /x?n=\($0) 0" })
        #expect(connection.peakHeldBytes <= get("/x?n=999").utf8.count + 100)
        #expect(!connection.overlappingRequests)
    }

    /// A read the loop hands over anyway (a readiness event gathered before the machine stopped reading) waits
    /// its turn in the parser: nothing is lost and the order holds.
    @Test func aReadWhileAnsweringWaitsItsTurn() {
        var connection = VirtualConnection()
        connection.answersInline = { _ in false }
        connection.send(get("/1"))
        connection.forceRead(Array(get("/2").utf8))
        #expect(connection.readWhileNotReading)
        #expect(connection.requests.map(\.target) == ["/1"])
        connection.answerHandedOut()
        connection.answerHandedOut()
        #expect(connection.responses.map(\.body) == ["GET /1 0", "GET /2 0"])
    }

    // MARK: Writing

    /// A peer that reads ten bytes at a time: answering pauses at the high-water mark and nothing is read while
    /// paused; every answer arrives in order, and steady progress never trips the write timeout.
    @Test func aSlowReaderGetsEveryAnswerInOrder() {
        var connection = VirtualConnection { $0.outputHighWater = 100 }
        connection.room = 10
        connection.readSize = 40
        connection.send((0..<10).map { get("/x?n=\($0)") }.joined())
        #expect(connection.machine.state == .held)
        #expect(connection.machine.interest == .init(reads: false, writes: true))
        #expect(connection.machine.unsentBytes > 0)
        var reads = 0
        while connection.responses.count < 10 && reads < 1000 {
            connection.advance(by: 5)
            if connection.machine.state == .held { #expect(!connection.machine.interest.reads) }
            connection.peerReads(10)
            reads += 1
        }
        #expect(connection.responses.map(\.body) == (0..<10).map { "GET /x?n=\($0) 0" })
        #expect(connection.now > 10 * 5, "the test ran past several write timeouts")
        #expect(!connection.isClosed)
        #expect(connection.peakHeldBytes <= get("/x?n=9").utf8.count + 40)
    }

    /// A peer that stops reading: the write timeout counts from the last byte the socket took, and then the
    /// connection is cut off without ceremony.
    @Test func aPeerThatStopsReadingIsCutOff() {
        var connection = VirtualConnection()
        connection.room = 100
        connection.send(String(repeating: get("/x"), count: 5))
        #expect(connection.responses.count == 2)
        #expect(connection.machine.deadline == 10)
        connection.advance(by: 9)
        connection.peerReads(50)
        #expect(connection.machine.deadline == 19)
        connection.advance(by: 9)
        #expect(!connection.isClosed)
        connection.advance(by: 1)
        #expect(connection.isClosed)
        #expect(!connection.writeIsShut)
    }

    // MARK: Deadlines

    /// A request must be whole within the request timeout of its first byte — an empty line counts — however
    /// steadily bytes keep coming: then 408, the write side shut, the rest discarded, and the connection closed
    /// after the linger time.
    @Test func aRequestTrickledPastTheRequestTimeoutGets408() {
        var connection = VirtualConnection { $0.limits.leadingEmptyLines = 1000 }
        connection.send("\r\n")
        #expect(connection.machine.state == .receiving(since: 0))
        for _ in 0..<9 {
            connection.advance(by: 1)
            connection.send("\r\n")
        }
        connection.send("GET /late HTTP/1.1\r\n")
        #expect(connection.responses.isEmpty)
        #expect(connection.machine.deadline == 10)
        connection.advance(by: 1)
        #expect(connection.responses.map(\.status) == [408])
        #expect(connection.deliveredText.contains("Connection: close\r\n"))
        #expect(connection.outputEnded && connection.writeIsShut && !connection.isClosed)
        #expect(connection.machine.state == .lingering(until: 12))
        connection.send("Host: t\r\n\r\n")
        #expect(connection.requests.isEmpty)
        #expect(connection.discardedBytes == 11)
        connection.advance(by: 2)
        #expect(connection.isClosed)
    }

    /// A connection that sends nothing is idle, not slow: no 408, closed quietly after the idle timeout — counted
    /// from the last answer once it has had one.
    @Test func anIdleConnectionClosesQuietlyAfterTheIdleTimeout() {
        var connection = VirtualConnection()
        #expect(connection.machine.deadline == 30)
        connection.advance(by: 29)
        #expect(!connection.isClosed)
        connection.send(get("/a"))
        #expect(connection.machine.deadline == 59)
        connection.advance(by: 29)
        #expect(!connection.isClosed)
        connection.advance(by: 1)
        #expect(connection.isClosed)
        #expect(connection.responses.map(\.status) == [200])
    }

    /// Reads that carry no HTTP (a TLS handshake) are activity, not a request: they push the idle deadline back
    /// and start no request clock.
    @Test func aReadWithoutHTTPBytesIsActivityOnly() {
        var machine = ConnectionMachine(configuration: .init(rejection: VirtualConnection.rejection), now: 0)
        #expect(machine.received([UInt8](), now: 20).isEmpty)
        #expect(machine.state == .idle)
        #expect(machine.deadline == 50)
        #expect(machine.tick(now: 49).isEmpty)
        #expect(machine.tick(now: 50).count == 1 && machine.state == .closed)
    }

    /// The request clock runs only while the connection is read: a pipelined request begun before a slow answer
    /// gets its whole request timeout once reading resumes.
    @Test func aPipelinedRequestsClockStartsWhenReadingResumes() {
        var connection = VirtualConnection()
        connection.answersInline = { _ in false }
        connection.send(get("/slow") + "GET /next HTTP/1.1\r\n")
        connection.advance(by: 60)
        connection.answerHandedOut()
        #expect(connection.machine.state == .receiving(since: 60))
        connection.advance(by: 9)
        #expect(connection.responses.map(\.status) == [200])
        connection.send("Host: t\r\n\r\n")
        connection.answerHandedOut()
        #expect(connection.responses.map(\.body) == ["GET /slow 0", "GET /next 0"])
    }

    // MARK: Closing

    /// A request the parser refuses is answered with its status and `Connection: close` after the answers to the
    /// requests before it; then the write side is shut, what the peer still sends is discarded, and the peer's
    /// close ends it.
    @Test(arguments: [
        ("GET /a HTTP/1.1\r\n\r\n", 400),
        ("POST /a HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", 413),
        ("GET /a HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 300))", 431),
        ("POST /a HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
        ("GET /a HTTP/2.0\r\nHost: t\r\n\r\n", 505),
        ("GET /a HTTP/1.1\r\nHost: t\r\nExpect: something\r\n\r\n", 417),
    ])
    func aRefusedRequestIsAnsweredThenTheConnectionLingers(wire: String, status: Int) {
        var connection = VirtualConnection { $0.limits.headBytes = 256 }
        connection.send(get("/ok") + wire)
        #expect(connection.responses.map(\.status) == [200, status])
        let refusal = connection.deliveredText.components(separatedBy: "GET /ok 0").last ?? ""
        #expect(refusal.hasPrefix("HTTP/1.1 \(status) ") && refusal.contains("Connection: close\r\n"))
        #expect(connection.outputEnded && connection.writeIsShut && !connection.isClosed)
        #expect(connection.machine.state == .lingering(until: 2))
        #expect(connection.machine.interest == .init(reads: true, writes: false))
        connection.send([UInt8](repeating: 0x41, count: 10_000))
        #expect(connection.discardedBytes == 10_000)
        #expect(connection.requests.count == 1)
        connection.peerCloses()
        #expect(connection.isClosed)
    }

    /// A refusal that the socket cannot take at once: the write side is shut only after the last byte is out.
    @Test func theWriteSideIsShutOnlyOnceTheRefusalIsOut() {
        var connection = VirtualConnection()
        connection.room = 10
        connection.send("BAD\r\n\r\n")
        #expect(!connection.writeIsShut)
        #expect(connection.machine.state == .closing(lingers: true, awaiting: nil))
        #expect(connection.machine.interest == .init(reads: false, writes: true))
        while !connection.writeIsShut && connection.delivered.count < 1000 { connection.peerReads(10) }
        #expect(connection.responses.map(\.status) == [400])
        #expect(connection.writeIsShut && !connection.isClosed)
        connection.advance(by: 2)
        #expect(connection.isClosed)
    }

    /// HTTP/1.1 stays open unless `Connection: close`; HTTP/1.0 closes unless `Connection: keep-alive`. A closing
    /// answer says so, and nothing after that request is read.
    @Test(arguments: [
        ("GET /a HTTP/1.0\r\n\r\n", false),
        ("GET /a HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ("GET /a HTTP/1.1\r\nHost: t\r\n\r\n", true),
        ("GET /a HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n", false),
        ("GET /a HTTP/1.1\r\nHost: t\r\nConnection: keep-alive, Close\r\n\r\n", false),
    ])
    func keepAliveFollowsTheVersionAndTheConnectionHeader(wire: String, keepsAlive: Bool) {
        var connection = VirtualConnection()
        connection.send(wire + get("/next"))
        if keepsAlive {
            #expect(connection.responses.map(\.body) == ["GET /a 0", "GET /next 0"])
            #expect(!connection.deliveredText.contains("Connection: close"))
            #expect(!connection.isClosed && !connection.outputEnded)
        } else {
            #expect(connection.responses.map(\.body) == ["GET /a 0"])
            #expect(connection.deliveredText.contains("Connection: close\r\n"))
            #expect(connection.requests.count == 1)
            #expect(connection.outputEnded && connection.isClosed && !connection.writeIsShut)
        }
    }

    /// The peer's close: at once while its request is with the application (whose answer then goes nowhere),
    /// after the last byte when answers are still going out.
    @Test func thePeersCloseEndsTheConnection() {
        var answering = VirtualConnection()
        answering.answersInline = { _ in false }
        answering.send(get("/slow"))
        // Not reading, the loop sees the end only as a hang-up; once it reads, as here, it closes at once.
        answering.perform(answering.machine.peerClosed(now: 0))
        #expect(answering.isClosed)
        #expect(answering.machine.answered(VirtualConnection.answer(answering.requests[0]), now: 1).isEmpty)

        var writing = VirtualConnection()
        writing.room = 10
        writing.send(get("/a"))
        writing.peerCloses()
        #expect(writing.machine.state == .closing(lingers: false, awaiting: nil))
        writing.peerReads(1000)
        #expect(writing.responses.map(\.body) == ["GET /a 0"])
        #expect(writing.isClosed && !writing.writeIsShut)

        var idle = VirtualConnection()
        idle.peerCloses()
        #expect(idle.isClosed && idle.delivered.isEmpty)
    }

    /// The peer's TLS close_notify: nothing more is answered; an answer still being written, or one still with
    /// the application while earlier ones are written, goes out, then the connection closes.
    @Test func thePeersTLSCloseFinishesWhatIsUnderway() {
        var machine = ConnectionMachine(configuration: .init(rejection: VirtualConnection.rejection), now: 0)
        _ = machine.received(Array(get("/a").utf8), now: 0)
        #expect(machine.peerClosedSession(now: 0).count == 1)
        #expect(machine.state == .closed)

        var connection = VirtualConnection()
        connection.room = 10
        connection.answersInline = { $0.path == "/a" }
        connection.send(get("/a") + get("/b"))
        connection.perform(connection.machine.peerClosedSession(now: 0))
        #expect(
            connection.machine.state == .closing(lingers: false, awaiting: .init(keepsAlive: true, omitsBody: false)))
        connection.answerHandedOut()
        connection.peerReads(1000)
        #expect(connection.responses.map(\.body) == ["GET /a 0", "GET /b 0"])
        #expect(connection.deliveredText.hasSuffix("Connection: close\r\n\r\nGET /b 0"))
        #expect(connection.isClosed)
    }

    // MARK: Shutdown

    /// While the server stops: an idle connection closes at the next tick; one with a request waiting unread gets
    /// its request's time; answers say `Connection: close`.
    @Test func stoppingClosesIdleConnectionsAndServesWaitingRequests() {
        var idle = VirtualConnection()
        idle.advance(by: 0.25, serverIsStopping: true)
        #expect(idle.isClosed && idle.delivered.isEmpty)

        var machine = ConnectionMachine(configuration: .init(rejection: VirtualConnection.rejection), now: 0)
        #expect(machine.tick(now: 1, serverIsStopping: true) { true }.isEmpty)
        #expect(machine.state == .receiving(since: 1))
        #expect(machine.interest.reads)

        var answering = VirtualConnection()
        answering.serverIsStopping = true
        answering.send(get("/a") + get("/b"))
        #expect(answering.responses.map(\.body) == ["GET /a 0"])
        #expect(answering.deliveredText.contains("Connection: close\r\n"))
        #expect(answering.isClosed)
    }

    /// A connection taken from the backlog during shutdown gets one request's time: answered if it comes, 408
    /// if it does not — it is not closed as idle.
    @Test func aConnectionAcceptedDuringShutdownGetsOneRequest() {
        var silent = VirtualConnection(acceptedDuringShutdown: true)
        silent.advance(by: 5, serverIsStopping: true)
        #expect(!silent.isClosed)
        silent.advance(by: 5, serverIsStopping: true)
        #expect(silent.responses.map(\.status) == [408])

        var served = VirtualConnection(acceptedDuringShutdown: true)
        served.serverIsStopping = true
        served.send(get("/a"))
        #expect(served.responses.map(\.body) == ["GET /a 0"])
        #expect(served.isClosed)
    }

    // MARK: Framing of answers

    /// `Expect: 100-continue`: one interim answer once the head is in, before the body arrives.
    @Test func expectContinueIsAnsweredOnce() {
        var connection = VirtualConnection()
        connection.send("POST /u HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        #expect(connection.deliveredText == "HTTP/1.1 100 Continue\r\n\r\n")
        connection.send("he")
        #expect(connection.deliveredText == "HTTP/1.1 100 Continue\r\n\r\n")
        connection.send("llo")
        #expect(connection.responses.map(\.status) == [100, 200])
        #expect(connection.responses.last?.body == "POST /u 5")
    }

    /// HEAD: the answer's head, with the length the body would have had, and no body.
    @Test func headAnswersCarryNoBody() {
        var connection = VirtualConnection()
        connection.send("HEAD /h HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(connection.deliveredText.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(connection.deliveredText.hasSuffix("Content-Length: 9\r\n\r\n"))
    }

    /// Past the connection limit: 503, `Connection: close`, and what the limit is.
    @Test func theCapacityRefusalSaysWhy() {
        let bytes = ConnectionMachine.capacityRefusal(
            maximum: 2, configuration: .init(rejection: VirtualConnection.rejection))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(TestClient.parse(bytes).map { $0.0 } == [503])
        #expect(text.contains("Connection: close\r\n"))
        #expect(text.contains("limit of 2 connections"))
    }

    // MARK: Random splittings

    /// Random pipelines (counted and chunked bodies, empty lines, pooled and inline answers) cut at random
    /// points, read in random sizes by a peer reading at random paces: every request answered once, in order,
    /// never two at a time, and the parser never holding more than one request and one read.
    @Test(arguments: 0..<40 as Range<UInt64>)
    func randomSplittingsAnswerEveryRequestInOrder(seed: UInt64) {
        var generator = SeededGenerator(seed: seed &+ 1)
        var wire: [UInt8] = []
        var expected: [String] = []
        var largest = 0
        let count = Int.random(in: 1...12, using: &generator)
        for index in 0..<count {
            let target = "/r\(index)?s=\(seed)"
            var request = Int.random(in: 0..<4, using: &generator) == 0 ? "\r\n" : ""
            let closes = index == count - 1 && seed % 3 == 0
            let extra = closes ? "Connection: close\r\n" : ""
            let size = Int.random(in: 0...300, using: &generator)
            switch Int.random(in: 0..<3, using: &generator) {
            case 0:
                request += "GET \(target) HTTP/1.1\r\nHost: t\r\n\(extra)\r\n"
                expected.append("GET \(target) 0")
            case 1:
                request += "POST \(target) HTTP/1.1\r\nHost: t\r\n\(extra)Content-Length: \(size)\r\n\r\n"
                request += String(repeating: "b", count: size)
                expected.append("POST \(target) \(size)")
            default:
                request += "PUT \(target) HTTP/1.1\r\nHost: t\r\n\(extra)Transfer-Encoding: chunked\r\n\r\n"
                var left = size
                while left > 0 {
                    let chunk = Int.random(in: 1...left, using: &generator)
                    request += String(chunk, radix: 16) + "\r\n" + String(repeating: "c", count: chunk) + "\r\n"
                    left -= chunk
                }
                request += "0\r\n\r\n"
                expected.append("PUT \(target) \(size)")
            }
            largest = max(largest, request.utf8.count)
            wire += Array(request.utf8)
        }
        let highWater = Int.random(in: 1...400, using: &generator)
        var connection = VirtualConnection { $0.outputHighWater = highWater }
        connection.readSize = Int.random(in: 1...200, using: &generator)
        connection.room = Bool.random(using: &generator) ? nil : Int.random(in: 0...100, using: &generator)
        let pooled = seed % 2 == 0
        connection.answersInline = { !pooled || $0.target.utf8.count % 2 == 0 }
        var offset = 0
        var steps = 0
        while (offset < wire.count || connection.responses.count < expected.count) && steps < 100_000 {
            steps += 1
            if offset < wire.count {
                let piece = Int.random(in: 1...max(1, min(64, wire.count - offset)), using: &generator)
                connection.send(Array(wire[offset..<offset + piece]))
                offset += piece
            }
            switch Int.random(in: 0..<3, using: &generator) {
            case 0: connection.answerHandedOut()
            case 1: connection.peerReads(Int.random(in: 1...120, using: &generator))
            default: connection.advance(by: 0.001)
            }
        }
        #expect(connection.responses.map(\.body) == expected, "seed \(seed)")
        #expect(!connection.overlappingRequests, "seed \(seed)")
        #expect(connection.peakHeldBytes <= 2 * largest + connection.readSize, "seed \(seed)")
        if seed % 3 == 0 {
            #expect(connection.isClosed, "seed \(seed)")
        } else {
            #expect(!connection.isClosed && connection.machine.state == .idle, "seed \(seed)")
        }
    }
}
