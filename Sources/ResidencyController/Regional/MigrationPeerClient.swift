import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

#if canImport(Glibc)
    import Glibc
#endif

/// The target service's connection to the source service of one migration: mutual TLS with the source's key
/// pinned from the order (and this service's own key presented, which the source checks against the order's
/// target pin), every request carrying the signed order.
struct MigrationPeerClient {
    let order: MigrationOrder
    let pool: PeerConnectionPool
    /// For the files, each taken as one streamed answer on a connection of its own.
    let streamer: PeerHTTPClient

    /// Time allowed to the source for one export, and to a streamed file between two reads.
    static let timeout = 120.0

    init(order: MigrationOrder, identity: TLSIdentity) throws {
        self.order = order
        do {
            let context = try TLSContext(mutual: identity, pinned: [order.source.pin], client: true)
            pool = try PeerConnectionPool(
                endpoint: order.source.endpoint, context: context, timeout: Self.timeout,
                limit: 1 << 20, maximumIdle: 1)
            streamer = try PeerHTTPClient(
                endpoint: order.source.endpoint, context: context, timeout: Self.timeout, limit: 64 * 1024)
        } catch {
            throw RegionNode.Refusal.invalid("the order's source endpoint \(order.source.endpoint): \(error)")
        }
    }

    private var base: String { "/peer/v1/migrations/\(order.migration)" }

    private func send(_ path: String, order bytes: [UInt8]) throws -> PeerHTTPClient.Response {
        let response: PeerHTTPClient.Response
        do {
            response = try pool.send("POST", path, body: bytes)
        } catch {
            throw RegionNode.Refusal.peerUnavailable(
                "region \(order.source.region)'s service does not answer: \(error)")
        }
        guard response.status == 200 else { throw refusedError(response) }
        return response
    }

    /// The source's refusal as this service reports it: a refused order (403), an unavailable peer (5xx), or a
    /// conflict, with the source's own code and message.
    private func refusedError(_ response: PeerHTTPClient.Response) -> RegionNode.Refusal {
        var code = "peer_refused"
        var message = String(decoding: response.body.prefix(300), as: UTF8.self)
        if let answer = try? JSONParser.parse(response.body) {
            if case .string(let text)? = answer["error"]?["code"] { code = text }
            if case .string(let text)? = answer["error"]?["message"] { message = text }
        }
        let detail = "region \(order.source.region)'s service answered HTTP \(response.status) \(code): \(message)"
        switch response.status {
        case 403: return .orderRefused(code: code, message: detail)
        case 500...: return .peerUnavailable(detail)
        default: return .migrationConflict(code: code, message: detail)
        }
    }

    /// A JSON answer from the source (`snapshot` describes it; `changes` exports them).
    func call(_ what: String, order bytes: [UInt8], query: String) throws -> JSONValue {
        let response = try send("\(base)/\(what)\(query.isEmpty ? "" : "?" + query)", order: bytes)
        guard let value = try? JSONParser.parse(response.body) else {
            throw RegionNode.Refusal.migrationConflict(
                code: "bad_answer", message: "the source's \(what) answer is not JSON")
        }
        return value
    }

    /// Takes `file` as one streamed answer, appending to `path` from its current length (a pull interrupted by a
    /// crash resumes where it stopped) and hashing as it writes, then syncs it to disk; answers the SHA-256 of
    /// the whole file. Memory stays at about one read whatever the file's size.
    @discardableResult
    func download(_ file: String, order bytes: [UInt8], sequence: Int64?, size: Int64, to path: String) throws -> String
    {
        let received = try ReceivedFile(path: path)
        if received.length > size { try received.truncate() }
        if received.length < size {
            var query = "file=\(file)&offset=\(received.length)"
            if let sequence { query += "&sequence=\(sequence)" }
            var reported = false
            let refusal: PeerHTTPClient.Response?
            do {
                refusal = try streamer.stream(
                    "POST", "\(base)/stream?\(query)", body: bytes, length: size - received.length
                ) { piece in
                    try received.append(piece)
                    if !reported {
                        reported = true
                        FaultPoint.hit("target-pull", "partial")
                    }
                }
            } catch let failure as PeerHTTPClient.Failure {
                throw RegionNode.Refusal.peerUnavailable(
                    "region \(order.source.region)'s service, streaming its \(file): \(failure)")
            }
            if let refusal { throw refusedError(refusal) }
        }
        return try received.finish()
    }
}
