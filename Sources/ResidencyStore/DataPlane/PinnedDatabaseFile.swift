import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// A tenant's database file held still, byte for byte, until `release`: the file *is* a consistent snapshot
/// of the tenant meanwhile, so it can be read (streamed to a peer, copied) without first being copied whole.
///
/// How: after a checkpoint that leaves the WAL empty, a read transaction that finds the WAL still empty reads
/// the file alone (SQLite's WAL read-mark 0), and while it is open no checkpoint may write into the file (a
/// checkpointer must hold that mark exclusively) — writers go on, appending to the WAL, which cannot be folded
/// back or restarted until the release. "Empty after the view was fixed" means "empty when it was fixed": a WAL
/// with frames in anyone's view cannot be truncated while that view is open. A busy tenant whose WAL does not
/// empty in a few tries gets no pin (`pin` answers nil); the caller copies it another way.
///
/// Reads (`read(at:count:)`) and the release take one lock, so no read can straddle the release.
package final class PinnedDatabaseFile: @unchecked Sendable {
    package let path: String
    /// The change counter the file stands at, and its size.
    package let sequence: Int64
    package let bytes: Int64
    // Guarded by `lock`.
    private let lock = NSLock()
    private var connection: TenantDatabase?
    private let descriptor: Int32

    /// How many times `pin` tries to find the WAL empty.
    static let attempts = 3

    package static func pin(_ path: String) throws -> PinnedDatabaseFile? {
        let origin = try TenantDatabase(path: path)
        // A checkpoint that cannot empty the WAL waits for the readers in its way this long, not the usual 5 s.
        try origin.database.execute("PRAGMA busy_timeout = 200")
        for _ in 0..<attempts {
            // TRUNCATE: every frame folded into the file and the WAL emptied, or busy (a reader or writer in the
            // way: try again).
            guard try origin.database.scalarInteger("PRAGMA wal_checkpoint(TRUNCATE)") == 0 else { continue }
            // By hand, not `Database.read`: the transaction outlives this call (until `release`).
            try origin.database.execute("BEGIN DEFERRED")
            do {
                let sequence = try origin.sequence()  // starts the read transaction: its view is fixed here
                if TenantDataCopy.isEmptyOrMissing(path + "-wal") {
                    return try PinnedDatabaseFile(path: path, connection: origin, sequence: sequence)
                }
                try origin.database.execute("COMMIT")
            } catch {
                try? origin.database.execute("ROLLBACK")
                throw error
            }
        }
        return nil
    }

    private init(path: String, connection: TenantDatabase, sequence: Int64) throws {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        var status = stat()
        guard descriptor >= 0, fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            if descriptor >= 0 { close(descriptor) }
            try? connection.database.execute("ROLLBACK")
            throw TenantDataError.io("cannot open \(path) to read it pinned: \(reason)")
        }
        self.path = path
        self.connection = connection
        self.sequence = sequence
        self.descriptor = descriptor
        bytes = Int64(status.st_size)
    }

    deinit {
        release()
        close(descriptor)
    }

    /// Whether the file is still held.
    package var isPinned: Bool {
        lock.lock()
        defer { lock.unlock() }
        return connection != nil
    }

    /// Up to `count` bytes from `offset` while the file is held; nil once it was released.
    package func read(at offset: Int64, count: Int) throws -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        guard connection != nil else { return nil }
        return try ReadOnlyFile.read(descriptor, at: offset, count: count, path: path)
    }

    /// Copies the held file whole to `target` (in the kernel), published by rename; not synced to disk (see
    /// `TenantDataCopy.snapshot`).
    package func copy(to target: String) throws {
        try FileManager.default.createDirectory(
            atPath: (target as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let partial = target + ".partial"
        DataPlane.removeDatabaseFiles(at: partial)
        guard isPinned else { throw TenantDataError.io("\(path) was released before it was copied") }
        let copied: Int64
        do {
            copied = try TenantDataCopy.copyFile(path, to: partial)
        } catch {
            // A copy cut short (a full disk, an I/O error) would leave a file as large as the tenant behind.
            DataPlane.removeDatabaseFiles(at: partial)
            throw error
        }
        guard copied == bytes else {
            DataPlane.removeDatabaseFiles(at: partial)
            throw TenantDataError.io("\(path) copied \(copied) bytes of the \(bytes) pinned")
        }
        try DataPlane.publish(partial, as: target, durable: false)
    }

    /// Lets the file change again (idempotent).
    package func release() {
        lock.lock()
        defer { lock.unlock() }
        guard let held = connection else { return }
        try? held.database.execute("COMMIT")
        connection = nil
    }
}
