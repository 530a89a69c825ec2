import ResidencyCore

/// A response to write: status, headers and a body (Content-Length is added when written) — or, for a body
/// too long to hold, a `stream` that produces it while it is sent (chunked).
package struct HTTPResponse: Sendable {
    package var status: Int
    package var headers: [(name: String, value: String)]
    package var body: [UInt8]
    /// The body, produced while it is sent, when it is not `body` (which is then empty).
    package var stream: ResponseStream?

    package init(status: Int, headers: [(name: String, value: String)] = [], stream: ResponseStream) {
        self.status = status
        self.headers = headers
        self.body = []
        self.stream = stream
    }

    package init(status: Int, headers: [(name: String, value: String)] = [], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    package static func json(_ value: JSONValue, status: Int = 200) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "application/json")], body: value.encodedBytes() + [0x0A])
    }

    package static func text(
        _ text: String, status: Int = 200, contentType: String = "text/plain; charset=utf-8"
    ) -> HTTPResponse {
        HTTPResponse(status: status, headers: [("Content-Type", contentType)], body: Array(text.utf8))
    }

    package func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }

    /// The bytes on the wire: status line, headers, Content-Length, and the body unless `omitBody`.
    func serialized(keepAlive: Bool, omitBody: Bool = false) -> [UInt8] {
        head(keepAlive: keepAlive, framing: .length(body.count), appendingBody: !omitBody)
    }

    /// How the end of a body is known: its length, its chunks (RFC 9112 §7.1), or the connection closing (an
    /// HTTP/1.0 reader, which knows no chunks).
    enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    /// The status line and headers, ending with the empty line — and the body after them when `appendingBody`.
    ///
    /// Measured first, then copied into one array of exactly that size, each piece by `memcpy`: through the
    /// array's generic append (a uniqueness and capacity check and a sequence copy a piece) and a String for the
    /// length, the head of a placement answer was some 2,500 instructions.
    func head(keepAlive: Bool, framing: Framing, appendingBody: Bool = false) -> [UInt8] {
        let statusLine = Self.statusLine(status)
        var size = statusLine.count + 2
        for header in headers { size += header.name.utf8.count + header.value.utf8.count + 4 }
        var length = 0
        var lengthDigits = 0
        switch framing {
        case .length(let count):
            length = count
            lengthDigits = Self.decimalDigits(count)
            size += Self.contentLength.utf8CodeUnitCount + lengthDigits + 2
        case .chunked: size += Self.transferEncodingChunked.utf8CodeUnitCount
        case .untilClose: break
        }
        if !keepAlive { size += Self.connectionClose.utf8CodeUnitCount }
        if appendingBody { size += body.count }
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, initialized in
            var output = HeadCursor(at: UnsafeMutableRawPointer(buffer.baseAddress!))
            statusLine.withUnsafeBytes { output.put($0) }
            for header in headers {
                output.put(header.name)
                output.put(fixed: ": ")
                output.put(header.value)
                output.put(fixed: "\r\n")
            }
            switch framing {
            case .length:
                output.put(fixed: Self.contentLength)
                output.put(decimal: length, digits: lengthDigits)
                output.put(fixed: "\r\n")
            case .chunked: output.put(fixed: Self.transferEncodingChunked)
            case .untilClose: break
            }
            if !keepAlive { output.put(fixed: Self.connectionClose) }
            output.put(fixed: "\r\n")
            if appendingBody { body.withUnsafeBytes { output.put($0) } }
            initialized = output.position - UnsafeMutableRawPointer(buffer.baseAddress!)
            precondition(initialized == size, "response head measured \(size) bytes, wrote \(initialized)")
        }
    }

    /// Where the next byte of a head goes, in memory measured for it. A struct passed inout, not a pointer captured
    /// by nested functions: a captured variable is checked for exclusive access on every use, which cost more
    /// than the copying.
    private struct HeadCursor {
        var position: UnsafeMutableRawPointer

        init(at start: UnsafeMutableRawPointer) { position = start }

        @inline(__always)
        mutating func put(_ bytes: UnsafeRawBufferPointer) {
            guard let start = bytes.baseAddress, bytes.count > 0 else { return }
            position.copyMemory(from: start, byteCount: bytes.count)
            position += bytes.count
        }

        @inline(__always)
        mutating func put(fixed text: StaticString) {
            text.withUTF8Buffer { put(UnsafeRawBufferPointer($0)) }
        }

        @inline(__always)
        mutating func put(_ text: String) {
            var text = text
            text.withUTF8 { put(UnsafeRawBufferPointer($0)) }
        }

        /// `value`'s `digits` decimal digits, from the last (`String(value)` was an allocation and a conversion).
        @inline(__always)
        mutating func put(decimal value: Int, digits: Int) {
            var rest = value
            var index = digits
            repeat {
                index -= 1
                (position + index).storeBytes(of: UInt8(48 + rest % 10), as: UInt8.self)
                rest /= 10
            } while index > 0
            position += digits
        }
    }

    private static let contentLength: StaticString = "Content-Length: "
    private static let transferEncodingChunked: StaticString = "Transfer-Encoding: chunked\r\n"
    private static let connectionClose: StaticString = "Connection: close\r\n"

    /// Decimal digits of a length (non-negative: an array's count).
    private static func decimalDigits(_ value: Int) -> Int {
        var digits = 1
        var rest = value / 10
        while rest > 0 {
            digits += 1
            rest /= 10
        }
        return digits
    }

    /// The status line, built once for the statuses this server sends.
    private static func statusLine(_ status: Int) -> [UInt8] {
        if status >= 100, status < 600, let line = statusLineTable[status - 100] { return line }
        return Array("HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n".utf8)
    }

    /// One chunk of a chunked body: its size in hex, CRLF, the bytes, CRLF.
    static func chunk(_ piece: [UInt8]) -> [UInt8] {
        var output = Array(String(piece.count, radix: 16).utf8)
        output.reserveCapacity(output.count + piece.count + 4)
        output.append(contentsOf: [0x0D, 0x0A])
        output.append(contentsOf: piece)
        output.append(contentsOf: [0x0D, 0x0A])
        return output
    }

    /// The last chunk and the end of the (empty) trailer section.
    static let lastChunk = Array("0\r\n\r\n".utf8)

    /// Status lines of the statuses this server sends, built once.
    static let statusLines: [Int: [UInt8]] = Dictionary(
        uniqueKeysWithValues: HTTPStatus.emitted.map { ($0, Array("HTTP/1.1 \($0) \(HTTPStatus.reason($0))\r\n".utf8)) }
    )

    /// `statusLines` indexed by status − 100: an array read, not a dictionary's hash and probe.
    private static let statusLineTable: [[UInt8]?] = (100..<600).map { statusLines[$0] }
}

