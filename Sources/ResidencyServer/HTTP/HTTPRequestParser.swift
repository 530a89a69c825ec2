import Foundation

// The fuzz target (Scripts/fuzz http) compiles these files with Core's ASCII helpers into one module.
#if canImport(ResidencyCore)
    import ResidencyCore
#endif

/// Limits every connection is held to.
public struct HTTPLimits: Sendable {
    /// Request line and header fields together.
    public var headBytes = 16 * 1024
    public var headerCount = 100
    public var bodyBytes = 1024 * 1024

    public init() {}
}

/// A request that cannot be parsed: the status to answer with, and why. The connection is closed after.
public struct HTTPParseError: Error, Sendable, Equatable {
    public let status: Int
    public let message: String
}

/// An incremental HTTP/1.1 request parser: feed it bytes as they arrive, take requests out in order.
///
/// Strict where leniency lets requests be smuggled or misread: one framing per message (Content-Length
/// and Transfer-Encoding together are refused), digits-only Content-Length, no whitespace before a
/// header's colon, no obsolete line folding, origin-form targets only. Chunked bodies are decoded.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPLimits
    private var buffer: [UInt8] = []
    /// Where unparsed bytes start in `buffer` (consumed bytes are dropped in batches).
    private var start = 0

    public init(limits: HTTPLimits = HTTPLimits()) { self.limits = limits }

    public enum Next: Sendable {
        case request(HTTPRequest)
        /// More bytes are needed; `expectsContinue` when a complete head asked for `100 Continue` and its
        /// body has not arrived yet.
        case needMore(expectsContinue: Bool)
    }

    public mutating func append(_ bytes: some Sequence<UInt8>) { buffer.append(contentsOf: bytes) }

    /// True when no bytes of a next request have arrived.
    public var isIdle: Bool { start == buffer.count }

    public mutating func next() throws(HTTPParseError) -> Next {
        // Leading empty lines before a request line are allowed (RFC 9112 §2.2).
        while start + 1 < buffer.count, buffer[start] == 0x0D, buffer[start + 1] == 0x0A { start += 2 }
        guard let headEnd = findHeadEnd() else {
            if buffer.count - start > limits.headBytes {
                throw HTTPParseError(status: 431, message: "request line and headers exceed \(limits.headBytes) bytes")
            }
            return .needMore(expectsContinue: false)
        }
        guard headEnd - start <= limits.headBytes else {
            throw HTTPParseError(status: 431, message: "request line and headers exceed \(limits.headBytes) bytes")
        }
        let head = try parseHead(buffer[start..<headEnd])
        let bodyStart = headEnd + 4
        var body: [UInt8]
        var end: Int
        switch head.framing {
        case .none:
            body = []
            end = bodyStart
        case .length(let length):
            guard buffer.count - bodyStart >= length else { return .needMore(expectsContinue: head.expectsContinue) }
            body = Array(buffer[bodyStart..<bodyStart + length])
            end = bodyStart + length
        case .chunked:
            guard let decoded = try decodeChunked(from: bodyStart) else {
                return .needMore(expectsContinue: head.expectsContinue)
            }
            (body, end) = decoded
        }
        start = end
        if start > 64 * 1024 || start == buffer.count {
            buffer.removeFirst(start)
            start = 0
        }
        return .request(
            HTTPRequest(
                method: head.method, target: head.target, pathSegments: head.segments, query: head.query,
                minorVersion: head.minorVersion, headers: head.headers, body: body))
    }

    private func findHeadEnd() -> Int? {
        var index = start
        let limit = min(buffer.count, start + limits.headBytes + 4)
        while index + 3 < limit {
            if buffer[index] == 0x0D && buffer[index + 1] == 0x0A && buffer[index + 2] == 0x0D
                && buffer[index + 3] == 0x0A
            {
                return index
            }
            index += 1
        }
        return nil
    }

    enum Framing { case none, length(Int), chunked }

    struct Head {
        var method: String
        var target: String
        var segments: [String]
        var query: [(name: String, value: String)]
        var minorVersion: Int
        var headers: [(name: String, value: String)]
        var framing: Framing
        var expectsContinue: Bool
    }

    private func parseHead(_ bytes: ArraySlice<UInt8>) throws(HTTPParseError) -> Head {
        func bad(_ message: String) -> HTTPParseError { HTTPParseError(status: 400, message: message) }
        var lines: [ArraySlice<UInt8>] = []
        var lineStart = bytes.startIndex
        var index = bytes.startIndex
        while index < bytes.endIndex {
            if bytes[index] == 0x0A {
                guard index > lineStart, bytes[index - 1] == 0x0D else {
                    throw bad("bare LF in the request head; lines end with CRLF")
                }
                lines.append(bytes[lineStart..<(index - 1)])
                lineStart = index + 1
            }
            index += 1
        }
        lines.append(bytes[lineStart..<bytes.endIndex])
        let requestLine = lines[0]
        let parts = requestLine.split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3 else { throw bad("malformed request line; expected METHOD SP TARGET SP HTTP/1.1") }
        guard !parts[0].isEmpty, parts[0].allSatisfy(Self.isTokenByte) else { throw bad("malformed method") }
        let method = String(decoding: parts[0], as: UTF8.self)
        let version = String(decoding: parts[2], as: UTF8.self)
        let minorVersion: Int
        switch version {
        case "HTTP/1.1": minorVersion = 1
        case "HTTP/1.0": minorVersion = 0
        default:
            if version.hasPrefix("HTTP/") {
                throw HTTPParseError(status: 505, message: "\(version) is not supported; use HTTP/1.1")
            }
            throw bad("malformed HTTP version")
        }
        guard parts[1].first == UInt8(ascii: "/"), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw bad("the request target must be an origin-form path such as /v1/tenants")
        }
        let target = String(decoding: parts[1], as: UTF8.self)
        let (segments, query) = try Self.splitTarget(target)

        var headers: [(name: String, value: String)] = []
        var contentLength: Int?
        var chunked = false
        var expectsContinue = false
        for line in lines.dropFirst() {
            guard headers.count < limits.headerCount else {
                throw HTTPParseError(status: 431, message: "more than \(limits.headerCount) header fields")
            }
            guard let first = line.first, first != 0x20, first != 0x09 else {
                throw bad("obsolete line folding is not accepted")
            }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { throw bad("header line without a colon") }
            let nameBytes = line[line.startIndex..<colon]
            guard !nameBytes.isEmpty, nameBytes.allSatisfy(Self.isTokenByte) else {
                throw bad("malformed header name (no whitespace is allowed before the colon)")
            }
            var valueBytes = line[(colon + 1)...]
            while let f = valueBytes.first, f == 0x20 || f == 0x09 { valueBytes.removeFirst() }
            while let l = valueBytes.last, l == 0x20 || l == 0x09 { valueBytes.removeLast() }
            guard valueBytes.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else {
                throw bad("control character in a header value")
            }
            // Token bytes are ASCII: lower-case them in place rather than through Unicode-aware lowercased().
            let name = String(unsafeUninitializedCapacity: nameBytes.count) { buffer in
                for (offset, byte) in nameBytes.enumerated() {
                    buffer[offset] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
                }
                return nameBytes.count
            }
            let value = String(decoding: valueBytes, as: UTF8.self)
            switch name {
            case "content-length":
                guard !value.isEmpty, value.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), value.utf8.count <= 15,
                    let length = Int(value)
                else {
                    throw bad("Content-Length must be a decimal number")
                }
                if let contentLength, contentLength != length { throw bad("conflicting Content-Length headers") }
                contentLength = length
            case "transfer-encoding":
                let codings = value.lowercased().split(separator: ",").map { String($0.trimmingSpacesAndTabs) }
                guard codings.last == "chunked", codings.allSatisfy({ $0 == "chunked" }), !chunked else {
                    throw HTTPParseError(
                        status: 501, message: "Transfer-Encoding \"\(value)\" is not supported; only chunked is")
                }
                chunked = true
            case "expect":
                guard value.lowercased() == "100-continue" else {
                    throw HTTPParseError(status: 417, message: "only Expect: 100-continue is supported")
                }
                expectsContinue = minorVersion >= 1
            default: break
            }
            headers.append((name, value))
        }
        if chunked && contentLength != nil {
            throw bad("both Content-Length and Transfer-Encoding: a request has one framing")
        }
        if let contentLength, contentLength > limits.bodyBytes {
            throw HTTPParseError(
                status: 413, message: "the body of \(contentLength) bytes exceeds the \(limits.bodyBytes)-byte limit")
        }
        if minorVersion == 1, !headers.contains(where: { $0.name == "host" }) {
            throw bad("HTTP/1.1 requests need a Host header")
        }
        let framing: Framing = chunked ? .chunked : contentLength.map { $0 > 0 ? .length($0) : .none } ?? .none
        return Head(
            method: method, target: target, segments: segments, query: query, minorVersion: minorVersion,
            headers: headers,
            framing: framing, expectsContinue: expectsContinue)
    }

    /// Decodes a chunked body starting at `offset`; nil when incomplete.
    private func decodeChunked(from offset: Int) throws(HTTPParseError) -> (body: [UInt8], end: Int)? {
        var body: [UInt8] = []
        var index = offset
        func line(at position: Int) -> (ArraySlice<UInt8>, Int)? {
            var cursor = position
            while cursor + 1 < buffer.count {
                if buffer[cursor] == 0x0D && buffer[cursor + 1] == 0x0A {
                    return (buffer[position..<cursor], cursor + 2)
                }
                cursor += 1
                if cursor - position > 4096 { return nil }
            }
            return nil
        }
        while true {
            guard let (sizeLine, afterSize) = line(at: index) else {
                if buffer.count - index > 4096 {
                    throw HTTPParseError(status: 400, message: "chunk size line too long")
                }
                return nil
            }
            let sizeText = sizeLine.prefix { $0 != UInt8(ascii: ";") }
            // Hex digits only: Int(_:radix:) would also take a sign, and a negative size walks backwards.
            guard !sizeText.isEmpty, sizeText.count <= 8, sizeText.allSatisfy({ Self.isHexDigit($0) }),
                let size = Int(String(decoding: sizeText, as: UTF8.self), radix: 16)
            else {
                throw HTTPParseError(status: 400, message: "malformed chunk size")
            }
            if size == 0 {
                // Trailer fields, then an empty line.
                var cursor = afterSize
                while true {
                    guard let (trailer, next) = line(at: cursor) else { return nil }
                    cursor = next
                    if trailer.isEmpty { return (body, cursor) }
                }
            }
            guard body.count + size <= limits.bodyBytes else {
                throw HTTPParseError(
                    status: 413, message: "the chunked body exceeds the \(limits.bodyBytes)-byte limit")
            }
            guard buffer.count >= afterSize + size + 2 else { return nil }
            guard buffer[afterSize + size] == 0x0D, buffer[afterSize + size + 1] == 0x0A else {
                throw HTTPParseError(status: 400, message: "chunk data not followed by CRLF")
            }
            body.append(contentsOf: buffer[afterSize..<afterSize + size])
            index = afterSize + size + 2
        }
    }

    static func isHexDigit(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...70).contains(byte) || (97...102).contains(byte)
    }

    /// RFC 9110 `tchar`: letters, digits and ``!#$%&'*+-.^_`|~``. A table, since every header name's every byte
    /// is checked.
    static func isTokenByte(_ byte: UInt8) -> Bool { tokenBytes[Int(byte)] }

    private static let tokenBytes: [Bool] = (0..<256).map { value in
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
        let bytes = Array(target.utf8)
        let questionMark = bytes.firstIndex(of: UInt8(ascii: "?")) ?? bytes.count
        var segments: [String] = []
        for raw in bytes[1..<questionMark].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            guard let segment = percentDecode(raw, plusIsSpace: false) else {
                throw HTTPParseError(status: 400, message: "malformed percent-encoding in the path")
            }
            segments.append(segment)
        }
        if segments.last == "" { segments.removeLast() }
        var query: [(name: String, value: String)] = []
        if questionMark < bytes.count {
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
