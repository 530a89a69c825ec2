import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization

/// The tamper-evident ledger: appends in the caller's transaction, signs checkpoints, serves proofs and
/// verifies the whole log.
package final class Ledger: Sendable {
    package let signer: NoteSigner
    package let pool: DatabasePool
    package let clock: Clock
    /// A checkpoint is signed once this many entries have been added since the last one.
    package let checkpointEvery: Int

    /// The size of the latest checkpoint this process has seen signed, -1 before it has looked: a lower bound
    /// (another process may have signed a larger one since), so that most commits can tell that no checkpoint is
    /// due without reading the database.
    private let knownSignedSize = Atomic<Int>(-1)
    /// Whether a thread of this process is signing after a commit now (see `signCheckpointAfterCommit`).
    private let isSigningAfterCommit = Atomic<Bool>(false)

    package static let keyFileName = "ledger.key"
    package static let defaultOrigin = "residency.local/ledger"

    package init(signer: NoteSigner, pool: DatabasePool, clock: Clock, checkpointEvery: Int = 100) {
        self.signer = signer
        self.pool = pool
        self.clock = clock
        self.checkpointEvery = checkpointEvery
    }

    package var origin: String { signer.name }

    /// Reads the signing key from the data directory, creating it (mode 0600) on first start.
    package static func loadOrCreateKey(in directory: URL, origin: String = defaultOrigin) throws -> NoteSigner {
        let url = directory.appendingPathComponent(keyFileName)
        if let text = try? String(contentsOf: url, encoding: .utf8) {
            return try NoteSigner(encoded: text)
        }
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let signer = try NoteSigner(name: origin, privateKey: try Ed25519PrivateKey.generate())
        // Created exclusively with 0600, so a second process racing us cannot leave two different keys.
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            if errno == EEXIST, let text = try? String(contentsOf: url, encoding: .utf8) {
                return try NoteSigner(encoded: text)
            }
            throw ControllerError.storage("cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        let bytes = Array((signer.encoded + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        fsync(descriptor)
        close(descriptor)
        guard written == bytes.count else { throw ControllerError.storage("cannot write \(url.path)") }
        return signer
    }

    /// Appends one entry inside the caller's write transaction; the state change and its record commit or
    /// roll back together.
    @discardableResult
    package static func append(
        in database: Database, time: Int64, kind: LedgerKind, actor: String, tenant: String? = nil,
        region: String? = nil,
        body: JSONValue
    ) throws -> Int {
        precondition(
            database.isInTransaction, "ledger entries are written in the transaction of the change they record")
        let repository = LedgerRepository(database)
        let index = try repository.size()
        let entry = LedgerEntry(
            index: index, time: time, kind: kind.rawValue, actor: actor, tenant: tenant, region: region, body: body)
        try repository.append(try entry.canonicalBytes(), kind: kind.rawValue, at: index)
        return index
    }

    /// After a commit that left the log at `logSize` entries: signs a checkpoint if one is due (`signCheckpoint`).
    ///
    /// Two shortcuts keep this off the commit path's cost, where 64 concurrent signups spent a quarter of their
    /// time on it: a log that has not grown by `checkpointEvery` since the last checkpoint this process knows of
    /// is not due, without a read; and while another thread of this process is signing, this one does not queue a
    /// second signing write behind it — that signing covers the log it reads, and any entries after it are signed
    /// by a later commit or by the server's publication loop, which signs any unsigned tail within moments.
    package func signCheckpointAfterCommit(logSize: Int) throws {
        let known = knownSignedSize.load(ordering: .relaxed)
        if known >= 0 && logSize - known < checkpointEvery { return }
        guard isSigningAfterCommit.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return }
        defer { isSigningAfterCommit.store(false, ordering: .releasing) }
        try signCheckpoint()
    }

    /// Records that a checkpoint of `size` entries is known to be signed.
    private func noteSigned(size: Int) {
        var known = knownSignedSize.load(ordering: .relaxed)
        while known < size {
            let (exchanged, current) = knownSignedSize.compareExchange(
                expected: known, desired: size, ordering: .relaxed)
            if exchanged { return }
            known = current
        }
    }

    /// Signs a checkpoint of the current log if it grew since the last one (or none exists), after checking
    /// that the new tree extends the last signed one — so two inconsistent checkpoints are never signed.
    @discardableResult
    package func signCheckpoint(force: Bool = false) throws -> LedgerRepository.StoredCheckpoint? {
        // Most calls come after an ordinary write and find nothing due: decide that on a read snapshot rather
        // than taking the write lock every time.
        if !force {
            let due = try pool.read { database -> Bool in
                let repository = LedgerRepository(database)
                let size = try repository.size()
                guard let last = try repository.latestCheckpoint() else { return size > 0 }
                noteSigned(size: last.size)
                return size - last.size >= checkpointEvery
            }
            if !due { return nil }
        }
        let signed = try pool.write { database -> LedgerRepository.StoredCheckpoint? in
            let repository = LedgerRepository(database)
            let size = try repository.size()
            let last = try repository.latestCheckpoint()
            if let last, last.size >= size || (!force && size - last.size < checkpointEvery) { return nil }
            if last == nil && size == 0 && !force { return nil }
            let root = try repository.root(size: size)
            if let last, last.size > 0 {
                let proof = try repository.consistencyProof(from: last.size, to: size)
                guard let lastRoot = SHA256Digest(bytes: last.root),
                    MerkleProofVerifier.verifyConsistency(
                        firstSize: last.size, secondSize: size, firstRoot: lastRoot, secondRoot: root, proof: proof)
                else {
                    throw ControllerError.storage(
                        "refusing to sign: the log at size \(size) does not extend the checkpoint at size \(last.size)")
                }
            }
            let note = try signer.sign(Checkpoint(origin: origin, size: size, root: root).body)
            let now = clock.now()
            try repository.insertCheckpoint(size: size, root: root, note: note, at: now)
            // The stretch this checkpoint seals is final: its report figures are added up now, in the same
            // transaction (a bounded stretch each time; a store still catching up does the rest on later ones).
            try CrossBorderSummary.fold(in: database, below: size, limit: CrossBorderSummary.stretchPerCheckpoint)
            return LedgerRepository.StoredCheckpoint(size: size, root: root.bytes, note: note, createdAt: now)
        }
        // Noted once committed: a signing rolled back must not make later commits think it done.
        if let signed { noteSigned(size: signed.size) }
        return signed
    }

    /// The latest signed checkpoint, signing one first when the log has grown since.
    package func currentCheckpoint() throws -> LedgerRepository.StoredCheckpoint {
        _ = try signCheckpoint(force: true)
        guard let latest = try pool.read({ try LedgerRepository($0).latestCheckpoint() }) else {
            throw ControllerError.notFound(kind: "checkpoint", id: "latest")
        }
        return latest
    }
}
