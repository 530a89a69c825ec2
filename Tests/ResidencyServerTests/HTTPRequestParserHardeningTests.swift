import Testing

@testable import ResidencyServer

/// A deterministic generator, so a failing case can be replayed from its seed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return state ^ (state >> 29)
    }
}

/// What a parser made of a byte stream: the requests it took out, then the refusal that stopped it, if any.
struct ParseOutcome: Equatable {
    var requests: [String] = []
    var error: HTTPParseError?
}

/// Feeds `bytes` to a parser in the pieces `split` cuts, taking requests out after every piece, and records
/// the most bytes the parser held at any point.
func parse(
    _ bytes: [UInt8], limits: HTTPLimits = HTTPLimits(), pieces split: (Int) -> Int
) -> (outcome: ParseOutcome, peakHeld: Int, scanned: Int) {
    var parser = HTTPRequestParser(limits: limits)
    var outcome = ParseOutcome()
    var peak = 0
    var offset = 0
    while offset < bytes.count {
        let end = min(bytes.count, offset + max(1, split(offset)))
        parser.append(bytes[offset..<end])
        offset = end
        peak = max(peak, parser.heldBytes)
        do {
            while case .request(let request) = try parser.next() {
                outcome.requests.append(
                    "\(request.method) \(request.target) \(String(decoding: request.body, as: UTF8.self))")
            }
        } catch {
            outcome.error = error
            break
        }
        peak = max(peak, parser.heldBytes)
    }
    return (outcome, peak, parser.scannedBytes)
}

extension HTTPRequestParserTests {
    // MARK: Leading empty lines

    /// Empty lines before a request line are skipped — and dropped, and counted as the start of a request (the
    /// event loop starts the request clock on them) — up to a limit; an endless stream of them is refused.
    @Test func leadingEmptyLinesAreBoundedAndDropped() throws {
        var parser = HTTPRequestParser()
        parser.append(Array(String(repeating: "\r\n", count: 8).utf8))
        guard case .needMore = try parser.next() else {
            Issue.record("eight empty lines are no request")
            return
        }
        #expect(parser.heldBytes == 0)
        #expect(!parser.isIdle)
        parser.append(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\n".utf8))
        guard case .request(let request) = try parser.next() else {
            Issue.record("the request after eight empty lines")
            return
        }
        #expect(request.path == "/a")
        #expect(parser.isIdle)

        var flooded = HTTPRequestParser()
        #expect(throws: HTTPParseError(status: 400, message: "more than 8 empty lines before the request line")) {
            for _ in 0..<1000 {
                flooded.append([0x0D, 0x0A])
                _ = try flooded.next()
                #expect(flooded.heldBytes <= 2)
            }
        }
    }

    // MARK: Bounded memory

