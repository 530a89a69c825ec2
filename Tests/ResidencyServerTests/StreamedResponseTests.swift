import Foundation
import Synchronization
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// Streamed answers (`HTTPResponse.stream`) over real sockets: curl reads chunked framing and the whole body;
/// a reader that stops reading or leaves stops the producer, whose output stays bounded meanwhile.
@Suite(.serialized) struct StreamedResponseTests {
    static func expectedBody(pieces: Int, size: Int) -> [UInt8] {
        (0..<pieces).flatMap { InProcessServer.piece($0, size: size) }
    }

    /// Runs curl with `arguments`; answers its standard output and exit status.
    static func curl(_ arguments: [String]) throws -> (output: [UInt8], status: Int32) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["curl", "-s", "--max-time", "30"] + arguments
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        return (bytes, process.terminationStatus)
    }

    /// Chunked framing (RFC 9112 §7.1) read strictly: hex size, CRLF, that many bytes, CRLF; a zero-size chunk
    /// and the final CRLF end it, with nothing after. Answers the pieces; nil when the framing is broken.
    static func dechunk(_ raw: [UInt8]) -> [[UInt8]]? {
        var pieces: [[UInt8]] = []
        var at = 0
        while true {
            guard let lineEnd = TestClient.find([0x0D, 0x0A], in: raw, from: at),
                let size = Int(String(decoding: raw[at..<lineEnd], as: UTF8.self), radix: 16)
            else { return nil }
            at = lineEnd + 2
            if size == 0 { return raw.count == at + 2 && raw[at] == 0x0D && raw[at + 1] == 0x0A ? pieces : nil }
            guard at + size + 2 <= raw.count, raw[at + size] == 0x0D, raw[at + size + 1] == 0x0A else { return nil }
            pieces.append(Array(raw[at..<(at + size)]))
            at += size + 2
        }
    }

    @Test func curlReadsAChunkedBodyWhole() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let url = "http://127.0.0.1:\(server.port)/stream?pieces=300&size=1000"
        let raw = try Self.curl(["--raw", url])
        #expect(raw.status == 0)
        let pieces = try #require(Self.dechunk(raw.output), "the chunked framing is broken")
        #expect(pieces.count == 300)
        #expect(pieces.flatMap { $0 } == Self.expectedBody(pieces: 300, size: 1_000), "body differs")
        // Decoded by curl, with the headers: chunked, no Content-Length; the same body.
        let decoded = try Self.curl(["-D", "-", url])
        #expect(decoded.status == 0)
        let text = String(decoding: decoded.output, as: UTF8.self)
        let headEnd = try #require(text.range(of: "\r\n\r\n"))
        let head = headEnd.lowerBound
        #expect(text[..<head].lowercased().contains("transfer-encoding: chunked"))
        #expect(!text[..<head].lowercased().contains("content-length"))
        #expect(Array(text[headEnd.upperBound...].utf8) == Self.expectedBody(pieces: 300, size: 1_000), "body differs")
        // Keep-alive goes on after a streamed answer: two on one connection, then a whole one.
        let twice = try Self.curl([url, url, "http://127.0.0.1:\(server.port)/fast"])
        let both = Self.expectedBody(pieces: 300, size: 1_000) + Self.expectedBody(pieces: 300, size: 1_000)
        #expect(twice.output == both + Array("fast ".utf8), "\(twice.output.count) bytes, \(twice.status)")
        #expect(server.server.streamFailures == 0)
    }

    /// HTTP/1.0 knows no chunks: the body is sent as it is and ends with the connection.
    @Test func anHTTP10ReaderGetsTheBodyUntilClose() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let result = try Self.curl(["--http1.0", "-D", "-", "http://127.0.0.1:\(server.port)/stream?pieces=50&size=999"])
        #expect(result.status == 0)
        let text = String(decoding: result.output, as: UTF8.self)
        let headEnd = try #require(text.range(of: "\r\n\r\n"))
        let head = headEnd.lowerBound
        #expect(!text[..<head].lowercased().contains("chunked"))
        #expect(text[..<head].lowercased().contains("connection: close"))
        #expect(Array(text[headEnd.upperBound...].utf8) == Self.expectedBody(pieces: 50, size: 999), "\(text.utf8.count) bytes: \(text.prefix(300))")
    }

    /// A producer that fails part way cuts the connection: curl sees the body end early (exit 18), never a
    /// complete-looking one, and the failure is counted.
    @Test func aFailedProducerCutsTheBodyShort() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        let result = try Self.curl(["http://127.0.0.1:\(server.port)/stream?pieces=100&size=1000&fail=20"])
        #expect(result.status == 18)
        #expect(result.output.count <= 20 * 1_000)
        #expect(server.server.streamFailures == 1)
    }

    /// A reader that sends its request and reads nothing: the producer waits with about one piece in hand (the
    /// socket's buffers hold the rest), is cut off at the write timeout, and stops — its thread is not held.
    @Test func aReaderThatReadsNothingStopsTheProducer() throws {
        let server = try InProcessServer { $0.writeTimeout = 1 }
        defer { server.stop() }
        let hog = try TestClient(port: server.port)
        hog.send(get("/stream?pieces=100000&size=65536"))  // 6.5 GB if it were all produced
        let deadline = Date().addingTimeInterval(10)
        while server.counters.streamsStopped.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(50_000) }
        #expect(server.counters.streamsStopped.load(ordering: .relaxed) == 1)
        // What the kernel's buffers could take, and one piece: nowhere near the body.
        #expect(server.counters.piecesWritten.load(ordering: .relaxed) < 200)
        #expect(server.server.streamFailures == 0)
    }

    /// A reader that takes a little and leaves stops the producer too.
    @Test func aReaderThatLeavesStopsTheProducer() throws {
        let server = try InProcessServer()
        defer { server.stop() }
        do {
            let reader = try TestClient(port: server.port)
            reader.send(get("/stream?pieces=100000&size=65536"))
            var buffer = [UInt8](repeating: 0, count: 1 << 16)
            _ = buffer.withUnsafeMutableBytes { recv(reader.descriptor, $0.baseAddress, $0.count, 0) }
        }  // closed here
        let deadline = Date().addingTimeInterval(10)
        while server.counters.streamsEnded.load(ordering: .relaxed) == 0 && Date() < deadline { usleep(50_000) }
        #expect(server.counters.streamsStopped.load(ordering: .relaxed) == 1)
        #expect(server.counters.piecesWritten.load(ordering: .relaxed) < 200)
    }
}
