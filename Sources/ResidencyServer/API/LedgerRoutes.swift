import Foundation
import ResidencyController
import ResidencyCore

/// The ledger's read API, for compliance officers and auditors (compliance and admin roles).
enum LedgerRoutes {
    static func all(ledger: Ledger, publisher: LedgerPublisher) -> [Route] {
        [
            // The latest published checkpoint: without witnesses, the log signed now; with them, the latest one a
            // quorum cosigned (the server publishes every --checkpoint-interval), with their cosignatures.
            Route("GET", "/v1/ledger/checkpoint", roles: [.compliance], tenantScoped: true) { context in
                try APIRoutes.rejectQuery(context.request)
                if publisher.policy.quorum == 0 { try publisher.publish() }
                guard let published = try publisher.latestPublished() else {
                    throw APIError(
                        status: 503, code: "not_published",
                        message:
                            "no checkpoint has reached the witness quorum (\(publisher.policy.quorum)) yet; entries are recorded and wait for publication")
                }
                let note = try SignedNote(parsing: published.note)
                let checkpoint = try Checkpoint(body: note.text)
                return .json(
                    .object([
                        ("origin", .string(ledger.origin)), ("size", .integer(published.size)),
                        ("root", .string(Data(checkpoint.root.bytes).base64EncodedString())),
                        ("note", .string(published.note)),
                        ("verifier_key", .string(ledger.signer.verifier.encoded)),
                        ("cosigners", .array(publisher.policy.cosigners(of: note).map { .string($0) })),
                        ("quorum", .integer(publisher.policy.quorum)),
                    ]))
            },
            Route("GET", "/v1/ledger/entries", roles: [.compliance]) { context in
                let query = try integers(context.request, accepted: ["from", "to"])
                let entries = try ledger.entries(from: query["from"] ?? 0, to: query["to"])
                return .json(
                    .object([
                        (
                            "entries",
                            .array(
                                entries.map { row in
                                    .object([
                                        ("index", .integer(row.index)),
                                        (
                                            "entry",
                                            (try? JSONParser.parse(row.entry))
                                                ?? .string(String(decoding: row.entry, as: UTF8.self))
                                        ),
                                        ("leaf_hash", .string(hex(row.leafHash))),
                                    ])
                                })
                        )
                    ]))
            },
            Route("GET", "/v1/ledger/proofs/inclusion", roles: [.compliance], tenantScoped: true) { context in
                let query = try integers(context.request, accepted: ["index", "size"])
                guard let index = query["index"] else {
                    throw APIError.badRequest("index is required", code: "invalid_query")
                }
                let proof = try ledger.inclusionProof(index: index, size: query["size"])
                return .json(
                    .object([
                        ("index", .integer(proof.index)), ("size", .integer(proof.size)),
                        ("leaf_hash", .string(proof.leafHash.hex)),
                        ("root", .string(proof.root.hex)), ("proof", .array(proof.path.map { .string($0.hex) })),
                    ]))
            },
            Route("GET", "/v1/ledger/proofs/consistency", roles: [.compliance], tenantScoped: true) { context in
                let query = try integers(context.request, accepted: ["from", "to"])
                guard let from = query["from"] else {
                    throw APIError.badRequest("from is required", code: "invalid_query")
                }
                let proof = try ledger.consistencyProof(from: from, to: query["to"])
                return .json(
                    .object([
                        ("from", .integer(proof.from)), ("to", .integer(proof.to)),
                        ("from_root", .string(proof.fromRoot.hex)),
                        ("to_root", .string(proof.toRoot.hex)), ("proof", .array(proof.path.map { .string($0.hex) })),
                    ]))
            },
        ]
    }

    static func hex(_ bytes: [UInt8]) -> String {
        SHA256Digest(bytes: bytes)?.hex ?? bytes.map { String(format: "%02x", $0) }.joined()
    }

    /// Non-negative integer query parameters, refusing any other parameter.
    static func integers(_ request: HTTPRequest, accepted: [String]) throws(APIError) -> [String: Int] {
        var values: [String: Int] = [:]
        for (name, text) in request.query {
            guard accepted.contains(name) else {
                throw APIError.badRequest(
                    "unknown query parameter \"\(name)\"; accepted: \(accepted.joined(separator: ", "))",
                    code: "invalid_query")
            }
            guard let value = Int(text), value >= 0, String(value) == text else {
                throw APIError.badRequest(
                    "\(name): \"\(text)\"; accepted: a non-negative integer", code: "invalid_query")
            }
            values[name] = value
        }
        return values
    }
}
