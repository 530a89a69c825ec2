import Foundation
import ResidencyStore

/// A migration's snapshot being copied at the source while its transfer may already run: the tenant's
/// database file is pinned (held still, `PinnedDatabaseFile`) and copied to the snapshot file on a background
/// thread; a stream reads the pinned file until the copy is published, then the copy — the same bytes. Whoever
/// needs the copy whole (the hash, the removal of the migration's files) waits for it.
final class SnapshotCopy: Sendable {
    let file: PinnedDatabaseFile
    private let done = DispatchGroup()

    init(file: PinnedDatabaseFile) {
        self.file = file
        done.enter()
    }

    /// The copy is published (or failed) and the pin released.
    func finished() { done.leave() }

    func waitUntilFinished() { done.wait() }
}

extension RegionNode {
    /// Waits for a snapshot copy of migration `id` in progress in this process, if there is one.
    func waitForSnapshotCopy(_ id: String) {
        snapshotCopies.withLock { $0[id] }?.waitUntilFinished()
    }

    /// Pins the tenant's file and starts copying it to `path`; nil when the file could not be pinned.
    func startSnapshotCopy(_ id: String, of source: String, to path: String) throws -> PinnedDatabaseFile? {
        // A snapshot file of an earlier take (from before a restart, which is why it is taken again) goes first:
        // else, were this copy to fail, a stream switching off the pin or the hash step would read the old bytes
        // under the new snapshot's description. With no file, they fail and the next step takes it again.
        DataPlane.removeFiles(at: path)
        guard let pinned = try PinnedDatabaseFile.pin(source) else { return nil }
        let copy = SnapshotCopy(file: pinned)
        snapshotCopies.withLock { $0[id] = copy }
        // A thread of its own (see `bothAtOnce`): queued on the global queue it could wait behind blocked work.
        Thread { [self] in
            do {
                try pinned.copy(to: path)
            } catch {
                // The snapshot file is then missing: a stream or hash of it fails, and the migration's next
                // copy step takes the snapshot again.
                failures.report("copying migration \(id)'s snapshot", error, at: clock.now())
            }
            // Published before the pin goes: a stream that finds the pin released finds the file.
            snapshotCopies.withLock { _ = $0.removeValue(forKey: id) }
            pinned.release()
            copy.finished()
        }.start()
        return pinned
    }
}