package enum HTTPStatus {
    /// Every status this server sends: the parser's refusals, the API's answers and errors (`APIError`), the
    /// event loop's 100 and 408 and the accept thread's 503. Each has its reason phrase below and a status
    /// line built once; metrics label these by number and any other status by its class.
    package static let emitted = [
        100, 200, 201, 202, 204, 400, 401, 403, 404, 405, 408, 409, 411, 413, 415, 417, 421, 422, 431, 500, 501, 503, 505,
        507,
    ]

    static func isEmitted(_ status: Int) -> Bool { HTTPResponse.statusLines[status] != nil }

    /// The reason phrase of RFC 9110 §15 (and RFC 4918 for 507); a status outside `emitted` gets its class's name.
    package static func reason(_ status: Int) -> String {
        switch status {
        case 100: return "Continue"
        case 200: return "OK"
        case 201: return "Created"
        case 202: return "Accepted"
        case 204: return "No Content"
        case 400: return "Bad Request"
        case 401: return "Unauthorized"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 408: return "Request Timeout"
        case 409: return "Conflict"
        case 411: return "Length Required"
        case 413: return "Content Too Large"
        case 415: return "Unsupported Media Type"
        case 417: return "Expectation Failed"
        case 421: return "Misdirected Request"
        case 422: return "Unprocessable Content"
        case 431: return "Request Header Fields Too Large"
        case 500: return "Internal Server Error"
        case 501: return "Not Implemented"
        case 503: return "Service Unavailable"
        case 505: return "HTTP Version Not Supported"
        case 507: return "Insufficient Storage"
        case 100..<200: return "Informational"
        case 200..<300: return "Success"
        case 300..<400: return "Redirection"
        case 400..<500: return "Client Error"
        default: return "Server Error"
        }
    }
}
