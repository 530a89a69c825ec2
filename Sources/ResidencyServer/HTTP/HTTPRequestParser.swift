import Foundation

// The fuzz target (Scripts/fuzz http) compiles these files with Core's ASCII helpers into one module.
#if canImport(ResidencyCore)
    import ResidencyCore
#endif

/// Limits every connection is held to.
///
/// Together they bound what one connection can make the server hold: at most `headBytes` of head,
/// `bodyBytes` of body and a little framing, whatever the client sends and however it splits it.
package struct HTTPLimits: Sendable {
    /// Request line and header fields together.
    package var headBytes = 16 * 1024
    package var headerCount = 100
    package var bodyBytes = 1024 * 1024
    /// Empty lines skipped before a request line. RFC 9112 §2.2 asks servers to skip at least one (some clients
    /// send a CRLF after a body); an endless stream of them is no request, and is refused.
    package var leadingEmptyLines = 8
    /// Chunks in one chunked body. Each costs at least five bytes of framing, so without a cap a body of
    /// `bodyBytes` could take six times that on the wire, each byte parsed.
    package var chunkCount = 64 * 1024
    /// One chunk-size line, extensions included.
    package var chunkLineBytes = 4096
    /// Chunk extensions across one body (the server reads none of them).
    package var chunkExtensionBytes = 16 * 1024
    /// Trailer field lines after a chunked body (read, checked and discarded) and their bytes.
    package var trailerCount = 32
    package var trailerBytes = 8 * 1024

    package init() {}
}

/// A request that cannot be parsed: the status to answer with, and why. The connection is closed after.
package struct HTTPParseError: Error, Sendable, Equatable {
    package let status: Int
    package let message: String
}

