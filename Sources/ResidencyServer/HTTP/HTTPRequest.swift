import Foundation

// The fuzz target (Scripts/fuzz http) compiles these files with Core's ASCII helpers into one module.
#if canImport(ResidencyCore)
    import ResidencyCore
#endif

/// One parsed HTTP/1.1 request.
package struct HTTPRequest: Sendable {
    package let method: String
    /// The request target as sent (origin form: path and query).
    package let target: String
    /// The path, percent-decoded segment by segment.
    package let pathSegments: [String]
    package let query: [(name: String, value: String)]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    package let minorVersion: Int
    /// Header fields in arrival order; names lower-cased.
    package let headers: [(name: String, value: String)]
    package let body: [UInt8]
    /// Under mutual TLS, the pin of the key the peer proved at the handshake (set by the event loop): who is
    /// calling, for services that give their peers different rights. Nil over plain HTTP.
    package var peerPin: String?

    package init(
        method: String, target: String, pathSegments: [String], query: [(name: String, value: String)],
        minorVersion: Int,
        headers: [(name: String, value: String)], body: [UInt8]
    ) {
        self.method = method
        self.target = target
        self.pathSegments = pathSegments
        self.query = query
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    /// The path as `/a/b`, decoded.
    package var path: String { "/" + pathSegments.joined(separator: "/") }

    /// The first value of a header (case-insensitive name).
    package func header(_ name: String) -> String? {
        // Stored names are lower-case already, and callers nearly always ask in lower case: compare as is, and
        // fold only a name that has upper-case letters.
        if let exact = headers.first(where: { $0.name == name }) { return exact.value }
        guard name.utf8.contains(where: { (0x41...0x5A).contains($0) }) else { return nil }
        return headers.first { name.equalsIgnoringASCIICase($0.name) }?.value
    }

    /// The media type of Content-Type (before any parameters, without spaces), or nil without the header.
    package var mediaType: Substring? {
        guard let value = header("content-type") else { return nil }
        // Searched as bytes: String.firstIndex(of: Character) compares grapheme clusters, measured at 2 %.
        return value[..<(value.utf8.firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex)].trimmingSpacesAndTabs
    }

    package func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Whether the connection stays open after this request (HTTP/1.1 unless `close`; 1.0 only with keep-alive).
    package var keepsAlive: Bool {
        guard let value = header("connection") else { return minorVersion >= 1 }
        let tokens = value.split(separator: ",").map(\.trimmingSpacesAndTabs)
        return minorVersion >= 1
            ? !tokens.contains { $0.equalsIgnoringASCIICase("close") }
            : tokens.contains { $0.equalsIgnoringASCIICase("keep-alive") }
    }
}
