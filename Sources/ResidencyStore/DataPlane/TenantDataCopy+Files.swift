import CLinux
import CSQLite
import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// The file halves of a move between two processes: the source writes its snapshot and, after the freeze, its
/// changes since the snapshot as SQLite files that travel as bytes; the target publishes the one and applies
/// the other. Each file is written under a `.partial` name and published by rename, so a crash leaves either
/// nothing or a whole file.
extension TenantDataCopy {
    /// A snapshot as the source takes it: the change counter it stands at, its size, and whether it was taken as
    /// a copy of the database file (else by the online backup API).
    package struct FileSnapshot: Sendable {
        package let sequence: Int64
        package let bytes: Int64
        package let copiedAsFile: Bool
    }

    /// Writes a consistent snapshot of `source` to `path`; answers its counter and size. Hashing it is a separate
    /// step (`fileContent(ofSnapshot:sha256:)` over `FileDigest`) so it runs while the target pulls the file —
    /// measured, the transfer leaves a core idle (it waits on the target's disk), the snapshot does not.
    ///
    /// The fast way copies the database file itself: after a checkpoint that leaves the WAL empty, a read
    /// transaction that finds the WAL still empty reads the file alone (SQLite's read-mark 0), and while it is
    /// open no checkpoint may write into the file (a checkpointer must hold that mark exclusively) — so the file
    /// is the snapshot, byte for byte, and is copied in the kernel (`copy_file_range`: no trip through user
    /// memory, no page-by-page work as the backup API does). Writers are not held back meanwhile (they append
    /// to the WAL). When writes keep the WAL from emptying (a busy tenant), it falls back to the online backup
    /// API.
    ///
    /// Not synced to disk: a process killed keeps the page cache, and after a machine restart the caller takes
    /// the snapshot again (it records `DataPlane.bootID` beside it) — so the copy's critical path holds one
    /// fsync of the data (the target's), as a plain file transfer does.
    package static func snapshot(of source: String, to path: String) throws -> FileSnapshot {
        if let pinned = try PinnedDatabaseFile.pin(source) {
            defer { pinned.release() }
            try pinned.copy(to: path)
            return FileSnapshot(sequence: pinned.sequence, bytes: pinned.bytes, copiedAsFile: true)
        }
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true,
            attributes: [.posixPermissions: 0o700])
        let partial = path + ".partial"
        DataPlane.removeDatabaseFiles(at: partial)
        let origin = try TenantDatabase(path: source)
        // This connection only reads, once through every page: mapped, the pages go from the page cache to the
        // copy without a read call and a copy per page (SQLite caps the mapping at 2 GiB; past it, it reads).
        try origin.database.execute("PRAGMA mmap_size = 2147418112")
        let sequence = try origin.database.read {
            let sequence = try origin.sequence()
            try backup(origin.database, to: partial)
            return sequence
        }
        try DataPlane.publish(partial, as: path, durable: false)
        let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64) ?? 0
        return FileSnapshot(sequence: sequence, bytes: size, copiedAsFile: false)
    }

    static func isEmptyOrMissing(_ path: String) -> Bool {
        var status = stat()
        if stat(path, &status) == 0 { return status.st_size == 0 }
        return errno == ENOENT
    }

    /// Copies `source` whole to a new file at `path` (mode 0600) in the kernel; answers the bytes copied.
    static func copyFile(_ source: String, to path: String) throws -> Int64 {
        let input = open(source, O_RDONLY | O_CLOEXEC)
        guard input >= 0 else {
            throw TenantDataError.io("cannot open \(source): \(String(cString: strerror(errno)))")
        }
        defer { close(input) }
        let output = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard output >= 0 else {
            throw TenantDataError.io("cannot create \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(output) }
        var total: Int64 = 0
        while true {
            let count = residency_copy_file_range(input, output, 1 << 30)
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw TenantDataError.io("cannot copy \(source) to \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return total }
            total += Int64(count)
        }
    }

    /// The content hash of a snapshot file, read without changing a byte of it.
    package static func contentDigest(ofSnapshot path: String) throws -> TenantContentDigest {
        try TenantDatabase(snapshotAt: path).contentDigest()
    }

    /// What both services of a move report of the snapshot that travelled between them: its row counts (read
    /// from it as a database) and the SHA-256 of its bytes (`sha256`, computed by each side over the bytes it
    /// sent or received, during the transfer at the target). Equal bytes hold equal rows, so this shows the copy
    /// whole without a second pass over a large tenant's rows on either side.
    package static func fileContent(ofSnapshot path: String, sha256: String) throws -> TenantContentDigest {
        TenantContentDigest(rows: try TenantDatabase(snapshotAt: path).rowCounts(), digest: sha256)
    }

    /// Writes every row of `source` changed after `sequence` to a new SQLite file at `path`: a `changes` table
    /// (collection, row id) naming inserts, updates and deletes alike, and one table per collection with the
    /// changed rows as they are now. Returns the number of changed rows.
    package static func exportChanges(of source: String, since sequence: Int64, to path: String) throws -> Int {
        let partial = path + ".partial"
        DataPlane.removeDatabaseFiles(at: partial)
        PrivateFiles.prepare(partial)
        let origin = try TenantDatabase(path: source)
        let database = origin.database
        try database.statement("ATTACH DATABASE ? AS delta").run([.text(partial)])
        var detached = false
        defer { if !detached { try? database.execute("DETACH DATABASE delta") } }
        let changed = try database.write {
            try database.statement(
                "CREATE TABLE delta.changes AS SELECT tbl, row FROM main.residency_changes WHERE seq > ?"
            ).run([.integer(sequence)])
            for collection in TenantCollection.allCases {
                let table = collection.rawValue
                try database.statement(
                    """
                    CREATE TABLE delta.\(table) AS SELECT * FROM main.\(table)
                    WHERE id IN (SELECT row FROM main.residency_changes WHERE tbl = '\(table)' AND seq > ?)
                    """
                ).run([.integer(sequence)])
            }
            return Int(try database.scalarInteger("SELECT count(*) FROM delta.changes") ?? 0)
        }
        try database.execute("DETACH DATABASE delta")
        detached = true
        try DataPlane.publish(partial, as: path)
        return changed
    }

    /// Applies a changes file made by `exportChanges` to `target`, in one transaction: each named row is
    /// deleted, then inserted again if the source still has it. Running it twice changes nothing more.
    package static func applyChanges(from path: String, to target: String) throws -> Int {
        let copy = try TenantDatabase(path: target)
        let database = copy.database
        try database.statement("ATTACH DATABASE ? AS delta").run([.text(path)])
        defer { try? database.execute("DETACH DATABASE delta") }
        return try database.write {
            for collection in TenantCollection.allCases {
                let table = collection.rawValue
                try database.execute(
                    "DELETE FROM main.\(table) WHERE id IN (SELECT row FROM delta.changes WHERE tbl = '\(table)')")
                try database.execute("INSERT INTO main.\(table) SELECT * FROM delta.\(table)")
            }
            return Int(try database.scalarInteger("SELECT count(*) FROM delta.changes") ?? 0)
        }
    }

    /// Publishes a received snapshot as the tenant's database at `path`, thawed (it was taken before the source's
    /// freeze, but a copy must never start frozen at its new home), after checking it is a tenant database of
    /// `tenant`.
    package static func publishReceived(_ partial: String, as path: String, tenant: String) throws {
        // Closed (its WAL folded back into the file) before the file is published.
        func thaw() throws {
            let received = try TenantDatabase(path: partial)
            guard try received.tenantID() == tenant else {
                throw TenantDataError.mismatch("the received snapshot is not tenant \(tenant)'s data")
            }
            try received.setFrozen(false)
        }
        try thaw()
        try DataPlane.publish(partial, as: path)
    }
}
