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
        var output = head(keepAlive: keepAlive, framing: .length(body.count), reserving: omitBody ? 0 : body.count)
        if !omitBody { output.append(contentsOf: body) }
        return output
    }

    /// How the end of a body is known: its length, its chunks (RFC 9112 §7.1), or the connection closing (an
    /// HTTP/1.0 reader, which knows no chunks).
    enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    /// The status line and headers, ending with the empty line.
    func head(keepAlive: Bool, framing: Framing, reserving: Int = 0) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(96 + headers.count * 48 + reserving)
        if let line = Self.statusLines[status] {
            output.append(contentsOf: line)
        } else {
            output.append(contentsOf: "HTTP/1.1 \(status) \(HTTPStatus.reason(status))\r\n".utf8)
        }
        // Each piece copied whole (`withUTF8`, static text): appending a String's `utf8` view went byte by byte,
        // and the array literals were allocated per header.
        for header in headers {
            Self.append(header.name, to: &output)
            Self.append(": ", to: &output)
            Self.append(header.value, to: &output)
            Self.append("\r\n", to: &output)
        }
        switch framing {
        case .length(let count):
            Self.append("Content-Length: ", to: &output)
            Self.append(String(count), to: &output)
            Self.append("\r\n", to: &output)
        case .chunked: output.append(contentsOf: "Transfer-Encoding: chunked\r\n".utf8)
        case .untilClose: break
        }
        if !keepAlive { output.append(contentsOf: "Connection: close\r\n".utf8) }
        output.append(contentsOf: [0x0D, 0x0A])
        return output
    }

    @inline(__always)
    private static func append(_ text: StaticString, to output: inout [UInt8]) {
        text.withUTF8Buffer { output.append(contentsOf: $0) }
    }

    @inline(__always)
    private static func append(_ text: String, to output: inout [UInt8]) {
        var text = text
        text.withUTF8 { output.append(contentsOf: $0) }
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
