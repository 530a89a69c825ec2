import Foundation

/// Ledger entries with their inclusion proofs against one published checkpoint: what `ledger export-entry` and
/// a tenant's transparency export hand out, and what `ledger verify-entry --bundle` and
/// `Scripts/verify_bundle.py` check offline, with nothing but the trusted keys.
///
/// ```json
/// {"checkpoint": "<note: text, blank line, signature and cosignature lines>",
///  "entries": [{"index": 7, "entry": "<the entry's exact bytes>", "proof": ["<base64 hash>", …]}]}
/// ```
/// Every hash is base64, as checkpoints carry them.
package struct ProofBundle: Sendable {
    package struct Item: Sendable {
        package let index: Int
        package let entry: [UInt8]
        package let proof: [SHA256Digest]

        package init(index: Int, entry: [UInt8], proof: [SHA256Digest]) {
            self.index = index
            self.entry = entry
            self.proof = proof
        }
    }

    package let checkpoint: String
    package let items: [Item]

    package init(checkpoint: String, items: [Item]) {
        self.checkpoint = checkpoint
        self.items = items
    }

    package var jsonValue: JSONValue {
        .object([
            ("checkpoint", .string(checkpoint)),
            (
                "entries",
                .array(
                    items.map { item in
                        .object([
                            ("index", .integer(item.index)),
                            ("entry", .string(String(decoding: item.entry, as: UTF8.self))),
                            ("proof", .array(item.proof.map { .string(Data($0.bytes).base64EncodedString()) })),
                        ])
                    })
            ),
        ])
    }

    package init(parsing bytes: [UInt8]) throws(CryptoError) {
        guard let value = try? JSONParser.parse(bytes), case .string(let checkpoint)? = value["checkpoint"],
            case .array(let entries)? = value["entries"]
        else { throw CryptoError("not a proof bundle: expected {\"checkpoint\": note, \"entries\": [...]}") }
        var items: [Item] = []
        for (offset, element) in entries.enumerated() {
            guard case .number(let number)? = element["index"], let index = number.int64Value, index >= 0,
                case .string(let entry)? = element["entry"],
                case .array(let proofValues)? = element["proof"], proofValues.count <= 64
            else { throw CryptoError("entries[\(offset)]: expected index, entry and proof") }
            var proof: [SHA256Digest] = []
            for value in proofValues {
                guard case .string(let text) = value, let data = Data(base64Encoded: text),
                    let hash = SHA256Digest(bytes: Array(data))
                else { throw CryptoError("entries[\(offset)].proof: not base64 SHA-256 hashes") }
                proof.append(hash)
            }
            items.append(Item(index: Int(index), entry: Array(entry.utf8), proof: proof))
        }
        self.init(checkpoint: checkpoint, items: items)
    }

    /// What a verified checkpoint established.
    package struct VerifiedCheckpoint: Sendable {
        package let checkpoint: Checkpoint
        package let cosigners: [String]
    }

    /// The checkpoint's signature by the pinned log key and a quorum of pinned witnesses' cosignatures.
    package static func verifyCheckpoint(_ note: String, trust: TrustPolicy) throws(CryptoError) -> VerifiedCheckpoint {
        let parsed = try SignedNote(parsing: note)
        guard trust.log.verifies(parsed) else {
            throw CryptoError("the checkpoint has no valid signature by the pinned log key \(trust.log.encoded)")
        }
        let checkpoint = try Checkpoint(body: parsed.text)
        guard checkpoint.origin == trust.log.name else {
            throw CryptoError("the checkpoint is of log \(checkpoint.origin), not \(trust.log.name)")
        }
        let cosigners = trust.witnesses.cosigners(of: parsed)
        guard cosigners.count >= trust.witnesses.quorum else {
            throw CryptoError(
                "the checkpoint has \(cosigners.count) valid cosignatures by the pinned witnesses (\(cosigners.joined(separator: ", "))); the quorum is \(trust.witnesses.quorum)"
            )
        }
        return VerifiedCheckpoint(checkpoint: checkpoint, cosigners: cosigners)
    }

    /// Checks the checkpoint and every entry's inclusion in it; throws naming the first that fails.
    package func verify(trust: TrustPolicy) throws(CryptoError) -> VerifiedCheckpoint {
        let verified = try Self.verifyCheckpoint(checkpoint, trust: trust)
        for item in items {
            guard
                MerkleProofVerifier.verifyInclusion(
                    leaf: MerkleTree.leafHash(item.entry), index: item.index, size: verified.checkpoint.size,
                    proof: item.proof, root: verified.checkpoint.root)
            else {
                throw CryptoError(
                    "entry \(item.index) is not proven in the log of size \(verified.checkpoint.size): its bytes or its proof were changed"
                )
            }
        }
        return verified
    }
}
