import Foundation
import Synchronization
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

extension TestClient {
    /// Whether bytes (or the end) are waiting to be read, without waiting.
    var hasInput: Bool {
        var descriptor = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    /// Sends `first`, then `unit` every 50 ms until the server answers or `seconds` pass; then the answer.
    func trickle(_ first: String, _ unit: String, forAtMost seconds: Double) -> Int? {
        send(first)
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline && !hasInput {
            send(unit)
            usleep(50_000)
        }
        return responses(1).first?.status
    }
}

/// What a connection can make the server hold and for how long, whatever an unauthenticated client sends.
extension HTTPServerTests {
    /// A megabyte of empty lines: refused after a few (it was all held, and the connection never timed out).
    @Test func aFloodOfEmptyLinesIsRefused() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        client.send(String(repeating: "\r\n", count: 512 * 1024))
        #expect(client.responses(1).first?.status == 400)
        #expect(client.isClosed())
        #expect(server.server.peakParserBytes <= 64 * 1024)
    }

    /// Empty lines start the request clock like any byte, and sending more does not reset it: a client that
    /// only ever sends empty lines gets 408 within the request timeout (each byte used to reset the idle clock,
    /// and the request clock never started).
    @Test func emptyLinesStartTheRequestClock() throws {
        let server = try InProcessServer {
            $0.requestTimeout = 0.5
            $0.limits.leadingEmptyLines = 1_000_000
        }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        #expect(client.trickle("\r\n", "\r\n", forAtMost: 20) == 408)
        #expect(client.isClosed())
    }

    /// Bodies trickled a byte at a time, counted or chunked, and a head trickled a header at a time: 408 within
    /// the request timeout, however steadily the bytes come.
    @Test(arguments: [
        ("POST /fast HTTP/1.1\r\nHost: t\r\nContent-Length: 100000\r\n\r\n", "x"),
        ("POST /fast HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", "1\r\nx\r\n"),
        ("POST /fast HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n", "1;e=v\r\nx\r\n"),
        ("GET /fast HTTP/1.1\r\nHost: t\r\n", "X-A: b\r\n"),
    ])
    func trickledRequestsGet408(head: String, unit: String) throws {
        let server = try InProcessServer { $0.requestTimeout = 0.5 }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        #expect(client.trickle(head, unit, forAtMost: 20) == 408)
    }

    /// A client pipelining small requests for large answers while reading them slowly: the server reads no more
    /// requests while it still holds unanswered ones, so its buffer stays at one read (it grew by a read each
    /// time the output drained a little).
    @Test func pipeliningAheadOfASlowReaderIsNotBuffered() throws {
        let server = try InProcessServer { $0.writeTimeout = 30 }
        defer { server.stop() }
        let client = try TestClient(port: server.port, receiveTimeout: 1)
        var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
        setsockopt(client.descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let batch = Array(String(repeating: get("/big"), count: 2500).utf8)
        let stop = Atomic<Bool>(false)
        let sent = Atomic<Int>(0)
        let descriptor = client.descriptor
        let sender = Thread {
            for _ in 0..<400 where !stop.load(ordering: .relaxed) {
                let written = batch.withUnsafeBytes {
                    Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL))
                }
                if written > 0 { sent.add(written, ordering: .relaxed) }
            }
        }
        sender.start()
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        var received = 0
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            let count = chunk.withUnsafeMutableBytes { recv(client.descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 { received += count }
            usleep(5_000)
        }
        stop.store(true, ordering: .relaxed)
        #expect(received > 1 << 20, "the client read \(received) bytes")
        #expect(sent.load(ordering: .relaxed) > 1 << 20, "the client sent \(sent.load(ordering: .relaxed)) bytes")
        let limits = HTTPLimits()
        #expect(server.server.peakParserBytes <= limits.headBytes + 64 * 1024 + 4)
        while !sender.isFinished { usleep(10_000) }
    }
}

