import Foundation
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// The event loop writes its output once per epoll batch (the ready connections are read and answered, then
/// written): what that must not change — order within a connection, answers larger than the socket takes at
/// once, a reader that is slow or closes, keep-alive and `Connection: close`. On one loop, so the connections
/// share its batches.
@Suite struct HTTPServerBatchTests {
    /// Many connections each pipelining many inline requests at once, so one batch holds several of them with
    /// several answers each: every connection gets its own answers, in the order it sent them.
    @Test func pipelinedAnswersKeepTheirOrderWithinABatch() throws {
        let server = try InProcessServer { $0.eventLoops = 1 }
        defer { server.stop() }
        let clients = try (0..<16).map { _ in try TestClient(port: server.port) }
        for (c, client) in clients.enumerated() {
            client.send((0..<50).map { get("/fast", "X-N: \(c)-\($0)\r\n") }.joined())
        }
        for (c, client) in clients.enumerated() {
            #expect(client.responses(50).map(\.body) == (0..<50).map { "fast \(c)-\($0)" })
        }
    }

    /// Answers far larger than the socket buffer go out in many partial writes, read slowly by a client with a
    /// small receive buffer: each arrives whole and in order, and the connection then answers again (keep-alive).
    @Test func partialWritesArriveWholeAndTheConnectionGoesOn() throws {
        let server = try InProcessServer { $0.eventLoops = 1 }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        // Far less than an answer, not so little that TCP's window crawls (4 KiB took tens of seconds a MiB).
        var small: Int32 = 64 << 10
        setsockopt(client.descriptor, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        client.send(get("/big") + get("/fast", "X-N: between\r\n") + get("/big"))
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 8192)
        var reads = 0
        // Until the three answers are whole (a read times out after 10 s: the server stopped sending).
        while received.count < 2 << 20 || TestClient.parse(received).count < 3 {
            let count = chunk.withUnsafeMutableBytes { recv(client.descriptor, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { break }
            received += chunk[0..<count]
            reads += 1
            if reads % 32 == 0 { usleep(2_000) }  // a reader slower than the server
        }
        let answers = TestClient.parse(received)
        #expect(answers.map(\.0) == [200, 200, 200])
        #expect(answers.count == 3 && answers[0].1 == String(repeating: "x", count: 1 << 20))
        #expect(answers.count == 3 && answers[1].1 == "fast between")
        #expect(answers.count == 3 && answers[2].1 == String(repeating: "x", count: 1 << 20))
        client.send(get("/fast", "X-N: after\r\n"))
        #expect(client.responses(1).first?.body == "fast after")
    }

    /// A client that has a large answer waiting and does not read yet holds up no one on its loop: others are
    /// answered meanwhile, and once it reads, it gets everything.
    @Test func aSlowReaderDoesNotHoldUpOthers() throws {
        let server = try InProcessServer { $0.eventLoops = 1 }
        defer { server.stop() }
        let slow = try TestClient(port: server.port)
        slow.send(get("/big") + get("/big") + get("/fast", "X-N: slow\r\n"))
        usleep(50_000)
        for round in 0..<5 {
            let others = try (0..<10).map { _ in try TestClient(port: server.port) }
            for (n, other) in others.enumerated() { other.send(get("/fast", "X-N: \(round)-\(n)\r\n")) }
            for (n, other) in others.enumerated() {
                #expect(other.responses(1).first?.body == "fast \(round)-\(n)")
            }
        }
        let answers = slow.responses(3)
        #expect(answers.map(\.body.utf8.count) == [1 << 20, 1 << 20, "fast slow".utf8.count])
        #expect(answers.last?.body == "fast slow")
    }

    /// Keep-alive: a connection asked one request at a time, waiting for each answer, stays open for all of
    /// them; `Connection: close` ends it after its answer (written at the batch's end, then closed), and a
    /// request pipelined behind it is not answered.
    @Test func keepAliveAndCloseAfterTheBatch() throws {
        let server = try InProcessServer { $0.eventLoops = 1 }
        defer { server.stop() }
        let client = try TestClient(port: server.port)
        for n in 0..<100 {
            client.send(get("/fast", "X-N: \(n)\r\n"))
            #expect(client.responses(1).first?.body == "fast \(n)")
        }
        client.send(get("/fast", "X-N: last\r\nConnection: close\r\n") + get("/fast", "X-N: never\r\n"))
        #expect(client.responses(2).map(\.body) == ["fast last"])
        #expect(client.isClosed())
        let old = try TestClient(port: server.port)
        old.send("GET /fast HTTP/1.0\r\nX-N: 1.0\r\n\r\n")
        #expect(old.responses(1).first?.body == "fast 1.0")
        #expect(old.isClosed())
    }
}
