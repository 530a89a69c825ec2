import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// A C2SP tlog-witness: cosigns a log's checkpoint only when it extends the one it cosigned before.
///
/// `addCheckpoint` implements `POST <prefix>/add-checkpoint`: an `old <size>` line, up to 63 base64 consistency
/// proof lines, a blank line and a signed checkpoint. The witness checks, in the specification's order: the
/// origin is one it follows (404), a signature by that log's key verifies (403), `old` is not beyond the new
/// size (400), `old` is the size it last cosigned (409 with that size, `text/x.tlog.size`), the proof takes the
/// old root to the new one (422), an equal size has an equal root (409) — then saves the new head durably and
/// answers with its timestamped cosignature. The check and the save happen under one lock, so two concurrent
/// submissions can never roll the recorded size back.
package final class Witness: Sendable {
    package struct Answer: Sendable, Equatable {
        package let status: Int
        package let contentType: String
        package let body: String
    }

    package let cosigner: Cosigner
    /// The logs followed, by origin: a checkpoint is accepted with a signature by its origin's key.
    package let logs: [String: NoteVerifier]
    private let state: WitnessState
    private let lock = Mutex(())
    private let clock: Clock

    package static let keyFileName = "witness.key"
    package static let logsFileName = "followed-logs"

    package init(cosigner: Cosigner, logs: [NoteVerifier], directory: URL, clock: Clock = .system) throws {
        self.cosigner = cosigner
        var byOrigin: [String: NoteVerifier] = [:]
        for log in logs { byOrigin[log.name] = log }
        self.logs = byOrigin
        self.state = try WitnessState(directory: directory)
        self.clock = clock
    }

    /// Opens the witness of `directory`: its key (created at first start, 0600) and the logs it follows (those
    /// recorded there plus `adding`, which are recorded for the next start).
    package static func open(directory: URL, name: String?, adding: [NoteVerifier]) throws -> Witness {
        try DataDirectory(directory).create()
        let keyURL = directory.appendingPathComponent(keyFileName)
        let cosigner: Cosigner
        if let text = try? String(contentsOf: keyURL, encoding: .utf8) {
            cosigner = try Cosigner(encoded: text)
            if let name, name != cosigner.key.name {
                throw WitnessError.storage(
                    "this witness is \(cosigner.key.name) (its key in \(keyURL.path)); --name \(name) does not match")
            }
        } else {
            cosigner = try Cosigner(name: name ?? "residency-witness", privateKey: try Ed25519PrivateKey.generate())
            try PrivateKeyFile.create(keyURL, contents: cosigner.encoded + "\n")
        }
        let logsURL = directory.appendingPathComponent(logsFileName)
        var logs: [NoteVerifier] = []
        if let text = try? String(contentsOf: logsURL, encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.isEmpty {
                logs.append(try NoteVerifier(encoded: String(line)))
            }
        }
        var changed = false
        for log in adding where !logs.contains(log) {
            if let existing = logs.first(where: { $0.name == log.name }) {
                throw WitnessError.storage(
                    "this witness already follows \(log.name) with another key (\(existing.encoded)); a log's key is not replaced by a command-line flag"
                )
            }
            logs.append(log)
            changed = true
        }
        if changed {
            try Data(logs.map { $0.encoded + "\n" }.joined().utf8).write(to: logsURL, options: .atomic)
        }
        return try Witness(cosigner: cosigner, logs: logs, directory: directory)
    }

    package func addCheckpoint(_ body: [UInt8]) -> Answer {
        func refuse(_ status: Int, _ message: String) -> Answer {
            Answer(status: status, contentType: "text/plain; charset=utf-8", body: message + "\n")
        }
        guard let text = String(validating: body, as: UTF8.self) else {
            return refuse(400, "the body is not UTF-8")
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)[...]
        guard let first = lines.popFirst(), first.hasPrefix("old "), let old = Int(first.dropFirst(4)), old >= 0,
            String(old) == first.dropFirst(4)
        else {
            return refuse(400, "the first line must be \"old <size>\" (decimal, no leading zeros)")
        }
        var proof: [SHA256Digest] = []
        while let line = lines.first, !line.isEmpty {
            lines.removeFirst()
            guard proof.count < 63 else { return refuse(400, "more than 63 consistency proof lines") }
            guard let data = Data(base64Encoded: String(line)), let hash = SHA256Digest(bytes: Array(data)) else {
                return refuse(400, "a consistency proof line is not a base64 SHA-256 hash")
            }
            proof.append(hash)
        }
        guard lines.popFirst() != nil else { return refuse(400, "no blank line before the checkpoint") }
        let noteText = lines.joined(separator: "\n")
        let note: SignedNote
        let checkpoint: Checkpoint
        do {
            note = try SignedNote(parsing: noteText)
            checkpoint = try Checkpoint(body: note.text)
        } catch {
            return refuse(400, "not a signed checkpoint: \(error)")
        }
        guard let log = logs[checkpoint.origin] else {
            return refuse(404, "this witness does not follow the log \(checkpoint.origin)")
        }
        guard log.verifies(note) else {
            return refuse(403, "no signature by the key of \(checkpoint.origin) that this witness trusts")
        }
        guard old <= checkpoint.size else {
            return refuse(400, "old size \(old) is larger than the checkpoint's size \(checkpoint.size)")
        }
        if old == 0 && !proof.isEmpty { return refuse(400, "the proof must be empty when the old size is 0") }
        return lock.withLock { _ -> Answer in
            let recorded: WitnessState.Head?
            do {
                recorded = try state.head(of: checkpoint.origin)
            } catch {
                return refuse(500, "\(error)")
            }
            let recordedSize = recorded?.size ?? 0
            guard old == recordedSize else {
                return Answer(status: 409, contentType: "text/x.tlog.size", body: "\(recordedSize)\n")
            }
            if let recorded, old == checkpoint.size {
                guard recorded.root == checkpoint.root else {
                    return refuse(
                        409, "a different root for size \(old) than the one cosigned before: the log has forked")
                }
            } else if let recorded, old > 0 {
                guard
                    MerkleProofVerifier.verifyConsistency(
                        firstSize: old, secondSize: checkpoint.size, firstRoot: recorded.root,
                        secondRoot: checkpoint.root, proof: proof)
                else {
                    return refuse(
                        422, "the consistency proof from size \(old) to \(checkpoint.size) does not verify")
                }
            }
            do {
                try state.save(.init(size: checkpoint.size, root: checkpoint.root), of: checkpoint.origin)
                let timestamp = UInt64(max(0, clock.now() / 1000))
                let line = try cosigner.cosign(checkpointText: note.text, timestamp: timestamp)
                return Answer(status: 200, contentType: "text/plain; charset=utf-8", body: line + "\n")
            } catch {
                return refuse(500, "cannot record the checkpoint: \(error)")
            }
        }
    }
}
