import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A blocking TLS connection to a service, for one thread at a time: connects with a deadline, completes the
/// (mutual) handshake, then sends and receives bytes through the session — every wait bounded by `timeout`.
/// The controller's calls to regional services and theirs to each other go through it. Without a context it
/// is a plain TCP connection with the same deadlines (a regional service's first call to a controller whose
/// API is plain HTTP on loopback; the join code, not the channel, authenticates that call).
package final class TLSClient {
    private let descriptor: Int32
    private let session: TLSSession?
    private let timeout: Double
    private var received: [UInt8] = []
    /// One socket read's worth, reused for every read (a large answer is hundreds of thousands of reads).
    private var readBuffer = [UInt8](repeating: 0, count: 256 * 1024)

    package struct Failure: Error, CustomStringConvertible {
        package let description: String
    }

    /// Connects to `host:port` and completes the handshake under `context` (a client context: `mutual` with
    /// `client: true`); throws when the peer is unreachable, slow, or not who the pins say.
    package init(host: String, port: UInt16, context: TLSContext?, timeout: Double = 5) throws {
        self.timeout = timeout
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(timeout * 1e9)
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else {
            throw Failure(description: "cannot resolve \(host)")
        }
        defer { freeaddrinfo(result) }
        descriptor = socket(info.pointee.ai_family, info.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var seconds = timeval(tv_sec: Int(timeout), tv_usec: Int(timeout.truncatingRemainder(dividingBy: 1) * 1e6))
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &seconds, socklen_t(MemoryLayout<timeval>.size))
        guard Glibc.connect(descriptor, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Failure(description: "cannot connect to \(host):\(port): \(reason)")
        }
        guard let context else {
            session = nil
            return
        }
        let session: TLSSession
        do {
            session = try TLSSession(context: context, client: true)
            self.session = session
        } catch {
            close(descriptor)
            throw Failure(description: "\(error)")
        }
        var wire: [UInt8] = []
        if case .failed(let reason) = session.start(into: &wire) {
            close(descriptor)
            throw Failure(description: "TLS with \(host):\(port) failed: \(reason)")
        }
        do {
            try write(wire)
            while !session.isEstablished {
                guard DispatchTime.now().uptimeNanoseconds < deadline else {
                    throw Failure(description: "no TLS handshake with \(host):\(port) within \(timeout) s")
                }
                try pump()
            }
        } catch {
            close(descriptor)
            throw error
        }
    }

    deinit { close(descriptor) }

    /// The peer's pin, as it proved at the handshake.
    package var peerPin: String? { session?.peerPin }

    package func send(_ plaintext: [UInt8]) throws {
        guard let session else { return try write(plaintext) }
        var wire: [UInt8] = []
        session.seal(plaintext, into: &wire)
        try write(wire)
    }

    /// Plaintext received so far, waiting for more until `isComplete` says the answer is whole (or the peer
    /// closes); bounded by `limit` bytes.
    package func receive(limit: Int = 16 << 20, until isComplete: ([UInt8]) -> Bool) throws -> [UInt8] {
        while !isComplete(received) {
            guard received.count <= limit else { throw Failure(description: "the answer exceeds \(limit) bytes") }
            if try !pump() { break }
        }
        return received
    }

    /// Drops the first `count` bytes received (an answer read whole), so the next `receive` on a persistent
    /// connection starts at the next answer.
    package func consume(_ count: Int) {
        received.removeFirst(min(count, received.count))
    }

    /// Hands the plaintext received so far, then each read's as it arrives, to `body`, which answers whether it
    /// has everything it expects — a body far larger than memory passes through about one read at a time.
    /// Answers false when the peer closed first.
    package func stream(_ body: (UnsafeRawBufferPointer) throws -> Bool) throws -> Bool {
        var open = true
        while true {
            if !received.isEmpty {
                let complete = try received.withUnsafeBytes { try body($0) }
                received.removeAll(keepingCapacity: true)
                if complete { return true }
            }
            // The read that saw the close may have brought the answer's last bytes: handed over above first.
            guard open else { return false }
            open = try pump()
        }
    }

    /// One read from the socket through the session; false at the peer's close.
    @discardableResult
    private func pump() throws -> Bool {
        let count = readBuffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
        if count == 0 { return false }
        guard count > 0 else {
            if errno == EINTR { return true }
            throw Failure(
                description: errno == EAGAIN ? "no answer within \(timeout) s" : String(cString: strerror(errno)))
        }
        guard let session else {
            received += readBuffer[0..<count]
            return true
        }
        var wire: [UInt8] = []
        let outcome = readBuffer.withUnsafeBytes {
            session.receive(UnsafeRawBufferPointer(rebasing: $0[0..<count]), plaintext: &received, wire: &wire)
        }
        try write(wire)
        switch outcome {
        case .data: return true
        case .closed: return false
        case .failed(let reason): throw Failure(description: "TLS failed: \(reason)")
        }
    }

    private func write(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes.withUnsafeBytes {
                Glibc.send(descriptor, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard sent > 0 else {
                if sent < 0 && errno == EINTR { continue }
                throw Failure(description: "sending: \(String(cString: strerror(errno)))")
            }
            offset += sent
        }
    }
}
