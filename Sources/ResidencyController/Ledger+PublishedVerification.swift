import ResidencyCore
import ResidencyStore

extension Ledger {
    /// Checks the published checkpoints against the recomputed roots: each carries a valid signature by the
    /// log's key, its root is the root of the entries before it, and — given the witness policy an auditor
    /// pinned — the cosignatures of a quorum of those witnesses. With a policy that asks for cosignatures, a
    /// non-empty log with nothing published fails too: an operator who drops publication drops its proof.
    static func verifyPublished(
        _ published: [LedgerRepository.PublishedCheckpoint], rootsAt: [Int: SHA256Digest], size: Int,
        log: NoteVerifier, witnesses: WitnessPolicy?
    ) -> (verified: Int, problems: [LedgerVerification.Problem]) {
        var problems: [LedgerVerification.Problem] = []
        var verified = 0
        for checkpoint in published {
            let index = max(0, checkpoint.size - 1)
            guard let recomputed = rootsAt[checkpoint.size] else {
                problems.append(
                    .init(
                        index: size,
                        message:
                            "published checkpoint at size \(checkpoint.size) is beyond the log's \(size) entries (entries were removed)"
                    ))
                continue
            }
            let note: SignedNote
            let body: Checkpoint
            do {
                note = try SignedNote(parsing: checkpoint.note)
                body = try Checkpoint(body: note.text)
            } catch {
                problems.append(.init(index: index, message: "published checkpoint at size \(checkpoint.size): \(error)"))
                continue
            }
            guard log.verifies(note) else {
                problems.append(
                    .init(
                        index: index,
                        message: "published checkpoint at size \(checkpoint.size) has no valid signature by \(log.name)"))
                continue
            }
            guard body.size == checkpoint.size, body.root == recomputed else {
                problems.append(
                    .init(
                        index: index,
                        message:
                            "the published root at size \(checkpoint.size) does not match the entries before it (they were changed)"
                    ))
                continue
            }
            if let witnesses, witnesses.quorum > 0 {
                let cosigners = witnesses.cosigners(of: note)
                guard cosigners.count >= witnesses.quorum else {
                    problems.append(
                        .init(
                            index: index,
                            message:
                                "published checkpoint at size \(checkpoint.size) has \(cosigners.count) valid cosignatures by the pinned witnesses; the quorum is \(witnesses.quorum)"
                        ))
                    continue
                }
            }
            verified += 1
        }
        if let witnesses, witnesses.quorum > 0, size > 0, published.isEmpty {
            problems.append(
                .init(
                    index: 0,
                    message:
                        "nothing of this log was ever published with the witnesses' cosignatures (quorum \(witnesses.quorum))"
                ))
        }
        return (verified, problems)
    }
}
