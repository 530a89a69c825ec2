import Foundation

// The fuzz target (Scripts/fuzz http) compiles these files with Core's ASCII helpers into one module.
#if canImport(ResidencyCore)
    import ResidencyCore
#endif
#if canImport(ResidencyController)
    import ResidencyController
#endif

/// A request's head as the parser read it: method, target, path, query, version and header fields.
///
/// One object, shared: a request passes from the parser to the connection's actions to the event loop to the
/// application to the handler's context, and as a struct of these seven fields each hand-off retained and
/// released every one of them (some 2,000 instructions a placement); now each retains this.
package final class RequestHead: Sendable {
    package let method: String
    /// The request target as sent (origin form: path and query).
    package let target: String
    /// The path, percent-decoded segment by segment.
    package let pathSegments: [String]
    package let query: [(name: String, value: String)]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package let minorVersion: Int
    let fields: HTTPHeaderFields
    /// The target is exactly `path`: no query, nothing percent-encoded, no trailing slash to drop (set by the
    /// parser, which saw its bytes; false for requests made in process).
    let targetIsPath: Bool

    init(
        method: String, target: String, pathSegments: [String], query: [(name: String, value: String)],
        minorVersion: Int, fields: HTTPHeaderFields, targetIsPath: Bool
    ) {
        self.method = method
        self.target = target
        self.pathSegments = pathSegments
        self.query = query
        self.minorVersion = minorVersion
        self.fields = fields
        self.targetIsPath = targetIsPath
    }
}

/// One parsed HTTP/1.1 request.
package struct HTTPRequest: Sendable {
    let head: RequestHead
    package var method: String { head.method }
    /// The request target as sent (origin form: path and query).
    package var target: String { head.target }
    /// The path, percent-decoded segment by segment.
    package var pathSegments: [String] { head.pathSegments }
    package var query: [(name: String, value: String)] { head.query }
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package var minorVersion: Int { head.minorVersion }
    /// Header fields as received; read them with `header(_:)` (or `headers`, which makes Strings of all).
    var fields: HTTPHeaderFields { head.fields }
    /// The target is exactly `path` (see `RequestHead`).
    var targetIsPath: Bool { head.targetIsPath }
    package let body: [UInt8]
    /// Under mutual TLS, the pin of the key the peer proved at the handshake (set by the event loop): who is
    /// calling, for services that give their peers different rights. Nil over plain HTTP.
    package var peerPin: String?
    #if canImport(ResidencyController)
        /// The connection's memo of its last bearer token (set by the event loop; nil for requests made in
        /// process): its next request with the same token is not hashed again (see `BearerMemo`). The memo is
        /// `@unchecked Sendable` and holds no lock: safe because a connection hands the application one request at
        /// a time and reads nothing more until it is answered. A handler that spread one request's work over
        /// threads, or answered out of order, would have to give the memo a lock first.
        package var bearerMemo: BearerMemo?
    #endif

    package init(
        method: String, target: String, pathSegments: [String], query: [(name: String, value: String)],
        minorVersion: Int,
        headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.head = RequestHead(
            method: method, target: target, pathSegments: pathSegments, query: query, minorVersion: minorVersion,
            fields: HTTPHeaderFields(headers), targetIsPath: false)
        self.body = body
    }

    init(head: RequestHead, body: [UInt8]) {
        self.head = head
        self.body = body
    }

    /// Header fields in arrival order; names lower-cased.
    package var headers: [(name: String, value: String)] { fields.pairs }

    /// The path as `/a/b`, decoded.
    package var path: String {
        // The target itself when the parser found it to be the path (every placement): joining the segments
        // again was an allocation and some 1,100 instructions, for the access log.
        targetIsPath ? target : "/" + pathSegments.joined(separator: "/")
    }

    /// The first value of a header (case-insensitive name).
    package func header(_ name: String) -> String? { fields.value(name) }

    /// Whether Content-Type's media type (before any parameters, spaces and tabs trimmed) is `lowercased`,
    /// ignoring ASCII case; false without the header. Read off the head's bytes, without making a String — the
    /// one reading of the media type, for the placement hot path and every body reader alike (a second, String
    /// form could drift from this one).
    package func hasMediaType(_ lowercased: StaticString) -> Bool {
        guard let range = fields.valueRange(lowercased: "content-type") else { return false }
        // Over the head's buffer, byte for byte against the literal's own: iterating a String's UTF-8 view (and
        // zipping it) cost about a thousand instructions a placement, walking the ArraySlice some 400.
        return fields.bytes.withUnsafeBufferPointer { head -> Bool in
            var end = range.upperBound
            if let semicolon = HTTPRequestParser.index(
                of: UInt8(ascii: ";"), in: head, from: range.lowerBound, to: range.upperBound)
            {
                end = semicolon
            }
            var start = range.lowerBound
            while start < end, head[start] == 0x20 || head[start] == 0x09 { start += 1 }
            while end > start, head[end - 1] == 0x20 || head[end - 1] == 0x09 { end -= 1 }
            return lowercased.withUTF8Buffer { wanted -> Bool in
                guard end - start == wanted.count else { return false }
                var index = start
                for expected in wanted {
                    guard HTTPHeaderFields.folded(head[index]) == expected else { return false }
                    index += 1
                }
                return true
            }
        }
    }

    package func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Whether the connection stays open after this request (HTTP/1.1 unless `close`; 1.0 only with keep-alive).
    package var keepsAlive: Bool {
        guard let value = fields.value(lowercased: "connection") else { return minorVersion >= 1 }
        let tokens = value.split(separator: ",").map(\.trimmingSpacesAndTabs)
        return minorVersion >= 1
            ? !tokens.contains { $0.equalsIgnoringASCIICase("close") }
            : tokens.contains { $0.equalsIgnoringASCIICase("keep-alive") }
    }
}
