import ResidencyCore
import ResidencyStore

extension Ledger {
    /// Entries `indices` with their inclusion proofs against `checkpoint` (a published note and its size).
    package func proofBundle(indices: [Int], checkpoint: (size: Int, note: String)) throws -> ProofBundle {
        try pool.read { database in
            let repository = LedgerRepository(database)
            var items: [ProofBundle.Item] = []
            for index in indices {
                guard index < checkpoint.size else {
                    throw ControllerError.invalidField(
                        field: "index",
                        message:
                            "\(index) is not in the published checkpoint of size \(checkpoint.size) (0...\(checkpoint.size - 1)); entries after it are proven once the next checkpoint is published"
                    )
                }
                guard let row = try repository.entries(from: index, to: index + 1).first else {
                    throw ControllerError.notFound(kind: "ledger entry", id: String(index))
                }
                items.append(
                    ProofBundle.Item(
                        index: index, entry: row.entry,
                        proof: try repository.inclusionProof(index: index, size: checkpoint.size)))
            }
            return ProofBundle(checkpoint: checkpoint.note, items: items)
        }
    }
}
