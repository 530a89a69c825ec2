import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Asks one witness for a cosignature over plain HTTP/1.1 (`http://host:port[/prefix]`), with a deadline on
/// everything: connecting, sending and reading. One request per connection (`Connection: close`), so no state
/// outlives a call. The answer's size is bounded; a witness cannot make the controller hold more than 64 KiB.
struct WitnessClient: WitnessTransport {
    struct Response: Sendable {
        let status: Int
        let contentType: String
        let body: String
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let host: String
    let port: UInt16
    let prefix: String
    let timeout: Double

    init(url: String, timeout: Double = 2.0) throws {
        guard url.hasPrefix("http://") else {
            throw Failure(description: "witness URL \(url): only http:// is supported for now (TLS comes with the regional services)")
        }
        var rest = url.dropFirst("http://".count)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        while path.hasSuffix("/") { path.removeLast() }
        rest = authority
        let hostPart: Substring
        let portPart: Substring?
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            portPart = after.hasPrefix(":") ? after.dropFirst() : nil
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
            portPart = nil
        }
        guard !hostPart.isEmpty, let port = UInt16(portPart ?? "80") else {
            throw Failure(description: "witness URL \(url) is not http://HOST:PORT[/PREFIX]")
        }
        self.host = String(hostPart)
        self.port = port
        self.prefix = path
        self.timeout = timeout
    }

    func addCheckpoint(old: Int, proof: [SHA256Digest], note: String) throws -> Response {
        try post(path: prefix + "/add-checkpoint", body: Self.addCheckpointBody(old: old, proof: proof, note: note))
    }

    /// The tlog-witness request body: `old N`, the proof's hashes, a blank line, the note.
    static func addCheckpointBody(old: Int, proof: [SHA256Digest], note: String) -> [UInt8] {
        var body = "old \(old)\n"
        for hash in proof { body += Data(hash.bytes).base64EncodedString() + "\n" }
        body += "\n" + note
        return Array(body.utf8)
    }

    private func post(path: String, body: [UInt8]) throws -> Response {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        let descriptor = try connect(deadline: deadline)
        defer { close(descriptor) }
        let shownHost = host.contains(":") ? "[\(host)]" : host
        let head =
            "POST \(path) HTTP/1.1\r\nHost: \(shownHost):\(port)\r\nContent-Type: text/plain\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n"
        try send(Array(head.utf8) + body, on: descriptor, deadline: deadline)
        let bytes = try receive(from: descriptor, deadline: deadline)
        return try Self.parse(bytes)
    }

    private func remaining(_ deadline: UInt64) throws -> Int32 {
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadline else { throw Failure(description: "no answer from \(host):\(port) within \(timeout) s") }
        return Int32(max(1, (deadline - now) / 1_000_000))
    }

    private func connect(deadline: UInt64) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        let descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK)
        if Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) != 0 {
            guard errno == EINPROGRESS else {
                let reason = String(cString: strerror(errno))
                close(descriptor)
                throw Failure(description: "cannot connect to \(host):\(port): \(reason)")
            }
            var probe = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            let ready = poll(&probe, 1, (try? remaining(deadline)) ?? 0)
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length)
            guard ready == 1, error == 0 else {
                close(descriptor)
                throw Failure(
                    description:
                        "cannot connect to \(host):\(port): \(error != 0 ? String(cString: strerror(error)) : "timed out")")
            }
        }
        return descriptor
    }

    private func send(_ bytes: [UInt8], on descriptor: Int32, deadline: UInt64) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent > 0 {
                offset += sent
                continue
            }
            guard sent < 0, errno == EAGAIN || errno == EINTR else {
                throw Failure(description: "sending to \(host):\(port): \(String(cString: strerror(errno)))")
            }
            var probe = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
            _ = poll(&probe, 1, try remaining(deadline))
        }
    }

    private func receive(from descriptor: Int32, deadline: UInt64) throws -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while bytes.count <= 64 * 1024 {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                bytes += chunk[0..<count]
                if Self.isComplete(bytes) { return bytes }
                continue
            }
            if count == 0 { return bytes }
            guard errno == EAGAIN || errno == EINTR else {
                throw Failure(description: "reading from \(host):\(port): \(String(cString: strerror(errno)))")
            }
            var probe = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            _ = poll(&probe, 1, try remaining(deadline))
        }
        throw Failure(description: "the answer of \(host):\(port) exceeds 64 KiB")
    }

    private static func headEnd(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            return index
        }
        return nil
    }

    private static func isComplete(_ bytes: [UInt8]) -> Bool {
        guard let end = headEnd(bytes), let length = contentLength(String(decoding: bytes[..<end], as: UTF8.self))
        else { return false }
        return bytes.count >= end + 4 + length
    }

    private static func contentLength(_ head: String) -> Int? {
        for line in head.split(separator: "\r\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-length" {
                return Int(parts[1].trimmingCharacters(in: .whitespaces))
            }
        }
        return nil
    }

    static func parse(_ bytes: [UInt8]) throws -> Response {
        guard let end = headEnd(bytes) else { throw Failure(description: "a malformed HTTP answer") }
        let head = String(decoding: bytes[..<end], as: UTF8.self)
        let lines = head.split(separator: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, statusParts[0].hasPrefix("HTTP/1."), let status = Int(statusParts[1]) else {
            throw Failure(description: "a malformed HTTP status line")
        }
        var contentType = ""
        for line in lines.dropFirst() {
            let parts = line.split(separator: ":", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "content-type" {
                contentType = parts[1].trimmingCharacters(in: .whitespaces)
            }
        }
        var body = Array(bytes[(end + 4)...])
        if let length = contentLength(head), body.count > length { body = Array(body.prefix(length)) }
        return Response(status: status, contentType: contentType, body: String(decoding: body, as: UTF8.self))
    }
}
