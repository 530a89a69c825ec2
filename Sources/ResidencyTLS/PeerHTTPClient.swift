import Foundation

/// One HTTP/1.1 exchange with a peer service over mutual TLS (`https://host:port`): connect, handshake (the
/// peer must hold a pinned key), send one request with `Connection: close`, read one bounded answer. An
/// `http://` endpoint is plain TCP (a regional service joining a controller whose API is plain HTTP). Every wait
/// has a deadline, so a peer that hangs costs the caller `timeout` seconds at most, never a thread for ever.
/// The controller's calls to regional services go through it.
package struct PeerHTTPClient: Sendable {
    package struct Response: Sendable {
        package let status: Int
        package let headers: [(name: String, value: String)]
        package let body: [UInt8]

        package func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    package struct Failure: Error, Sendable, CustomStringConvertible {
        package let description: String
        package init(_ description: String) { self.description = description }
    }

    package let host: String
    package let port: UInt16
    package let endpoint: String
    let context: TLSContext?
    let timeout: Double
    /// The largest answer accepted (a page of records, an outbox batch, a tenant's data in chunks).
    let limit: Int

    /// `endpoint` is `https://HOST:PORT` with `context`, or `http://HOST:PORT` without (IPv6 in brackets);
    /// anything else is refused with what is accepted.
    package init(endpoint: String, context: TLSContext?, timeout: Double = 5, limit: Int = 16 << 20) throws {
        guard let (secure, host, port) = Self.parse(endpoint) else {
            throw Failure("endpoint \"\(endpoint)\"; accepted: https://HOST:PORT or http://HOST:PORT (IPv6 in brackets)")
        }
        guard secure == (context != nil) else {
            throw Failure(
                secure ? "endpoint \(endpoint) needs TLS credentials" : "endpoint \(endpoint) is not https:// but peers talk only over mutual TLS")
        }
        self.host = host
        self.port = port
        self.endpoint = endpoint
        self.context = context
        self.timeout = timeout
        self.limit = limit
    }

    /// The parts of `https://HOST:PORT` or `http://HOST:PORT` (a trailing slash allowed, no path).
    package static func parse(_ endpoint: String) -> (secure: Bool, host: String, port: UInt16)? {
        let secure = endpoint.hasPrefix("https://")
        guard secure || endpoint.hasPrefix("http://") else { return nil }
        var rest = Substring(endpoint.dropFirst(secure ? "https://".count : "http://".count))
        while rest.hasSuffix("/") { rest = rest.dropLast() }
        let host: Substring
        let port: Substring
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            guard after.hasPrefix(":") else { return nil }
            port = after.dropFirst()
        } else {
            guard let colon = rest.lastIndex(of: ":") else { return nil }
            host = rest[..<colon]
            port = rest[rest.index(after: colon)...]
        }
        guard !host.isEmpty, !host.contains("/"), let number = UInt16(port), number > 0 else { return nil }
        return (secure, String(host), number)
    }

    package func send(
        _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json",
        headers extra: [(String, String)] = []
    ) throws -> Response {
        let client: TLSClient
        do {
            client = try TLSClient(host: host, port: port, context: context, timeout: timeout)
        } catch {
            throw Failure("\(endpoint): \(error)")
        }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(shownHost):\(port)\r\nConnection: close\r\n"
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        do {
            try client.send(Array(head.utf8) + (body ?? []))
            let bytes = try client.receive(limit: limit) { Self.isComplete($0) }
            return try Self.parse(bytes, from: endpoint)
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure("\(endpoint): \(error)")
        }
    }

    static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var index = 0
        while index + 3 < bytes.count {
            if bytes[index] == 13, bytes[index + 1] == 10, bytes[index + 2] == 13, bytes[index + 3] == 10 { return index }
            index += 1
        }
        return nil
    }

    static func contentLength(_ head: Substring) -> Int? {
        for line in head.split(separator: "\r\n").dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headEnd(bytes) else { return false }
        let head = Substring(String(decoding: bytes[..<end], as: UTF8.self))
        guard let length = contentLength(head) else { return false }
        return bytes.count >= end + 4 + length
    }

    static func parse(_ bytes: [UInt8], from endpoint: String) throws -> Response {
        guard let end = headEnd(bytes) else { throw Failure("\(endpoint) closed without a whole HTTP answer") }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let status = lines.first?.split(separator: " ") ?? []
        guard status.count >= 2, status[0].hasPrefix("HTTP/1."), let code = Int(status[1]) else {
            throw Failure("\(endpoint) answered a malformed status line")
        }
        var headers: [(name: String, value: String)] = []
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2 { headers.append((String(parts[0]), parts[1].trimmingCharacters(in: .whitespaces))) }
        }
        var body = Array(bytes[(end + 4)...])
        if let length = contentLength(Substring(head)) {
            guard body.count >= length else { throw Failure("\(endpoint) closed before the whole answer") }
            body = Array(body.prefix(length))
        }
        return Response(status: code, headers: headers, body: body)
    }
}