/// Reason phrases for every status the server can send.
extension HTTPServerTests {
    static let phrases: [(Int, String)] = [
        (100, "Continue"), (200, "OK"), (201, "Created"), (202, "Accepted"), (204, "No Content"),
        (400, "Bad Request"), (401, "Unauthorized"), (403, "Forbidden"), (404, "Not Found"),
        (405, "Method Not Allowed"), (408, "Request Timeout"), (409, "Conflict"), (411, "Length Required"),
        (413, "Content Too Large"), (415, "Unsupported Media Type"), (417, "Expectation Failed"),
        (421, "Misdirected Request"), (422, "Unprocessable Content"), (431, "Request Header Fields Too Large"),
        (500, "Internal Server Error"),
        (501, "Not Implemented"), (503, "Service Unavailable"), (505, "HTTP Version Not Supported"),
        (507, "Insufficient Storage"),
    ]

    @Test(arguments: Self.phrases)
    func statusLineHasItsReasonPhrase(status: Int, reason: String) {
        #expect(HTTPStatus.reason(status) == reason)
        let line = String(decoding: HTTPResponse(status: status).serialized(keepAlive: true), as: UTF8.self)
        #expect(line.hasPrefix("HTTP/1.1 \(status) \(reason)\r\n"))
    }

    /// The table above is every status the server sends: a new one needs its phrase here.
    @Test func everyEmittedStatusIsInTheTable() {
        #expect(HTTPStatus.emitted == Self.phrases.map(\.0))
        #expect(HTTPStatus.reason(418) == "Client Error")
    }
}

/// Logging never blocks a request: an access log on a pipe nobody reads.
extension HTTPServerTests {
    /// 100,000 lines into a pipe that holds 64 KiB and is not read: every write returns, what waits stays
    /// within the bound, the rest is counted as dropped; a flush gives up rather than hang; once someone reads,
    /// every line kept arrives whole.
    @Test func aLogNobodyReadsNeverBlocksItsWriters() throws {
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let writer = AccessLogWriter(descriptor: ends[1], flushInterval: 0.001, capacity: 1 << 20)
        let line = String(repeating: "x", count: 199)
        for _ in 0..<100_000 { writer.write(line) }
        #expect(writer.droppedLines > 0)
        #expect(writer.bufferedBytes <= 1 << 20)
        #expect(!writer.flush(timeout: 0.2))

        let readEnd = ends[0]
        let received = Mutex<[UInt8]>([])
        let reader = Thread {
            var chunk = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = chunk.withUnsafeMutableBytes { read(readEnd, $0.baseAddress, $0.count) }
                if count <= 0 { return }
                received.withLock { $0 += chunk[0..<count] }
            }
        }
        reader.start()
        #expect(writer.flush(timeout: 60))
        // Nothing is pending any more, so the writer will not touch the descriptor after it is closed.
        close(ends[1])
        while !reader.isFinished { usleep(1_000) }
        close(ends[0])
        let lines = received.withLock { $0 }.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        #expect(lines.allSatisfy { $0.elementsEqual(line.utf8) })
        #expect(lines.count + writer.droppedLines == 100_000)
    }

    /// The API behind the real server, its access log on a pipe nobody reads: thousands of requests are all
    /// answered (a request thread used to write a full batch itself, and every loop stalled after ~750), and
    /// /metrics reports the dropped lines.
    @Test func aStuckAccessLogDoesNotStopTheServer() throws {
        let api = try APIHarness()
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        // The write end is left open: the writer may still hold lines for it when the test ends.
        defer { close(ends[0]) }
        let log = AccessLogWriter(descriptor: ends[1], capacity: 256 * 1024)
        let application = APIApplication(
            controller: api.controller, metrics: Metrics(droppedLogLines: { log.droppedLines })
        ) { log.write($0) }
        let server = try RunningAPIServer(application)
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        var answered = 0
        for _ in 0..<30 {
            client.send(String(repeating: get("/healthz"), count: 100))
            answered += client.responses(100).filter { $0.status == 200 }.count
        }
        #expect(answered == 3000)
        client.send(get("/metrics"))
        let metrics = client.responses(1).first?.body ?? ""
        let dropped = metrics.split(separator: "\n").first { $0.hasPrefix("residency_log_lines_dropped_total ") }
        #expect(Int(dropped?.split(separator: " ").last ?? "") ?? 0 > 0, "\(String(describing: dropped))")
    }
}
