import CSQLite
import CSQLiteVFS
import Foundation
import Testing

@testable import ResidencyStore

/// The batched-WAL VFS (`BatchedWAL.c`) holds a WAL's writes in memory until something depends on them: every read
/// must see the bytes written before it, every commit must be on disk and visible to other connections when it
/// returns, and a connection may not turn the fsync that writes them off.
@Suite struct BatchedWALTests {
    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-batched-wal-\(UUID().uuidString)")
    }

    /// Content that differs row by row and version by version, so that a page read back stale shows.
    static func body(_ id: Int, version: Int) -> String {
        String(repeating: "\(id):\(version);", count: 40)
    }

    static func statistics(_ database: Database) throws -> residency_batched_wal_counts {
        var counts = residency_batched_wal_counts()
        let code = residency_batched_wal_statistics(database.connection, &counts)
        try #require(code == SQLITE_OK, "no batched WAL open on the connection (code \(code))")
        return counts
    }

    /// A transaction larger than the page cache spills pages to the WAL before it commits and reads them back from
    /// it; pages changed again after they spilled are written over in place and their checksums read back at the
    /// commit. A read served from the file while the newer bytes were still buffered would return an older page
    /// (or zeros): the rows or the integrity check would differ.
    @Test func aTransactionLargerThanTheCacheReadsBackWhatItSpilledAndOverwrote() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("spill.sqlite").path
        let database = try Database(path: path)
        try database.execute("PRAGMA cache_size = 10")
        try database.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        let before = try Self.statistics(database)
        let count = 2_000
        try database.write {
            let insert = try database.statement("INSERT INTO rows (id, body) VALUES (?, ?)")
            for id in 0..<count { try insert.run([.integer(Int64(id)), .text(Self.body(id, version: 0))]) }
            // Pages that spilled already are changed again, in the same transaction.
            let update = try database.statement("UPDATE rows SET body = ? WHERE id = ?")
            for id in stride(from: 0, to: count, by: 3) {
                try update.run([.text(Self.body(id, version: 1)), .integer(Int64(id))])
            }
            // Read back inside the transaction: most of these pages are only in the WAL (and the VFS's buffer).
            let rows = try database.statement("SELECT id, body FROM rows ORDER BY id").rows { row in
                (Int(row.integer(0)), row.text(1))
            }
            #expect(rows.count == count)
            for (id, body) in rows {
                #expect(body == Self.body(id, version: id % 3 == 0 ? 1 : 0), "row \(id) inside the write")
            }
        }
        let after = try Self.statistics(database)
        #expect(after.walWrites - before.walWrites > 2 * 100, "the pages went through the VFS")

        // One commit of a few hundred pages that all fit in the cache: two writes a frame from SQLite, a handful
        // passed on (a piece per 124 KiB).
        try database.execute("PRAGMA cache_size = -8000")
        try database.write {
            let update = try database.statement("UPDATE rows SET body = ? WHERE id = ?")
            for id in stride(from: 1, to: count, by: 3) {
                try update.run([.text(Self.body(id, version: 2)), .integer(Int64(id))])
            }
        }
        let final = try Self.statistics(database)
        let frames = (final.walWrites - after.walWrites) / 2
        #expect(frames > 100)
        #expect(final.walFlushes - after.walFlushes <= 3 + frames * 4_120 / 126_976, "\(final) after \(after)")
        #expect(final.publishedUnwritten == 0, "\(final)")

        // Another connection (its own WAL file descriptor) sees the commit, every row as written.
        let reader = try Database(path: path, create: false)
        let rows = try reader.read {
            try reader.statement("SELECT id, body FROM rows ORDER BY id").rows { row in (Int(row.integer(0)), row.text(1)) }
        }
        #expect(rows.count == count)
        for (id, body) in rows {
            #expect(body == Self.body(id, version: id % 3 == 0 ? 1 : id % 3 == 1 ? 2 : 0), "row \(id) from another connection")
        }
        #expect(try reader.scalarText("PRAGMA integrity_check") == "ok")
    }

    /// Each commit is visible to another connection the moment it returns: the VFS wrote its frames before the
    /// commit was published. Small commits, a reader looking after each one.
    @Test func everyCommitIsVisibleToAnotherConnectionWhenItReturns() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("visible.sqlite").path
        let writer = try Database(path: path)
        try writer.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")
        let reader = try Database(path: path, create: false)
        for id in 0..<200 {
            try writer.write {
                try writer.statement("INSERT INTO rows (id, body) VALUES (?, ?)").run([
                    .integer(Int64(id)), .text(Self.body(id, version: 0)),
                ])
            }
            let latest = try reader.read {
                try reader.statement("SELECT body FROM rows WHERE id = ?").first([.integer(Int64(id))]) { $0.text(0) }
            }
            #expect(latest == Self.body(id, version: 0), "commit \(id)")
        }
        let counts = try Self.statistics(writer)
        #expect(counts.walFlushes > 0 && counts.walFlushes * 2 <= counts.walWrites)
        // No commit reached the wal-index with its frames still in memory.
        #expect(counts.publishedUnwritten == 0, "\(counts)")
    }

    /// Below FULL a commit would be published without an fsync, through a call that cannot report a failed write:
    /// the VFS refuses it. FULL and EXTRA are fine.
    @Test func synchronousBelowFullIsRefused() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let database = try Database(path: directory.appendingPathComponent("sync.sqlite").path)
        // SQLite reads every word it does not know as NORMAL and wraps numbers (7 is OFF): only FULL and EXTRA
        // in their four spellings pass.
        let levels = [
            "NORMAL", "OFF", "0", "1", "normal", "on", "ON", "yes", "true", "TRUE", "No", "NO", "FALSE", "01", "00",
            "7", "8", "9", "15", "-1", "bogus", "'full '",
        ]
        for level in levels {
            do {
                try database.execute("PRAGMA synchronous = \(level)")
                Issue.record("synchronous = \(level) was accepted")
            } catch {
                #expect(error.message.contains("is refused"), "\(level): \(error)")
            }
            #expect(try database.scalarInteger("PRAGMA synchronous") == 2)
        }
        try database.execute("PRAGMA synchronous = EXTRA")
        #expect(try database.scalarInteger("PRAGMA synchronous") == 3)
        try database.execute("PRAGMA synchronous = FULL")
        #expect(try database.scalarInteger("PRAGMA synchronous") == 2)
    }
}
