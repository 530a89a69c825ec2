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

    /// Time allowed to the source for one piece or one export.
    static let timeout = 120.0

    init(order: MigrationOrder, identity: TLSIdentity) throws {
        self.order = order
        do {
            let context = try TLSContext(mutual: identity, pinned: [order.source.pin], client: true)
            pool = try PeerConnectionPool(
                endpoint: order.source.endpoint, context: context, timeout: Self.timeout,
                limit: RegionNode.chunkLimit + 64 * 1024, maximumIdle: 1)
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
        guard response.status == 200 else {
            var code = "peer_refused"
            var message = String(decoding: response.body.prefix(300), as: UTF8.self)
            if let answer = try? JSONParser.parse(response.body) {
                if case .string(let text)? = answer["error"]?["code"] { code = text }
                if case .string(let text)? = answer["error"]?["message"] { message = text }
            }
            let detail = "region \(order.source.region)'s service answered HTTP \(response.status) \(code): \(message)"
            switch response.status {
            case 403: throw RegionNode.Refusal.orderRefused(code: code, message: detail)
            case 500...: throw RegionNode.Refusal.peerUnavailable(detail)
            default: throw RegionNode.Refusal.migrationConflict(code: code, message: detail)
            }
        }
        return response
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

    /// Fetches `file` piece by piece, appending to `path` from its current length (a pull interrupted by a
    /// crash resumes where it stopped), then syncs it to disk.
    func download(_ file: String, order bytes: [UInt8], sequence: Int64?, size: Int64, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var offset = Int64(lseek(descriptor, 0, SEEK_END))
        if offset > size {
            guard ftruncate(descriptor, 0) == 0 else { throw TenantDataError.io("cannot truncate \(path)") }
            offset = 0
        }
        var pieces = 0
        while offset < size {
            var query = "file=\(file)&offset=\(offset)&length=\(RegionNode.chunkLimit)"
            if let sequence { query += "&sequence=\(sequence)" }
            let piece = try send("\(base)/files?\(query)", order: bytes).body
            guard !piece.isEmpty else {
                throw RegionNode.Refusal.migrationConflict(
                    code: "short_file", message: "the source's \(file) ended at \(offset) of \(size) bytes")
            }
            var written = 0
            while written < piece.count {
                let count = piece.withUnsafeBytes {
                    pwrite(descriptor, $0.baseAddress! + written, piece.count - written, off_t(offset) + off_t(written))
                }
                if count < 0, errno == EINTR { continue }
                guard count > 0 else {
                    throw TenantDataError.io("cannot write \(path): \(String(cString: strerror(errno)))")
                }
                written += count
            }
            offset += Int64(piece.count)
            pieces += 1
            if pieces == 1 { FaultPoint.hit("target-pull", "partial") }
        }
        guard fsync(descriptor) == 0 else { throw TenantDataError.io("cannot sync \(path)") }
    }
}
