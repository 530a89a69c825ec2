import ResidencyCore
import ResidencyStore

extension Ledger {
    /// What each witness with a URL has cosigned of this log: its recorded size, learnt by submitting the latest
    /// published (or signed) checkpoint with `old 0` — a witness that saw more answers 409 with its size; one that
    /// saw nothing cosigns it. A witness whose size is beyond this log's has seen entries that are gone here.
    package func witnessSizes(_ witnesses: WitnessPolicy) -> [(name: String, size: Int?, problem: String?)] {
        let note: (size: Int, note: String)?
        do {
            note = try pool.read { database -> (Int, String)? in
                let repository = LedgerRepository(database)
                if let published = try repository.latestPublished() { return (published.size, published.note) }
                return try repository.latestCheckpoint().map { ($0.size, $0.note) }
            }
        } catch {
            return witnesses.witnesses.map { ($0.name, nil, "cannot read the local checkpoints: \(error)") }
        }
        guard let note else { return witnesses.witnesses.map { ($0.name, nil, "no local checkpoint to show it") } }
        return witnesses.witnesses.compactMap { witness in
            guard let url = witness.url else { return nil }
            do {
                let client = try WitnessClient(url: url)
                let response = try client.addCheckpoint(old: 0, proof: [], note: note.note)
                switch response.status {
                case 200: return (witness.name, note.size, nil)
                case 409 where response.contentType.hasPrefix("text/x.tlog.size"):
                    guard let size = Int(response.body.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                        return (witness.name, nil, "answered 409 without a size")
                    }
                    return (witness.name, size, nil)
                default:
                    return (
                        witness.name, nil,
                        "answered \(response.status): \(response.body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(200))"
                    )
                }
            } catch {
                return (witness.name, nil, "\(error)")
            }
        }
    }
}