    /// Hostile streams, cut into random pieces of up to a socket read: whatever arrives, the parser holds at most
    /// the head and body limits plus one piece, and each stream ends in a refusal or in requests, never in a
    /// parser that waits for more while holding everything.
    @Test(arguments: 0..<8)
    func heldBytesStayBoundedWhateverArrives(stream: Int) {
        let limits = HTTPLimits()
        let pieceLimit = 64 * 1024
        var bytes: [UInt8] = []
        let post = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        switch stream {
        case 0: bytes = Array(String(repeating: "\r\n", count: 1 << 20).utf8)
        case 1: bytes = Array(("GET /x HTTP/1.1\r\nHost: x\r\n" + String(repeating: "X-A: b\r\n", count: 200_000)).utf8)
        case 2: bytes = Array((post + String(repeating: "1\r\nz\r\n", count: 400_000)).utf8)
        case 3: bytes = Array((post + "1\r\nz\r\n0\r\n" + String(repeating: "T: v\r\n", count: 100_000)).utf8)
        case 4:
            bytes = Array(
                (post + String(repeating: "1;" + String(repeating: "e", count: 1000) + "\r\nz\r\n", count: 100)).utf8)
        case 5: bytes = Array((post + "10000\r\n" + String(repeating: "y", count: 200_000)).utf8)
        case 6:
            bytes = Array(
                ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"
                    + String(repeating: "y", count: (1 << 20) + 100_000)).utf8)
        default:
            // Small pipelined requests, half a megabyte of them.
            bytes = Array(String(repeating: "GET /p HTTP/1.1\r\nHost: x\r\n\r\n", count: 20_000).utf8)
        }
        var generator = SeededGenerator(seed: UInt64(stream))
        let result = parse(bytes, limits: limits) { _ in Int.random(in: 1...pieceLimit, using: &generator) }
        let bound = limits.headBytes + limits.bodyBytes + pieceLimit + limits.chunkLineBytes
        #expect(result.peakHeld <= bound, "stream \(stream) held \(result.peakHeld) bytes")
        if stream == 7 {
            #expect(result.outcome.requests.count == 20_000)
        } else {
            #expect(result.outcome.error != nil, "stream \(stream) was not refused")
        }
    }

    // MARK: Chunked decoding

    /// A random chunked body: random chunk sizes, some with extensions, random trailers, then a pipelined request.
    static func randomChunkedMessage(using generator: inout SeededGenerator) -> (wire: [UInt8], body: [UInt8]) {
        var wire = Array("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        var body: [UInt8] = []
        for _ in 0..<Int.random(in: 0...12, using: &generator) {
            let size = Int.random(in: 1...300, using: &generator)
            let chunk = (0..<size).map { _ in UInt8.random(in: 0x20...0x7E, using: &generator) }
            body += chunk
            let hex = String(size, radix: 16, uppercase: Bool.random(using: &generator))
            let ext = Bool.random(using: &generator) ? ";name=\"v\(size)\"" : ""
            wire += Array("\(hex)\(ext)\r\n".utf8) + chunk + [0x0D, 0x0A]
        }
        wire += Array("0\r\n".utf8)
        for index in 0..<Int.random(in: 0...3, using: &generator) { wire += Array("T-\(index): v\r\n".utf8) }
        wire += Array("\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
        return (wire, body)
    }

    /// Decoding does not depend on how the bytes arrive: one at a time, all at once and random pieces give the
    /// same requests (the decoder keeps its state between reads).
    @Test func chunkedDecodingIsIndependentOfSplitting() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let (wire, body) = Self.randomChunkedMessage(using: &generator)
            let expected = ParseOutcome(requests: ["POST /c " + String(decoding: body, as: UTF8.self), "GET /after "])
            #expect(parse(wire) { _ in wire.count }.outcome == expected)
            #expect(parse(wire) { _ in 1 }.outcome == expected)
            let cuts = Int.random(in: 1...64, using: &generator)
            #expect(parse(wire) { _ in Int.random(in: 1...cuts, using: &generator) }.outcome == expected)
        }
    }

    /// A 1 MiB body in 1-byte chunks (six wire bytes each), arriving in 4 KiB reads: the work stays a small
    /// multiple of the input. The old decoder went back to the start of the body on every read.
    @Test func chunkedDecodingIsLinear() {
        var limits = HTTPLimits()
        limits.chunkCount = 1 << 21
        let size = 1 << 20
        var wire = Array("POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n".utf8)
        wire.reserveCapacity(wire.count + size * 6 + 5)
        for index in 0..<size { wire += [0x31, 0x0D, 0x0A, UInt8(0x61 + index % 26), 0x0D, 0x0A] }
        wire += Array("0\r\n\r\n".utf8)
        let result = parse(wire, limits: limits) { _ in 4096 }
        #expect(result.outcome.error == nil)
        #expect(result.outcome.requests.count == 1)
        #expect(result.outcome.requests.first?.utf8.count == "POST /c ".utf8.count + size)
        #expect(result.scanned <= 2 * wire.count, "scanned \(result.scanned) bytes for \(wire.count)")
        #expect(result.peakHeld <= size + 4096 + 64)
    }

    /// The limits on chunk framing, each refused with a message naming the limit.
    @Test(arguments: [
        (String(repeating: "1\r\nz\r\n", count: 65_537), 413, "more than 65536 chunks"),
        (
            String(repeating: "1;" + String(repeating: "e", count: 4000) + "\r\nz\r\n", count: 5), 400,
            "chunk extensions exceed 16384 bytes in total"
        ),
        ("1;" + String(repeating: "e", count: 5000) + "\r\nz\r\n", 400, "longer than 4096 bytes"),
        ("1;a\u{01}\r\nz\r\n0\r\n\r\n", 400, "control character in a chunk extension"),
        ("1\nz\r\n0\r\n\r\n", 400, "bare LF in chunk framing"),
        ("1\r\nz\r\n0\n\r\n", 400, "bare LF in chunk framing"),
        ("1\r\nz\r\n0\r\n" + String(repeating: "T: v\r\n", count: 33) + "\r\n", 431, "more than 32 trailer fields"),
        (
            "1\r\nz\r\n0\r\nT: " + String(repeating: "v", count: 9000) + "\r\n\r\n", 431,
            "trailer fields exceed 8192 bytes"
        ),
        ("1\r\nz\r\n0\r\nno colon\r\n\r\n", 400, "malformed trailer field"),
        ("1\r\nz\r\n0\r\nT : v\r\n\r\n", 400, "malformed trailer field"),
        ("100000000\r\n", 400, "malformed chunk size"),
    ])
    func refusesChunkFramingPastItsLimits(body: String, status: Int, message: String) {
        let wire = Array(("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body).utf8)
        for (name, piece) in [("whole", wire.count), ("bytewise", 1)] where wire.count < 100_000 || piece > 1 {
            let outcome = parse(wire) { _ in piece }.outcome
            #expect(outcome.error?.status == status, "\(name): \(String(describing: outcome.error))")
            #expect(outcome.error?.message.contains(message) == true, "\(name): \(String(describing: outcome.error))")
        }
    }

    // MARK: Protocol leniency

    /// Requests refused on purpose (RFC 9110/9112), each for a reason the message names.
    @Test(arguments: [
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", 400, "more than once"),
        (
            "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            400, "more than once"
        ),
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400, "must be the last"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ,\r\n\r\n", 400, "empty Transfer-Encoding"),
        ("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "not allowed in HTTP/1.0"),
        ("GET /x HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", 400, "more than one Host"),
        ("GET /x HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 400, "more than one Host"),
        ("GET /x HTTP/1.1\r\nHost: a, b\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: user@a\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: a:80x\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: a:123456\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: [zz]\r\n\r\n", 400, "one host name"),
        ("GET /x HTTP/1.1\r\nHost: a%zz\r\n\r\n", 400, "one host name"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: +5\r\n\r\nhello", 400, "decimal number"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 5\r\n\r\nhello", 400, "decimal number"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5 5\r\n\r\nhello", 400, "decimal number"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length:\r\n\r\n", 400, "decimal number"),
        ("GET /x#frag HTTP/1.1\r\nHost: x\r\n\r\n", 400, "fragment"),
        ("GET /x\u{0} HTTP/1.1\r\nHost: x\r\n\r\n", 400, "origin-form"),
        ("GET /x HTTP/1.1\r\nHost: x\r\nX-\u{0}: v\r\n\r\n", 400, "malformed header name"),
        ("GET /x HTTP/1.1\r\nHost: x\r\nX: a\u{0}b\r\n\r\n", 400, "control character"),
        ("GET /x HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n", 400, "control character"),
        ("GE\u{0}T /x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed method"),
        ("GET /x http/1.1\r\nHost: x\r\n\r\n", 400, "malformed HTTP version"),
        ("GET /x HTTP/1.1 \r\nHost: x\r\n\r\n", 400, "malformed request line"),
        ("GET  /x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "malformed request line"),
        ("OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n", 400, "origin-form"),
        ("GET https://x/y HTTP/1.1\r\nHost: x\r\n\r\n", 400, "origin-form"),
        ("\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", 400, "bare LF"),
    ])
    func refusesLenientForms(text: String, status: Int, message: String) {
        let outcome = parse(Array(text.utf8)) { _ in Int.max / 2 }.outcome
        #expect(outcome.requests.isEmpty, "\(text.debugDescription)")
        #expect(outcome.error?.status == status, "\(text.debugDescription): \(String(describing: outcome.error))")
        #expect(outcome.error?.message.contains(message) == true, "\(String(describing: outcome.error))")
    }

    /// Forms the RFCs allow and the parser accepts on purpose.
    @Test(arguments: [
        // Repeated identical Content-Length (RFC 9110 §8.6).
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "POST /x hello"),
        // Methods are case-sensitive tokens: "get" is kept as sent, not taken for GET (the API answers 501).
        ("get /x HTTP/1.1\r\nHost: x\r\n\r\n", "get /x "),
        ("GET /x HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", "GET /x "),
        ("GET /x HTTP/1.1\r\nHost: api.example.com:443\r\n\r\n", "GET /x "),
        ("GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", "GET /x "),
        ("GET /x HTTP/1.1\r\nHost:\r\n\r\n", "GET /x "),
        // Transfer codings are case-insensitive; empty list elements are skipped (RFC 9110 §5.6.1).
        ("POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: , Chunked\r\n\r\n2\r\nhi\r\n0\r\n\r\n", "POST /x hi"),
        ("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 007\r\n\r\nhello!!", "POST /x hello!!"),
        ("\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", "GET /x "),
    ])
    func acceptsWhatTheRFCsAllow(text: String, expected: String) {
        let outcome = parse(Array(text.utf8)) { _ in 1 }.outcome
        #expect(outcome == ParseOutcome(requests: [expected]), "\(text.debugDescription)")
    }
}
