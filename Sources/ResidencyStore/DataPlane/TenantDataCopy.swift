import CSQLite
import Dispatch
import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// Copies one tenant's database between regions with SQLite's online backup API, while the tenant keeps
/// working, then brings the copy up to date after a freeze. The three halves of a local migration's data work.
package enum TenantDataCopy {
    /// What the bulk copy established: the source's change counter at its snapshot and the content both sides
    /// were verified to hold at that snapshot.
    package struct Snapshot: Sendable, Hashable {
        package let sequence: Int64
        package let content: TenantContentDigest
        package let bytes: Int64
    }

    /// Copies a consistent snapshot of `source` to `target` and verifies it.
    ///
    /// The backup runs inside a read transaction on the source, so the counter read first and the pages
    /// copied belong to the same snapshot while writers carry on in the WAL. The copy is written under a
    /// `.partial` name and published (fsync, rename, fsync the directory) only when complete, then both
    /// sides are hashed at that same snapshot — source and target on two threads at once.
    package static func bulkCopy(from source: String, to target: String) throws -> Snapshot {
        let directory = (target as NSString).deletingLastPathComponent
        try FileManager.default.createDirectory(
            atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        DataPlane.removeDatabaseFiles(at: target)
        let partial = target + ".partial"
        DataPlane.removeDatabaseFiles(at: partial)
        let origin = try TenantDatabase(path: source)
        return try origin.database.read {
            let sequence = try origin.sequence()
            // The copy is published frozen: nothing may write it until the cutover thaws it. A request that read
            // the directory long ago (when the tenant last lived in this region) must find it frozen, not commit
            // a write that the verification would then call a difference and the rollback remove.
            try backup(origin.database, to: partial, frozen: true)
            try DataPlane.publish(partial, as: target)
            let copy = try TenantDatabase(path: target)
            let (sourceContent, targetContent) = try inParallel(
                { try origin.contentDigest() }, { try copy.contentDigest() })
            guard sourceContent == targetContent else {
                throw TenantDataError.mismatch(
                    "bulk copy: source \(sourceContent.digest) \(sourceContent.rows), target \(targetContent.digest) \(targetContent.rows)"
                )
            }
            let size = (try? FileManager.default.attributesOfItem(atPath: target)[.size] as? Int64) ?? 0
            return Snapshot(sequence: sequence, content: sourceContent, bytes: size)
        }
    }

    /// Copies every row changed on `source` after `sequence` to `target` (inserted, updated or deleted), in
    /// one transaction over both; re-running it is harmless. Returns the number of rows re-copied.
    package static func syncChanges(from source: String, to target: String, since sequence: Int64) throws -> Int {
        let origin = try TenantDatabase(path: source)
        guard FileManager.default.fileExists(atPath: target) else { throw TenantDataError.missing(path: target) }
        let database = origin.database
        try database.statement("ATTACH DATABASE ? AS target").run([.text(target)])
        defer { try? database.execute("DETACH DATABASE target") }
        try database.execute("PRAGMA target.synchronous = FULL")
        return try database.write {
            var copied = 0
            for collection in TenantCollection.allCases {
                let table = collection.rawValue
                let changed = "SELECT row FROM main.residency_changes WHERE tbl = '\(table)' AND seq > ?"
                try database.statement("DELETE FROM target.\(table) WHERE id IN (\(changed))").run([.integer(sequence)])
                try database.statement(
                    "INSERT INTO target.\(table) SELECT * FROM main.\(table) WHERE id IN (\(changed))"
                )
                .run([.integer(sequence)])
                copied += try Int(
                    database.scalarInteger(
                        "SELECT count(*) FROM main.residency_changes WHERE tbl = '\(table)' AND seq > ?",
                        [.integer(sequence)]) ?? 0)
            }
            return copied
        }
    }

    /// Compares the two sides' row counts and content hashes, hashing both at once on two threads.
    package static func verify(source: String, target: String) throws -> TenantContentDigest {
        let origin = try TenantDatabase(path: source)
        let copy = try TenantDatabase(path: target)
        let (sourceContent, targetContent) = try inParallel(
            { try origin.contentDigest() }, { try copy.contentDigest() })
        guard sourceContent == targetContent else {
            throw TenantDataError.mismatch(
                "source \(sourceContent.digest) \(sourceContent.rows), target \(targetContent.digest) \(targetContent.rows)"
            )
        }
        return sourceContent
    }

    /// `frozen` sets the copy's `frozen` flag in the same file before it is closed (the flag is a control row,
    /// outside what the content digest compares).
    static func backup(_ source: Database, to path: String, frozen: Bool = false) throws {
        var handle: OpaquePointer?
        PrivateFiles.prepare(path)
        guard sqlite3_open_v2(path, &handle, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nil) == SQLITE_OK,
            let destination = handle
        else {
            let error = DatabaseError(connection: handle, code: SQLITE_CANTOPEN)
            sqlite3_close_v2(handle)
            throw error
        }
        defer { sqlite3_close_v2(destination) }
        // The partial file is published only after an fsync, so its own journal would only slow the copy.
        sqlite3_exec(destination, "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF", nil, nil, nil)
        guard let backup = sqlite3_backup_init(destination, "main", source.connection, "main") else {
            throw DatabaseError(connection: destination, code: sqlite3_errcode(destination))
        }
        let stepped = sqlite3_backup_step(backup, -1)
        let finished = sqlite3_backup_finish(backup)
        guard stepped == SQLITE_DONE, finished == SQLITE_OK else {
            throw DatabaseError(connection: destination, code: stepped == SQLITE_DONE ? finished : stepped)
        }
        if frozen {
            let code = sqlite3_exec(
                destination, "UPDATE residency_control SET value = 1 WHERE key = 'frozen'", nil, nil, nil)
            guard code == SQLITE_OK, sqlite3_changes(destination) == 1 else {
                throw DatabaseError(connection: destination, code: code == SQLITE_OK ? SQLITE_CORRUPT : code)
            }
        }
    }

    /// Runs two pieces of work at once, one on this thread and one on another, and returns both results.
    static func inParallel<A, B>(_ first: () throws -> A, _ second: () throws -> B) throws -> (A, B) {
        let box = ResultBox<A, B>()
        withoutActuallyEscaping(second) { second in
            let work = UncheckedBox(second)
            let group = DispatchGroup()
            DispatchQueue.global().async(group: group) { box.result = Result { try work.value() } }
            defer { group.wait() }
            box.first = Result { try first() }
        }
        return (try box.first!.get(), try box.result!.get())
    }
}

/// Results handed between the two threads of `inParallel`; the group's wait orders the accesses.
private final class ResultBox<A, B>: @unchecked Sendable {
    var first: Result<A, Error>?
    var result: Result<B, Error>?
}

private final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
