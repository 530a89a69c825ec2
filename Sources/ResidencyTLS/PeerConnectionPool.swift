import Foundation
import Synchronization

/// Persistent connections to one peer service, reused across calls: a TLS handshake per call would cost the
/// controller a few milliseconds of CPU on every forwarded tenant data request. At most `maximumIdle` idle
/// connections are kept; a call takes one (or opens one), sends with keep-alive, reads one answer by its
/// `Content-Length`, and puts the connection back unless either side said `Connection: close`. A kept
/// connection the peer has closed meanwhile (its idle timeout) fails at once; the call is then made again on a
/// new connection — every request the controller sends a service is idempotent (PUT, GET, DELETE, an
/// acknowledgement up to a sequence number, a checkpoint a witness already cosigned).
package final class PeerConnectionPool: Sendable {
    package let endpoint: String
    let host: String
    let port: UInt16
    let context: TLSContext?
    let timeout: Double
    let limit: Int
    let maximumIdle: Int
    private let idle = Mutex<[Held]>([])

    /// A connection between calls; only one thread holds it at a time (taken out of the list to be used).
    struct Held: @unchecked Sendable {
        let client: TLSClient
    }

    package init(endpoint: String, context: TLSContext?, timeout: Double = 5, limit: Int = 16 << 20, maximumIdle: Int = 8)
        throws
    {
        guard let (secure, host, port) = PeerHTTPClient.parse(endpoint), secure == (context != nil) else {
            throw PeerHTTPClient.Failure("endpoint \"\(endpoint)\"; accepted: https://HOST:PORT with TLS credentials")
        }
        self.endpoint = endpoint
        self.host = host
        self.port = port
        self.context = context
        self.timeout = timeout
        self.limit = limit
        self.maximumIdle = maximumIdle
    }

    package func send(
        _ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json"
    ) throws -> PeerHTTPClient.Response {
        if let kept = idle.withLock({ $0.popLast() }) {
            if let response = try? exchange(kept.client, method, path, body: body, contentType: contentType) {
                return response
            }
        }
        let client: TLSClient
        do {
            client = try TLSClient(host: host, port: port, context: context, timeout: timeout)
        } catch {
            throw PeerHTTPClient.Failure("\(endpoint): \(error)")
        }
        do {
            return try exchange(client, method, path, body: body, contentType: contentType)
        } catch let failure as PeerHTTPClient.Failure {
            throw failure
        } catch {
            throw PeerHTTPClient.Failure("\(endpoint): \(error)")
        }
    }

    /// One request and its answer on `client`; the connection goes back to the pool when it may be reused.
    private func exchange(
        _ client: TLSClient, _ method: String, _ path: String, body: [UInt8]?, contentType: String
    ) throws -> PeerHTTPClient.Response {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(shownHost):\(port)\r\n"
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        try client.send(Array(head.utf8) + (body ?? []))
        let bytes = try client.receive(limit: limit) { PeerHTTPClient.isComplete($0) }
        guard let end = PeerHTTPClient.headEnd(bytes),
            let length = PeerHTTPClient.contentLength(Substring(String(decoding: bytes[..<end], as: UTF8.self)))
        else {
            throw PeerHTTPClient.Failure("\(endpoint) closed without a whole HTTP answer")
        }
        let whole = end + 4 + length
        let response = try PeerHTTPClient.parse(Array(bytes[..<whole]), from: endpoint)
        client.consume(whole)
        let closes = response.header("connection")?.lowercased().contains("close") == true
        if !closes {
            idle.withLock { kept in
                if kept.count < maximumIdle { kept.append(Held(client: client)) }
            }
        }
        return response
    }
}
