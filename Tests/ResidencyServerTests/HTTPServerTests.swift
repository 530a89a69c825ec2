import Foundation
import Synchronization
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking loopback client for driving the server byte by byte.
final class TestClient {
    let descriptor: Int32

    init(port: UInt16, receiveTimeout: Double = 10) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard status == 0 else { throw FixtureError("connect: \(String(cString: strerror(errno)))") }
        var timeout = timeval(
            tv_sec: Int(receiveTimeout), tv_usec: Int(receiveTimeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) { send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard written > 0 else { return }
            offset += written
        }
    }

    /// Reads until `count` responses have arrived whole (or the peer closes or the timeout passes).
    func responses(_ count: Int) -> [(status: Int, body: String)] {
        var buffer: [UInt8] = []
        var parsed: [(Int, String)] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while parsed.count < count {
            parsed = Self.parse(buffer)
            if parsed.count >= count { break }
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard received > 0 else { break }
            buffer += chunk[0..<received]
        }
        return Array(Self.parse(buffer).prefix(count))
    }

    /// True when the server has closed the connection (EOF or reset), reading and discarding anything before it.
    func isClosed() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let received = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if received == 0 { return true }
            if received < 0 { return errno == ECONNRESET }
        }
    }

    static func parse(_ bytes: [UInt8]) -> [(Int, String)] {
        var results: [(Int, String)] = []
        var index = 0
        let text = bytes
        while let headEnd = find([0x0D, 0x0A, 0x0D, 0x0A], in: text, from: index) {
            let head = String(decoding: text[index..<headEnd], as: UTF8.self)
            let status = Int(head.split(separator: " ")[1]) ?? 0
            let length =
                head.components(separatedBy: "\r\n").first { $0.lowercased().hasPrefix("content-length:") }
                .flatMap { Int($0.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) } ?? 0
            let bodyStart = headEnd + 4
            guard text.count >= bodyStart + length else { break }
            results.append((status, String(decoding: text[bodyStart..<bodyStart + length], as: UTF8.self)))
            index = bodyStart + length
        }
        return results
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard haystack.count >= needle.count else { return nil }
        var index = start
        while index + needle.count <= haystack.count {
            if Array(haystack[index..<index + needle.count]) == needle { return index }
            index += 1
        }
        return nil
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// A server in this process with handlers made for the test: `/fast` answers inline, `/slow?ms=N` sleeps on the
/// handler pool, `/big` returns 1 MiB, `/stream?pieces=N&size=S` streams N pieces of S bytes (piece i is the
/// letter `a` + i % 26, repeated; `fail=K` makes the producer throw after K pieces).
final class InProcessServer: Sendable {
    final class Counters: Sendable {
        let slowStarted = Atomic<Int>(0)
        let slowFinished = Atomic<Int>(0)
        let runReturned = Atomic<Bool>(false)
        /// `/stream`: pieces handed over, and producers that have returned (or stopped, `streamsStopped`).
        let piecesWritten = Atomic<Int>(0)
        let streamsEnded = Atomic<Int>(0)
        let streamsStopped = Atomic<Int>(0)
    }

    let server: HTTPServer
    let counters = Counters()

    init(configure: (inout HTTPServer.Configuration) -> Void = { _ in }) throws {
        var configuration = HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0"))
        configure(&configuration)
        let counters = self.counters
        let big = [UInt8](repeating: UInt8(ascii: "x"), count: 1 << 20)
        let answer: @Sendable (HTTPRequest) -> HTTPResponse = { request in
            switch request.path {
            case "/slow":
                counters.slowStarted.add(1, ordering: .relaxed)
                usleep(UInt32(Int(request.queryValue("ms") ?? "1000")! * 1000))
                counters.slowFinished.add(1, ordering: .relaxed)
                return HTTPResponse(status: 200, body: Array("slow".utf8))
            case "/big": return HTTPResponse(status: 200, body: big)
            case "/stream":
                let pieces = Int(request.queryValue("pieces") ?? "10")!
                let size = Int(request.queryValue("size") ?? "100")!
                let failAfter = request.queryValue("fail").flatMap { Int($0) }
                return HTTPResponse(
                    status: 200, headers: [("Content-Type", "text/plain")],
                    stream: ResponseStream { writer in
                        defer { counters.streamsEnded.add(1, ordering: .relaxed) }
                        for i in 0..<pieces {
                            if i == failAfter { throw FixtureError("producer failed") }
                            do {
                                try writer.write(InProcessServer.piece(i, size: size))
                            } catch {
                                counters.streamsStopped.add(1, ordering: .relaxed)
                                throw error
                            }
                            counters.piecesWritten.add(1, ordering: .relaxed)
                        }
                    })
            default: return HTTPResponse(status: 200, body: Array("fast \(request.header("x-n") ?? "")".utf8))
            }
        }
        server = try HTTPServer(
            configuration: configuration, handler: answer,
            rejecter: { status, message in HTTPResponse(status: status, body: Array(message.utf8)) },
            inlineHandler: { $0.path == "/slow" || $0.path == "/stream" ? nil : answer($0) })
        let server = self.server
        Thread.detachNewThread {
            server.run()
            counters.runReturned.store(true, ordering: .releasing)
        }
    }

    var port: UInt16 { server.port }

    static func piece(_ index: Int, size: Int) -> [UInt8] {
        [UInt8](repeating: UInt8(ascii: "a") + UInt8(index % 26), count: size)
    }

    /// Shuts down and waits for `run()` to return.
    func stop() {
        server.shutdown()
        let deadline = Date().addingTimeInterval(20)
        while !counters.runReturned.load(ordering: .acquiring) && Date() < deadline { usleep(10_000) }
    }
}

func get(_ path: String, _ extra: String = "") -> String { "GET \(path) HTTP/1.1\r\nHost: t\r\n\(extra)\r\n" }

@Suite struct HTTPServerTests {
    /// Requests for slow handlers (fsync, reports) wait on the handler pool; the event loops keep answering
    /// everyone else meanwhile. Shown by order, not by timing: the fast answer arrives while every slow
    /// handler is still sleeping.
    @Test func slowHandlersDoNotHoldUpOtherConnections() throws {
        let server = try InProcessServer { $0.eventLoops = 1 }
        defer { server.stop() }
        let slow = try (0..<8).map { _ in try TestClient(port: server.port) }
        for client in slow { client.send(get("/slow?ms=3000")) }
        while server.counters.slowStarted.load(ordering: .relaxed) < 8 { usleep(5_000) }
        let fast = try TestClient(port: server.port)
        for n in 0..<20 { fast.send(get("/fast", "X-N: \(n)\r\n")) }
        let answers = fast.responses(20)
        let finishedSlow = server.counters.slowFinished.load(ordering: .relaxed)
        #expect(finishedSlow == 0)
        #expect(answers.map(\.body) == (0..<20).map { "fast \($0)" })
        for client in slow { #expect(client.responses(1).first?.status == 200) }
    }

    /// Pipelined requests mixing inline and pooled handlers come back in the order sent.
    @Test func pipelinedAnswersKeepTheirOrderAcrossThePool() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        var batch = ""
        for n in 0..<30 { batch += n % 3 == 0 ? get("/slow?ms=5", "X-N: \(n)\r\n") : get("/fast", "X-N: \(n)\r\n") }
        client.send(batch)
        let bodies = client.responses(30).map(\.body)
        #expect(bodies == (0..<30).map { $0 % 3 == 0 ? "slow" : "fast \($0)" })
    }

    /// Pipelined requests whose answers exceed the output high-water mark, read by a client that keeps up: every
    /// answer arrives. (Answering pauses at the mark; when the kernel took everything at once, nothing resumed
    /// it and the rest of the pipeline waited forever.)
    @Test func pipelinedLargeAnswersAllArrive() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let client = try TestClient(port: server.port, receiveTimeout: 5)
        client.send(String(repeating: get("/big"), count: 40) + get("/fast", "X-N: end\r\n"))
        let answers = client.responses(41)
        #expect(answers.count == 41)
        #expect(answers.dropLast().allSatisfy { $0.body.utf8.count == 1 << 20 })
        let last = answers.last.map { $0.body.utf8.count > 100 ? "\($0.body.utf8.count) bytes" : $0.body }
        #expect(last == "fast end")
    }

    /// Hundreds of connections at once, each with requests in flight, on two loop threads and a small pool:
    /// all answered, and the pool never grows past its limit.
    @Test func manyConnectionsShareFewThreads() throws {
        let server = try InProcessServer {
            $0.eventLoops = 2
            $0.handlerThreads = 4
            $0.maximumConnections = 1000
        }
        defer { server.stop() }
        let clients = try (0..<300).map { _ in try TestClient(port: server.port) }
        for (n, client) in clients.enumerated() {
            client.send(n % 10 == 0 ? get("/slow?ms=20") : get("/fast", "X-N: \(n)\r\n"))
        }
        for (n, client) in clients.enumerated() {
            #expect(client.responses(1).first?.body == (n % 10 == 0 ? "slow" : "fast \(n)"))
        }
        #expect(server.server.handlerThreadCount <= 4)
        #expect(server.server.activeConnections == 300)
    }

    /// A client that pipelines requests for large answers and never reads: the server stops reading from it
    /// (its output stays bounded), then gives up on it after the write timeout, while others are served.
    @Test func aClientThatDoesNotReadIsCutOff() throws {
        let server = try InProcessServer { $0.writeTimeout = 1 }
        defer { server.stop() }
        let hog = try TestClient(port: server.port)
        hog.send(String(repeating: get("/big"), count: 200))
        let other = try TestClient(port: server.port)
        other.send(get("/fast", "X-N: 1\r\n"))
        #expect(other.responses(1).first?.body == "fast 1")
        Thread.sleep(forTimeInterval: 2.5)
        // Whatever was queued before the cut, then the end: far fewer than 200 answers of 1 MiB.
        var received = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { recv(hog.descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received += count
        }
        #expect(received < 20 << 20, "\(received) bytes")
        #expect(server.server.activeConnections == 1)  // only `other` is left
    }

    /// Idle keep-alive connections close after the idle timeout; a request arriving in pieces slower than the
    /// request timeout gets 408.
    @Test func idleAndSlowConnectionsAreClosed() throws {
        let server = try InProcessServer {
            $0.idleTimeout = 0.5
            $0.requestTimeout = 0.5
        }
        defer { server.stop() }
        let idle = try TestClient(port: server.port)
        idle.send(get("/fast"))
        #expect(idle.responses(1).count == 1)
        #expect(idle.isClosed())
        let slow = try TestClient(port: server.port)
        slow.send("GET /fast HTTP/1.1\r\nHo")
        #expect(slow.responses(1).first?.status == 408)
    }

    /// A refused request still being sent (a body over the limit) gets its 413 rather than a reset: the server
    /// answers, shuts its side and reads what is still coming before closing.
    @Test func refusalsReachClientsStillSending() throws {
        let server = try InProcessServer { $0.limits.bodyBytes = 1024 }
        defer { server.stop() }
        for _ in 0..<20 {
            let client = try TestClient(port: server.port)
            client.send("POST /fast HTTP/1.1\r\nHost: t\r\nContent-Length: 1000000\r\n\r\n")
            client.send([UInt8](repeating: 0x41, count: 200_000))
            #expect(client.responses(1).first?.status == 413)
        }
    }

    /// Shutdown waits for a handler already running on the pool, and its answer is delivered.
    @Test func shutdownWaitsForPooledHandlers() throws {
        let server = try InProcessServer()
        let client = try TestClient(port: server.port)
        client.send(get("/slow?ms=800"))
        while server.counters.slowStarted.load(ordering: .relaxed) < 1 { usleep(5_000) }
        server.server.shutdown()
        let answer = client.responses(1)
        #expect(answer.first?.body == "slow")
        server.stop()
        let returned = server.counters.runReturned.load(ordering: .acquiring)
        #expect(returned)
        #expect(client.isClosed())
    }
}
