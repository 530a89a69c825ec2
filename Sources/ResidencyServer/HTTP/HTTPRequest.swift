import Foundation

// The fuzz target (Scripts/fuzz http) compiles these files with Core's ASCII helpers into one module.
#if canImport(ResidencyCore)
    import ResidencyCore
#endif

/// One parsed HTTP/1.1 request.
public struct HTTPRequest: Sendable {
    public let method: String
    /// The request target as sent (origin form: path and query).
    public let target: String
    /// The path, percent-decoded segment by segment.
    public let pathSegments: [String]
    public let query: [(name: String, value: String)]
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public let minorVersion: Int
    /// Header fields in arrival order; names lower-cased.
    public let headers: [(name: String, value: String)]
    public let body: [UInt8]

    public init(
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
    public var path: String { "/" + pathSegments.joined(separator: "/") }

    /// The first value of a header (case-insensitive name).
    public func header(_ name: String) -> String? {
        // Stored names are lower-case already; fold only the asked-for name, and without allocating.
        headers.first { name.equalsIgnoringASCIICase($0.name) }?.value
    }

    public func queryValue(_ name: String) -> String? { query.first { $0.name == name }?.value }

    /// Whether the connection stays open after this request (HTTP/1.1 unless `close`; 1.0 only with keep-alive).
    public var keepsAlive: Bool {
        guard let value = header("connection") else { return minorVersion >= 1 }
        let tokens = value.split(separator: ",").map(\.trimmingSpacesAndTabs)
        return minorVersion >= 1
            ? !tokens.contains { $0.equalsIgnoringASCIICase("close") }
            : tokens.contains { $0.equalsIgnoringASCIICase("keep-alive") }
    }
}
