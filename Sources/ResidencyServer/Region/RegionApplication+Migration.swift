import Foundation
import ResidencyController
import ResidencyCore
import ResidencyTLS

/// The migration routes of a regional service. From the controller (`/internal/v1/…`): `PUT peers` (the peer
/// services' pins and endpoints) and `POST migrations/{id}/{step}` with a signed order as the body. From the peer
/// service the order names as its target (`/peer/v1/migrations/{id}/…`): the snapshot's description, the changes
/// export, and the files, each streamed whole from an offset (`stream`).
extension RegionApplication {
    static let internalMigrationSteps = [
        "command", "prepare", "freeze", "digest", "purge", "release", "pull", "sync", "discard", "finish",
    ]

    func peersRoute(_ request: HTTPRequest) throws -> HTTPResponse {
        guard request.method == "PUT" else {
            throw APIError(status: 405, code: "method_not_allowed", message: "the peer list is delivered with PUT")
        }
        guard let value = try? JSONParser.parse(request.body), case .array(let items)? = value["peers"],
            items.count <= 1000
        else {
            throw APIError.badRequest("accepted: {\"peers\": [{\"region\", \"pin\", \"endpoint\"}, …]} (at most 1000)")
        }
        var peers: [(pin: String, region: String, endpoint: String)] = []
        for item in items {
            guard case .string(let region)? = item["region"], case .string(let pin)? = item["pin"],
                case .string(let endpoint)? = item["endpoint"], pin.utf8.count == 44,
                Data(base64Encoded: pin)?.count == 32,
                region.utf8.count <= 64, endpoint.utf8.count <= 256
            else {
                throw APIError.badRequest("each peer is {\"region\", \"pin\" (base64 of 32 bytes), \"endpoint\"}")
            }
            peers.append((pin, region, endpoint))
        }
        try node.replacePeers(peers)
        tls?.replacePins(basePins.union(node.peerPins))
        return .json(.object([("peers", .integer(Int64(node.peerPins.count)))]))
    }

    func internalMigrationRoute(_ request: HTTPRequest, migration id: String, step: String) throws -> HTTPResponse {
        guard request.method == "POST" else {
            throw APIError(status: 405, code: "method_not_allowed", message: "a migration step is ordered with POST")
        }
        let order = request.body
        switch step {
        case "prepare":
            try request.acceptQuery(["hash"])
            return .json(try node.prepareSnapshot(order: order, migration: id, hash: request.queryValue("hash") == "1"))
        case "freeze": return .json(try node.freeze(order: order, migration: id))
        case "digest":
            try request.acceptQuery(["full"])
            return .json(try node.migrationDigest(order: order, migration: id, full: request.queryValue("full") == "1"))
        case "purge": return .json(try node.purgeMigrated(order: order, migration: id))
        case "release": return .json(try node.release(order: order, migration: id))
        case "pull": return .json(try node.pull(order: order, migration: id))
        case "sync": return .json(try node.syncChanges(order: order, migration: id))
        case "discard": return .json(try node.discard(order: order, migration: id))
        case "finish": return .json(try node.finish(order: order, migration: id))
        case "command":
            try request.acceptQuery(["mover", "command", "phase"])
            guard let mover = request.queryValue("mover"), let command = request.queryValue("command") else {
                throw APIError.badRequest(
                    "accepted: ?mover=NAME&command=export|import|verify|purge-source|purge-target[&phase=bulk|final]",
                    code: "invalid_field")
            }
            return .json(
                try node.runCommand(
                    order: order, migration: id, mover: mover, command: command, phase: request.queryValue("phase")))
        default:
            throw APIError(
                status: 404, code: "not_found",
                message:
                    "no migration step \"\(step.prefix(40))\"; accepted: \(Self.internalMigrationSteps.joined(separator: ", "))"
            )
        }
    }

    func peerMigrationRoute(_ request: HTTPRequest, migration id: String, what: String) throws -> HTTPResponse {
        guard request.method == "POST" else {
            throw APIError(status: 405, code: "method_not_allowed", message: "the peer routes take POST with the order")
        }
        let order = request.body
        switch what {
        case "snapshot":
            try request.acceptQuery([])
            return .json(try node.snapshotDescription(order: order, migration: id, caller: request.peerPin))
        case "changes":
            try request.acceptQuery(["since"])
            guard let text = request.queryValue("since"), let since = Int64(text), since >= 0 else {
                throw APIError.badRequest(
                    "since: accepted: the snapshot's sequence, an integer of at least 0", code: "invalid_field")
            }
            return .json(try node.exportChanges(order: order, migration: id, since: since, caller: request.peerPin))
        case "stream":
            try request.acceptQuery(["file", "offset", "sequence"])
            guard let file = request.queryValue("file"), let offsetText = request.queryValue("offset"),
                let offset = Int64(offsetText), offset >= 0
            else {
                throw APIError.badRequest(
                    "accepted: ?file=snapshot|changes&offset=N[&sequence=N]", code: "invalid_field")
            }
            let sequence = request.queryValue("sequence").flatMap { Int64($0) }
            let transfer = try node.fileStream(
                order: order, migration: id, file: file, offset: offset, sequence: sequence, caller: request.peerPin)
            return HTTPResponse(
                status: 200,
                headers: [
                    ("Content-Type", "application/octet-stream"), ("X-Residency-Length", String(transfer.length)),
                ],
                stream: ResponseStream { writer in try transfer.produce(writer.write) })
        default:
            throw APIError(status: 404, code: "not_found", message: "accepted: snapshot, changes, stream")
        }
    }
}
