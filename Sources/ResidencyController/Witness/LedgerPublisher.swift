import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// Publishes the ledger's checkpoints: signs the log's current size and, under a witness policy, has the
/// witnesses cosign it (C2SP tlog-witness); a checkpoint is published — served by `ledger checkpoint`, the API
/// and the proofs — only once a quorum cosigned it, and every published checkpoint is kept.
///
/// Entries are always written: with no quorum reachable, publication waits (`status` says how far behind it is,
/// for `/readyz` and `/metrics`) and catches up at the next call. A witness that has seen a larger log than this
/// one, or refuses the consistency proof, is evidence of a truncated or forked log and is reported as such.
package final class LedgerPublisher: Sendable {
    package struct Status: Sendable {
        /// The size of the latest published checkpoint (0: none yet).
        package var publishedSize = 0
        /// The size of the latest signed checkpoint.
        package var signedSize = 0
        /// Since when a signed checkpoint has waited for its quorum (milliseconds since the epoch); nil when none waits.
        package var waitingSince: Int64?
        /// What the witnesses answered at the last attempt that fell short, by witness.
        package var lastProblems: [String] = []
        package var attempts = 0
        package var failures = 0
    }

    package let policy: WitnessPolicy
    let ledger: Ledger
    private let clients: [String: any WitnessTransport]
    /// The size each witness last cosigned, as far as this process knows (learnt from 409 answers too).
    private let knownSizes = Mutex<[String: Int]>([:])
    private let state = Mutex(Status())
    /// One publication at a time: two would race each witness's recorded size against each other.
    private let publishing = Mutex(())

    /// `regional` reaches the witnesses listed as `region:ID` (a regional service's own witness, over the mutual
    /// TLS between the controller and the service); the others are asked over HTTP at their URL.
    init(policy: WitnessPolicy, ledger: Ledger, regional: RegionalServices? = nil, timeout: Double = 2.0) throws {
        self.policy = policy
        self.ledger = ledger
        var clients: [String: any WitnessTransport] = [:]
        for witness in policy.witnesses {
            guard let url = witness.url else { continue }
            if url.hasPrefix(WitnessPolicy.regionalScheme) {
                let region = String(url.dropFirst(WitnessPolicy.regionalScheme.count))
                // A process without the controller's identity (some commands open only the ledger) cannot reach a
                // regional service: that witness is reported missing, and the server publishes.
                clients[witness.name] =
                    regional.map { RegionalWitness(regional: $0, region: region) as any WitnessTransport }
                    ?? UnreachableWitness(reason: "region \(region)'s witness is reached only by the controller's server")
            } else {
                clients[witness.name] = try WitnessClient(url: url, timeout: timeout)
            }
        }
        self.clients = clients
    }

    /// A publisher for a ledger opened on its own (the command line), under `policy`.
    package static func open(
        ledger: Ledger, policy: WitnessPolicy, regional: RegionalServices? = nil
    ) throws -> LedgerPublisher {
        try LedgerPublisher(policy: policy, ledger: ledger, regional: regional)
    }

    package var status: Status { state.withLock { $0 } }

    /// The log's size now.
    package func size() throws -> Int { try ledger.size() }

    /// The latest published checkpoint note: with a witness policy, the latest one a quorum cosigned (nil when
    /// none has been yet); without one, the latest signed checkpoint.
    package func latestPublished() throws -> (size: Int, note: String)? {
        if policy.quorum == 0 {
            return try ledger.pool.read { try LedgerRepository($0).latestCheckpoint() }.map { ($0.size, $0.note) }
        }
        return try ledger.pool.read { try LedgerRepository($0).latestPublished() }.map { ($0.size, $0.note) }
    }

    /// Signs a checkpoint of the whole log (when it grew) and publishes it; answers the published size. Throws
    /// when the quorum was not reached — the checkpoint stays signed and waits for the next call.
    @discardableResult
    package func publish() throws -> Int {
        try publishing.withLock { _ in
            let signed = try ledger.currentCheckpoint()
            state.withLock { $0.signedSize = signed.size }
            guard policy.quorum > 0 else {
                state.withLock {
                    $0.publishedSize = signed.size
                    $0.waitingSince = nil
                }
                return signed.size
            }
            if let latest = try ledger.pool.read({ try LedgerRepository($0).latestPublished() }),
                latest.size >= signed.size
            {
                state.withLock {
                    $0.publishedSize = latest.size
                    $0.waitingSince = nil
                }
                return latest.size
            }
            let now = ledger.clock.now()
            state.withLock {
                $0.attempts += 1
                if $0.waitingSince == nil { $0.waitingSince = now }
            }
            let note = try SignedNote(parsing: signed.note)
            let answers = Mutex<[(name: String, line: String?, problem: String?)]>([])
            let witnesses = policy.witnesses
            DispatchQueue.concurrentPerform(iterations: witnesses.count) { index in
                let witness = witnesses[index]
                let outcome = self.cosignature(from: witness, note: note, size: signed.size)
                answers.withLock { $0.append((witness.name, outcome.line, outcome.problem)) }
            }
            let collected = answers.withLock { $0 }
            let lines = collected.compactMap(\.line)
            let cosigners = collected.filter { $0.line != nil }.map(\.name).sorted()
            let problems = collected.compactMap { answer in answer.problem.map { "\(answer.name): \($0)" } }.sorted()
            guard cosigners.count >= policy.quorum else {
                state.withLock {
                    $0.failures += 1
                    $0.lastProblems = problems
                }
                throw ControllerError.storage(
                    "checkpoint \(signed.size) has \(cosigners.count) of the \(policy.quorum) cosignatures it needs; it waits: \(problems.joined(separator: "; "))"
                )
            }
            let published = note.adding(lines).encoded
            try ledger.pool.write { database in
                try LedgerRepository(database).insertPublished(
                    size: signed.size, note: published, cosigners: cosigners, at: ledger.clock.now())
            }
            state.withLock {
                $0.publishedSize = signed.size
                $0.waitingSince = nil
                $0.lastProblems = problems
            }
            return signed.size
        }
    }

    /// One witness's cosignature of `note`, or why there is none. A 409 teaches the witness's size: the request
    /// is made again once with a proof from that size.
    private func cosignature(
        from witness: WitnessPolicy.Witness, note: SignedNote, size: Int
    ) -> (line: String?, problem: String?) {
        guard let client = clients[witness.name] else { return (nil, "no URL for this witness") }
        var old = knownSizes.withLock { $0[witness.name] } ?? 0
        for _ in 0..<2 {
            do {
                if old > size {
                    return (
                        nil,
                        "the witness has cosigned size \(old), larger than this log (\(size)): the log was truncated or replaced"
                    )
                }
                let proof = old > 0 && old < size ? try ledger.consistencyProof(from: old, to: size).path : []
                let response = try client.addCheckpoint(old: old, proof: proof, note: note.encoded)
                switch response.status {
                case 200:
                    let lines = response.body.split(separator: "\n").map(String.init)
                    guard let line = lines.first(where: { witness.key.verify($0, checkpointText: note.text) != nil })
                    else {
                        return (nil, "answered 200 without a valid cosignature by \(witness.key.encoded)")
                    }
                    knownSizes.withLock { $0[witness.name] = size }
                    return (line, nil)
                case 409 where response.contentType.hasPrefix("text/x.tlog.size"):
                    guard let recorded = Int(response.body.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                        return (nil, "answered 409 without a size")
                    }
                    knownSizes.withLock { $0[witness.name] = recorded }
                    old = recorded
                    continue
                default:
                    return (
                        nil,
                        "answered \(response.status): \(response.body.trimmingCharacters(in: .whitespacesAndNewlines).prefix(300))"
                    )
                }
            } catch {
                return (nil, "\(error)")
            }
        }
        return (nil, "its recorded size kept changing")
    }
}