/// An incremental HTTP/1.1 request parser: feed it bytes as they arrive, take requests out in order.
///
/// Strict where leniency lets requests be smuggled or misread: one framing per message (Content-Length
/// and Transfer-Encoding together are refused), digits-only Content-Length, chunked at most once and last, one
/// valid Host, no whitespace before a header's colon, no obsolete line folding, origin-form targets without a
/// fragment, CRLF line ends only (in chunk framing too). Methods are case-sensitive tokens and kept as sent.
///
/// Linear and bounded: every byte is examined a bounded number of times however the input is split (the head
/// search and the chunked decoder resume where they stopped; a parsed head is kept, not parsed again), and
/// consumed bytes are dropped, so the buffer holds at most the unfinished request — within the limits — and
/// the last bytes appended. A chunked body is decoded as it arrives into `chunkedBody`.
package struct HTTPRequestParser: Sendable {
    package let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// Where unparsed bytes start in `buffer`. Bytes before it are dropped when `next()` runs out of input (or
    /// all at once when none are left), so moving the rest costs at most what was consumed since.
    private var start = 0
    /// Bytes after `start` already searched for the end of the head or of a framing line without finding it.
    private var searched = 0
    /// Empty lines skipped before the request line being received.
    private var emptyLines = 0
    /// The head of the request whose body is arriving.
    private var head: Head?
    private var chunked = ChunkedState()
    /// Bytes examined so far, for tests that hold the work linear in the input.
    private(set) var scannedBytes = 0

    package init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    package enum Next: Sendable {
        case request(HTTPRequest)
        /// More bytes are needed; `expectsContinue` when a complete head asked for `100 Continue` and its
        /// body has not arrived yet.
        case needMore(expectsContinue: Bool)
    }

    package mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// True when no byte of a next request has arrived — an empty line before a request line counts as one.
    package var isIdle: Bool { start == buffer.count && emptyLines == 0 && head == nil }

    /// Bytes the parser holds: its buffer and the chunked body decoded so far.
    var heldBytes: Int { buffer.count + chunked.body.count }

    package mutating func next() throws(HTTPParseError) -> Next {
        if head == nil {
            guard let parsed = try readHead() else {
                dropConsumed()
                return .needMore(expectsContinue: false)
            }
            head = parsed
            if case .chunked = parsed.framing { chunked = ChunkedState() }
        }
        guard let head else { return .needMore(expectsContinue: false) }
        var body: [UInt8] = []
        switch head.framing {
        case .none: break
        case .length(let length):
            guard buffer.count - start >= length else {
                dropConsumed()
                return .needMore(expectsContinue: head.expectsContinue)
            }
            body = Array(buffer[start..<start + length])
            start += length
            scannedBytes += length
        case .chunked:
            guard try decodeChunks() else {
                dropConsumed()
                return .needMore(expectsContinue: head.expectsContinue)
            }
            swap(&body, &chunked.body)
        }
        self.head = nil
        emptyLines = 0
        searched = 0
        if start == buffer.count { dropConsumed() }
        return .request(HTTPRequest(head: head.request, body: body))
    }

    /// Forgets the bytes before `start`. A large buffer left empty is released: an idle keep-alive connection
    /// should not keep the memory of the biggest request it ever sent.
    private mutating func dropConsumed() {
        guard start > 0 else { return }
        if start == buffer.count {
            if buffer.capacity > 64 * 1024 {
                buffer = []
            } else {
                buffer.removeAll(keepingCapacity: true)
            }
        } else {
            buffer.removeFirst(start)
        }
        start = 0
    }

    private static let badLeadingLine = "bare CR or LF before the request line; lines end with CRLF"

    /// Skips leading empty lines, then returns the parsed head once it is complete (consuming it).
    private mutating func readHead() throws(HTTPParseError) -> Head? {
        while buffer.count - start >= 2, buffer[start] == 0x0D, buffer[start + 1] == 0x0A {
            guard emptyLines < limits.leadingEmptyLines else {
                throw HTTPParseError(
                    status: 400, message: "more than \(limits.leadingEmptyLines) empty lines before the request line")
            }
            emptyLines += 1
            start += 2
            searched = 0
            scannedBytes += 2
        }
        guard let headEnd = findHeadEnd() else {
            if buffer.count - start > limits.headBytes + 3 {
                throw HTTPParseError(status: 431, message: "request line and headers exceed \(limits.headBytes) bytes")
            }
            return nil
        }
        guard headEnd - start <= limits.headBytes else {
            throw HTTPParseError(status: 431, message: "request line and headers exceed \(limits.headBytes) bytes")
        }
        scannedBytes += headEnd - start
        let head = try Self.parseHead(buffer[start..<headEnd], limits: limits)
        start = headEnd + 4
        searched = 0
        return head
    }

    /// The index of the CRLFCRLF ending the head, searching only bytes not searched before.
    private mutating func findHeadEnd() -> Int? {
        var index = start + searched
        let limit = min(buffer.count, start + limits.headBytes + 4)
        defer {
            scannedBytes += index - (start + searched)
            searched = index - start
        }
        // From CR to CR by memchr: a head is mostly bytes that are none, and stepping over them one by one
        // through the array was a twentieth of a placement.
        return buffer.withUnsafeBufferPointer { bytes -> Int? in
            while index + 3 < limit {
                guard let carriageReturn = Self.index(of: 0x0D, in: bytes, from: index, to: limit - 3) else {
                    index = limit - 3
                    return nil
                }
                index = carriageReturn
                if bytes[index + 1] == 0x0A && bytes[index + 2] == 0x0D && bytes[index + 3] == 0x0A { return index }
                index += 1
            }
            return nil
        }
    }

    enum Framing { case none, length(Int), chunked }

    /// A parsed head waiting for its body: the request's head (one object, copied by a retain) and how its body
    /// is framed.
    struct Head {
        var request: RequestHead
        var framing: Framing
        var expectsContinue: Bool
    }

    /// Parses and checks a complete head (without its final CRLFCRLF).
    ///
    /// Works over one copy of the head's bytes, which the request keeps: header fields are checked here but
    /// become Strings only when a handler asks for one (`HTTPHeaderFields`). Only the fields that decide framing
    /// and routing — Host, Content-Length, Transfer-Encoding, Expect — are interpreted, and as bytes.
    ///
    /// Static, given the limits: as a method it took a copy of the whole parser (its buffer and state) per head.
    private static func parseHead(_ slice: ArraySlice<UInt8>, limits: HTTPLimits) throws(HTTPParseError) -> Head {
        func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message: message) }
        let bytes = Array(slice)
        // Lines end with CRLF; a bare LF anywhere is refused before anything else is looked at. The byte loops
        // here run over the head's buffer itself — no bounds check or reference count per byte — and find line
        // ends and colons with memchr: walking ArraySlices byte by byte was most of the parser's instructions.
        let (firstLineEnd, lineCount) = try bytes.withUnsafeBufferPointer {
            (head) throws(HTTPParseError) -> (Int, Int) in
            var firstLineEnd = head.count
            var lines = 1
            var index = 0
            while let lineFeed = Self.index(of: 0x0A, in: head, from: index, to: head.count) {
                guard lineFeed > 0, head[lineFeed - 1] == 0x0D else {
                    throw bad("bare LF in the request head; lines end with CRLF")
                }
                if firstLineEnd == head.count { firstLineEnd = lineFeed - 1 }
                lines += 1
                index = lineFeed + 1
            }
            return (firstLineEnd, lines)
        }

        // The request line: exactly METHOD SP TARGET SP VERSION.
        guard let firstSpace = bytes[0..<firstLineEnd].firstIndex(of: 0x20),
            let secondSpace = bytes[(firstSpace + 1)..<firstLineEnd].firstIndex(of: 0x20),
            !bytes[(secondSpace + 1)..<firstLineEnd].contains(0x20)
        else { throw bad("malformed request line; expected METHOD SP TARGET SP HTTP/1.1") }
        let methodBytes = bytes[0..<firstSpace]
        let targetBytes = bytes[(firstSpace + 1)..<secondSpace]
        let versionBytes = bytes[(secondSpace + 1)..<firstLineEnd]
        guard !methodBytes.isEmpty, methodBytes.allSatisfy(Self.isTokenByte) else { throw bad("malformed method") }
        let method = Self.methodString(methodBytes)
        let minorVersion: Int
        if Self.equals(versionBytes, "HTTP/1.1") {
            minorVersion = 1
        } else if Self.equals(versionBytes, "HTTP/1.0") {
            minorVersion = 0
        } else {
            let version = String(decoding: versionBytes, as: UTF8.self)
            if version.hasPrefix("HTTP/") {
                throw HTTPParseError(status: 505, message: "\(version) is not supported; use HTTP/1.1")
            }
            throw bad("malformed HTTP version")
        }
        // Visible ASCII, and whether a fragment, a query or a percent-escape is among it, in one pass.
        let (visible, fragment, plain) = bytes.withUnsafeBufferPointer { head -> (Bool, Bool, Bool) in
            var fragment = false
            var plain = true
            for index in targetBytes.indices {
                let byte = head[index]
                guard byte > 0x20 && byte < 0x7F else { return (false, fragment, false) }
                if byte == UInt8(ascii: "#") { fragment = true }
                if byte == UInt8(ascii: "?") || byte == UInt8(ascii: "%") { plain = false }
            }
            return (true, fragment, plain)
        }
        guard targetBytes.first == UInt8(ascii: "/"), visible else {
            throw bad("the request target must be an origin-form path such as /v1/tenants")
        }
        // A fragment is the client's own business (RFC 9110 §7.1); one sent is a broken or probing client, and
        // where it ends the path is something two readers can disagree on.
        guard !fragment else {
            throw bad("the request target must not contain a fragment (#)")
        }
        let target = String(decoding: targetBytes, as: UTF8.self)
        let (segments, query) = try Self.splitTarget(targetBytes)
        // Nothing to decode, no query, and no trailing slash for the split to drop ("/" alone is its own path):
        // the target is the path as `HTTPRequest.path` would join it.
        let targetIsPath = plain && (targetBytes.count == 1 || targetBytes.last != UInt8(ascii: "/"))

        var spans: [HTTPHeaderFields.Span] = []
        // One allocation: the lines were counted above (the request line is not a field).
        spans.reserveCapacity(min(lineCount - 1, limits.headerCount))
        var contentLength: Int?
        var chunkedCount = 0
        var chunkedIsLast = false
        var unsupportedCoding: String?
        var sawTransferEncoding = false
        var hostCount = 0
        var expectsContinue = false
        var lineStart = firstLineEnd + 2
        while lineStart <= bytes.count {
            let (lineEnd, colon, valueStart, valueEnd) = try bytes.withUnsafeBufferPointer {
                (head) throws(HTTPParseError) -> (Int, Int, Int, Int) in
                // The head ends without its CRLF: its last line ends where the bytes do.
                var lineEnd = Self.index(of: 0x0A, in: head, from: lineStart, to: head.count) ?? head.count
                // Every LF follows a CR (checked above): the line ends before that CR.
                if lineEnd < head.count { lineEnd -= 1 }
                guard spans.count < limits.headerCount else {
                    throw HTTPParseError(status: 431, message: "more than \(limits.headerCount) header fields")
                }
                guard lineEnd > lineStart, head[lineStart] != 0x20, head[lineStart] != 0x09 else {
                    throw bad("obsolete line folding is not accepted")
                }
                guard let colon = Self.index(of: UInt8(ascii: ":"), in: head, from: lineStart, to: lineEnd) else {
                    throw bad("header line without a colon")
                }
                guard colon > lineStart, Self.tokenBytes.withUnsafeBufferPointer({ table in
                    for index in lineStart..<colon where !table[Int(head[index])] { return false }
                    return true
                })
                else {
                    throw bad("malformed header name (no whitespace is allowed before the colon)")
                }
                var valueStart = colon + 1
                var valueEnd = lineEnd
                while valueStart < valueEnd, head[valueStart] == 0x20 || head[valueStart] == 0x09 { valueStart += 1 }
                while valueEnd > valueStart, head[valueEnd - 1] == 0x20 || head[valueEnd - 1] == 0x09 { valueEnd -= 1 }
                guard !Self.hasControlByte(head, from: valueStart, to: valueEnd) else {
                    throw bad("control character in a header value")
                }
                return (lineEnd, colon, valueStart, valueEnd)
            }
            defer { lineStart = lineEnd + 2 }
            let nameBytes = bytes[lineStart..<colon]
            let valueBytes = bytes[valueStart..<valueEnd]
            switch Self.fieldOfInterest(nameBytes) {
            case .host:
                // Two Hosts, or a list, name two origins: which one a proxy routed on and which one we read
                // could differ (RFC 9112 §3.2: answer 400).
                hostCount += 1
                guard hostCount == 1 else { throw bad("more than one Host header") }
                guard Self.isValidHost(valueBytes) else {
                    throw bad("the Host header must be one host name or address with an optional port")
                }
            case .contentLength:
                // Digits only: no sign, no list ("5, 5"), no spaces inside. Repeated identical values are
                // allowed (RFC 9110 §8.6), different ones are not.
                guard !valueBytes.isEmpty, valueBytes.count <= 15, valueBytes.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
                else {
                    throw bad("Content-Length must be a decimal number")
                }
                let length = valueBytes.reduce(0) { $0 * 10 + Int($1 - 0x30) }
                if let contentLength, contentLength != length { throw bad("conflicting Content-Length headers") }
                contentLength = length
            case .transferEncoding:
                // The codings of every Transfer-Encoding line form one list (RFC 9110 §5.3); empty elements are
                // skipped (§5.6.1).
                sawTransferEncoding = true
                let value = String(decoding: valueBytes, as: UTF8.self)
                for element in value.split(separator: ",") {
                    let coding = element.trimmingSpacesAndTabs
                    if coding.isEmpty { continue }
                    if coding.equalsIgnoringASCIICase("chunked") {
                        chunkedCount += 1
                        chunkedIsLast = true
                    } else {
                        unsupportedCoding = unsupportedCoding ?? String(coding)
                        chunkedIsLast = false
                    }
                }
            case .expect:
                guard String(decoding: valueBytes, as: UTF8.self).lowercased() == "100-continue" else {
                    throw HTTPParseError(status: 417, message: "only Expect: 100-continue is supported")
                }
                expectsContinue = minorVersion >= 1
            case nil: break
            }
            spans.append(
                HTTPHeaderFields.Span(
                    nameStart: Int32(lineStart), nameEnd: Int32(colon), valueStart: Int32(valueStart),
                    valueEnd: Int32(valueEnd)))
        }
        if sawTransferEncoding {
            // RFC 9112 §6.1: an HTTP/1.0 message with Transfer-Encoding has faulty framing.
            guard minorVersion == 1 else { throw bad("Transfer-Encoding is not allowed in HTTP/1.0 requests") }
            guard chunkedCount <= 1 else { throw bad("Transfer-Encoding applies chunked more than once") }
            if let unsupportedCoding {
                if chunkedCount == 1 && !chunkedIsLast {
                    throw bad("chunked must be the last Transfer-Encoding")
                }
                throw HTTPParseError(
                    status: 501, message: "Transfer-Encoding \"\(unsupportedCoding)\" is not supported; only chunked is"
                )
            }
            guard chunkedCount == 1 else { throw bad("empty Transfer-Encoding") }
        }
        let chunked = chunkedCount == 1
        if chunked && contentLength != nil {
            throw bad("both Content-Length and Transfer-Encoding: a request has one framing")
        }
        if let contentLength, contentLength > limits.bodyBytes {
            throw HTTPParseError(
                status: 413, message: "the body of \(contentLength) bytes exceeds the \(limits.bodyBytes)-byte limit")
        }
        if minorVersion == 1, hostCount == 0 {
            throw bad("HTTP/1.1 requests need a Host header")
        }
        let framing: Framing = chunked ? .chunked : contentLength.map { $0 > 0 ? .length($0) : .none } ?? .none
        return Head(
            request: RequestHead(
                method: method, target: target, pathSegments: segments, query: query, minorVersion: minorVersion,
                fields: HTTPHeaderFields(bytes: bytes, spans: spans), targetIsPath: targetIsPath),
            framing: framing, expectsContinue: expectsContinue)
    }

    /// Whether `bytes` are `text`'s, by memcmp (the generic `elementsEqual` over a String's UTF-8 view was some
    /// 450 instructions for the version alone).
    static func equals(_ bytes: ArraySlice<UInt8>, _ text: StaticString) -> Bool {
        guard bytes.count == text.utf8CodeUnitCount else { return false }
        return bytes.withUnsafeBufferPointer { bytes in
            text.withUTF8Buffer { text in
                bytes.isEmpty || memcmp(bytes.baseAddress!, text.baseAddress!, bytes.count) == 0
            }
        }
    }

    /// The method as a String: the common ones are literals (no decoding, no allocation), any other token is
    /// decoded as sent.
    static func methodString(_ bytes: ArraySlice<UInt8>) -> String {
        switch bytes.count {
        case 3:
            if equals(bytes, "GET") { return "GET" }
            if equals(bytes, "PUT") { return "PUT" }
        case 4:
            if equals(bytes, "POST") { return "POST" }
            if equals(bytes, "HEAD") { return "HEAD" }
        case 5: if equals(bytes, "PATCH") { return "PATCH" }
        case 6: if equals(bytes, "DELETE") { return "DELETE" }
        case 7: if equals(bytes, "OPTIONS") { return "OPTIONS" }
        default: break
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Whether `buffer[from..<to]` holds a byte a field value may not: a control character other than tab, or DEL.
    ///
    /// Eight bytes at a time while none of them is below 0x20 or DEL (two borrow tests on the word, exact for
    /// "is there such a byte": the lowest one always sets its flag); from a word that has one — a tab, or a
    /// real control — byte by byte to the end. The byte loop alone was a tenth of the parser's instructions.
    static func hasControlByte(_ buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Bool {
        var index = from
        if let base = buffer.baseAddress {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highBits: UInt64 = 0x8080_8080_8080_8080
            while index + 8 <= to {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                let belowSpace = (word &- ones &* 0x20) & ~word & highBits
                let delete = word ^ (ones &* 0x7F)
                let isDelete = (delete &- ones) & ~delete & highBits
                if belowSpace | isDelete != 0 { break }
                index += 8
            }
        }
        while index < to {
            let byte = buffer[index]
            if !(byte == 0x09 || (byte >= 0x20 && byte != 0x7F)) { return true }
            index += 1
        }
        return false
    }

    /// The first `byte` in `buffer[from..<to]`, by memchr; nil when there is none.
    @inline(__always)
    static func index(of byte: UInt8, in buffer: UnsafeBufferPointer<UInt8>, from: Int, to: Int) -> Int? {
        guard from < to, let base = buffer.baseAddress,
            let found = memchr(base + from, Int32(byte), to - from)
        else { return nil }
        return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    }

    /// The header fields the parser itself interprets.
    enum FieldOfInterest { case host, contentLength, transferEncoding, expect }

    /// Which of the interpreted fields `name` is (ignoring ASCII case), nil for every other.
    static func fieldOfInterest(_ name: ArraySlice<UInt8>) -> FieldOfInterest? {
        func named(_ lowercased: StaticString) -> Bool {
            guard name.count == lowercased.utf8CodeUnitCount else { return false }
            return lowercased.withUTF8Buffer { wanted in
                var index = name.startIndex
                for expected in wanted {
                    guard HTTPHeaderFields.folded(name[index]) == expected else { return false }
                    index += 1
                }
                return true
            }
        }
        switch name.count {
        case 4: return named("host") ? .host : nil
        case 6: return named("expect") ? .expect : nil
        case 14: return named("content-length") ? .contentLength : nil
        case 17: return named("transfer-encoding") ? .transferEncoding : nil
        default: return nil
        }
    }

    /// RFC 9110 §7.2: `uri-host [ ":" port ]` — a registered name (letters, digits, `-._~!$&'()*+;=` and
    /// percent-escapes; no comma, which would make it a list) or a bracketed IP literal, and at most five
    /// digits of port. Empty is allowed (RFC 9112 §3.2).
    static func isValidHost(_ bytes: ArraySlice<UInt8>) -> Bool {
        var index = bytes.startIndex
        guard index < bytes.endIndex else { return true }
        if bytes[index] == UInt8(ascii: "[") {
            guard let close = bytes.firstIndex(of: UInt8(ascii: "]")), close > index + 1,
                bytes[(index + 1)..<close].allSatisfy({
                    isHexDigit($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".")
                })
            else { return false }
            index = close + 1
        } else {
            let nameStart = index
            while index < bytes.endIndex, bytes[index] != UInt8(ascii: ":") {
                let byte = bytes[index]
                if byte == UInt8(ascii: "%") {
                    guard index + 2 < bytes.endIndex, isHexDigit(bytes[index + 1]), isHexDigit(bytes[index + 2])
                    else { return false }
                    index += 3
                    continue
                }
                guard hostNameBytes[Int(byte)] else { return false }
                index += 1
            }
            guard index > nameStart else { return false }
        }
        guard index < bytes.endIndex else { return true }
        guard bytes[index] == UInt8(ascii: ":") else { return false }
        let port = bytes[(index + 1)...]
        return port.count <= 5 && port.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static let hostNameBytes: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return "-._~!$&'()*+;=".utf8.contains(byte)
        }
    }

    // MARK: Chunked bodies

    /// Where the chunked decoder is, kept across `next()` calls so no byte is decoded twice.
    struct ChunkedState {
        enum Step { case size, data(remaining: Int), dataEnd, trailers }
        var step = Step.size
        /// The body decoded so far (at most `bodyBytes`).
        var body: [UInt8] = []
        var chunks = 0
        var extensionBytes = 0
        var trailers = 0
        var trailerBytes = 0
    }

    /// Decodes what has arrived of a chunked body, consuming it; true once the body and its trailers are whole.
    private mutating func decodeChunks() throws(HTTPParseError) -> Bool {
        while true {
            switch chunked.step {
            case .size:
                guard
                    let line = try takeLine(
                        maximum: limits.chunkLineBytes,
                        tooLong: HTTPParseError(
                            status: 400, message: "chunk size line longer than \(limits.chunkLineBytes) bytes"))
                else { return false }
                let semicolon = buffer[line].firstIndex(of: UInt8(ascii: ";")) ?? line.upperBound
                let sizeText = buffer[line.lowerBound..<semicolon]
                // Hex digits only: Int(_:radix:) would also take a sign, and a negative size walks backwards.
                guard !sizeText.isEmpty, sizeText.count <= 8, sizeText.allSatisfy({ Self.isHexDigit($0) }) else {
                    throw HTTPParseError(status: 400, message: "malformed chunk size")
                }
                let size = sizeText.reduce(0) { $0 << 4 | Self.hexValue($1) }
                let extensions = buffer[semicolon..<line.upperBound]
                chunked.extensionBytes += extensions.count
                guard chunked.extensionBytes <= limits.chunkExtensionBytes else {
                    throw HTTPParseError(
                        status: 400, message: "chunk extensions exceed \(limits.chunkExtensionBytes) bytes in total")
                }
                guard extensions.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                    throw HTTPParseError(status: 400, message: "control character in a chunk extension")
                }
                if size == 0 {
                    chunked.step = .trailers
                    continue
                }
                chunked.chunks += 1
                guard chunked.chunks <= limits.chunkCount else {
                    throw HTTPParseError(
                        status: 413, message: "the chunked body has more than \(limits.chunkCount) chunks")
                }
                guard chunked.body.count + size <= limits.bodyBytes else {
                    throw HTTPParseError(
                        status: 413, message: "the chunked body exceeds the \(limits.bodyBytes)-byte limit")
                }
                chunked.step = .data(remaining: size)
            case .data(let remaining):
                let count = min(remaining, buffer.count - start)
                guard count > 0 else { return false }
                chunked.body.append(contentsOf: buffer[start..<start + count])
                start += count
                scannedBytes += count
                chunked.step = count == remaining ? .dataEnd : .data(remaining: remaining - count)
            case .dataEnd:
                guard buffer.count - start >= 2 else { return false }
                guard buffer[start] == 0x0D, buffer[start + 1] == 0x0A else {
                    throw HTTPParseError(status: 400, message: "chunk data not followed by CRLF")
                }
                start += 2
                scannedBytes += 2
                chunked.step = .size
            case .trailers:
                let tooLarge = HTTPParseError(
                    status: 431, message: "trailer fields exceed \(limits.trailerBytes) bytes")
                guard let line = try takeLine(maximum: limits.trailerBytes - chunked.trailerBytes, tooLong: tooLarge)
                else { return false }
                if line.isEmpty { return true }
                chunked.trailers += 1
                chunked.trailerBytes += line.count + 2
                guard chunked.trailers <= limits.trailerCount else {
                    throw HTTPParseError(status: 431, message: "more than \(limits.trailerCount) trailer fields")
                }
                guard chunked.trailerBytes <= limits.trailerBytes else { throw tooLarge }
                // Trailers are discarded, but checked like header fields: a malformed one is a malformed message.
                let field = buffer[line]
                guard let colon = field.firstIndex(of: UInt8(ascii: ":")), colon > field.startIndex,
                    field[field.startIndex..<colon].allSatisfy(Self.isTokenByte),
                    field[(colon + 1)...].allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) })
                else {
                    throw HTTPParseError(status: 400, message: "malformed trailer field")
                }
            }
        }
    }

    /// The next CRLF-terminated line of chunk framing (without the CRLF), consumed; nil until its end arrives.
    /// Resumes the search where the last call stopped. A bare LF is refused: readers that end lines at LF and
    /// readers that end them at CRLF would split the body differently.
    private mutating func takeLine(maximum: Int, tooLong: HTTPParseError) throws(HTTPParseError) -> Range<Int>? {
        let from = start + searched
        var index = from
        while index < buffer.count {
            if buffer[index] == 0x0A {
                scannedBytes += index + 1 - from
                guard index > start, buffer[index - 1] == 0x0D else {
                    throw HTTPParseError(status: 400, message: "bare LF in chunk framing; lines end with CRLF")
                }
                guard index - 1 - start <= maximum else { throw tooLong }
                let line = start..<(index - 1)
                start = index + 1
                searched = 0
                return line
            }
            index += 1
        }
        scannedBytes += index - from
        // The line so far, less a CR that may be its end.
        guard index - start <= maximum + 1 else { throw tooLong }
        searched = index - start
        return nil
    }

    static func hexValue(_ byte: UInt8) -> Int {
        switch byte {
        case 48...57: return Int(byte - 48)
        case 65...70: return Int(byte - 55)
        default: return Int(byte - 87)
        }
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    /// RFC 9110 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``. A table, since every header name's every byte
    /// is checked.
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }

    static let tokenBytes: [Bool] = (0..<256).map { value in
        let byte = UInt8(value)
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default: return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    /// Splits `/a/b%20c?x=1&y` into decoded path segments and query pairs.
    static func splitTarget(_ target: String) throws(HTTPParseError) -> ([String], [(name: String, value: String)]) {
        try splitTarget(Array(target.utf8)[...])
    }

    /// `splitTarget` over the target's bytes (visible ASCII, starting with `/`, as the parser checked).
    static func splitTarget(
        _ bytes: ArraySlice<UInt8>
    ) throws(HTTPParseError) -> ([String], [(name: String, value: String)]) {
        let questionMark = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.endIndex
        var segments: [String] = []
        // One allocation of the right size (one segment a slash): growing from empty was two.
        segments.reserveCapacity(bytes[bytes.startIndex..<questionMark].reduce(0) { $1 == UInt8(ascii: "/") ? $0 + 1 : $0 })
        var segmentStart = bytes.startIndex + 1
        var index = segmentStart
        while true {
            guard index == questionMark || bytes[index] == UInt8(ascii: "/") else {
                index += 1
                continue
            }
            let raw = bytes[segmentStart..<index]
            if raw.contains(UInt8(ascii: "%")) {
                guard let segment = percentDecode(raw, plusIsSpace: false) else {
                    throw HTTPParseError(status: 400, message: "malformed percent-encoding in the path")
                }
                segments.append(segment)
            } else {
                // Nothing to decode: ASCII as it stands (short segments fit in the String itself, no allocation).
                segments.append(String(decoding: raw, as: UTF8.self))
            }
            if index == questionMark { break }
            index += 1
            segmentStart = index
        }
        if segments.last == "" { segments.removeLast() }
        var query: [(name: String, value: String)] = []
        if questionMark < bytes.endIndex {
            for pair in bytes[(questionMark + 1)...].split(separator: UInt8(ascii: "&")) {
                let equals = pair.firstIndex(of: UInt8(ascii: "=")) ?? pair.endIndex
                guard let name = percentDecode(pair[pair.startIndex..<equals], plusIsSpace: true),
                    let value = percentDecode(
                        equals < pair.endIndex ? pair[(equals + 1)...] : [][...], plusIsSpace: true)
                else { throw HTTPParseError(status: 400, message: "malformed percent-encoding in the query") }
                query.append((name, value))
            }
        }
        return (segments, query)
    }

    static func percentDecode(_ bytes: ArraySlice<UInt8>, plusIsSpace: Bool) -> String? {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        func hex(_ b: UInt8) -> UInt8? {
            switch b {
            case 48...57: return b - 48
            case 65...70: return b - 55
            case 97...102: return b - 87
            default: return nil
            }
        }
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
                else {
                    return nil
                }
                out.append(high << 4 | low)
                index += 3
            } else {
                out.append(plusIsSpace && byte == UInt8(ascii: "+") ? 0x20 : byte)
                index += 1
            }
        }
        return String(validating: out, as: UTF8.self)
    }
}
