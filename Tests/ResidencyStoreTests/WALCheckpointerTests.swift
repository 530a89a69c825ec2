import Foundation
import Synchronization
import Testing

@testable import ResidencyStore

/// The writer's WAL checkpoints run on a background connection, not inside COMMIT (`WALCheckpointer`): they must
/// still happen, keep the WAL bounded, and report every failure.
@Suite struct WALCheckpointerTests {
    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-wal-\(UUID())")
    }

    /// One commit of `rows` rows of 4,000 random bytes: about one page each.
    static func fill(_ database: Database, rows: Int) throws {
        try database.execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(rows))
            INSERT INTO filler SELECT randomblob(4000) FROM n
            """)
    }

    @Test func thePoolsWriterLeavesCheckpointsToTheBackgroundAndTheWALStaysBounded() throws {
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let pool = try DatabasePool(directory: DataDirectory(directory))
        let checkpointer = try #require(pool.walCheckpointer)
        // sqlite3_wal_hook replaced SQLite's own checkpoint after commits.
        #expect(try pool.write { try $0.scalarInteger("PRAGMA wal_autocheckpoint") } == 0)
        try pool.write { try $0.execute("CREATE TABLE filler (x BLOB)") }
        let commits = 400
        for _ in 0..<commits { try pool.write { try Self.fill($0, rows: 25) } }
        checkpointer.waitForBackground()
        let status = checkpointer.status
        #expect(status.failures == 0, "\(status.latestFailure ?? "")")
        #expect(status.completed > status.inline, "background checkpoints ran")
        // ~10,000 pages were written: without the inline bound the WAL would hold them all.
        #expect(status.inline >= 1)
        let pageSize = try #require(try pool.write { try $0.scalarInteger("PRAGMA page_size") })
        let walBytes = try #require(
            try FileManager.default.attributesOfItem(atPath: pool.path + "-wal")[.size] as? Int)
        let bound = (Int(WALCheckpointer.restartPages) + 2 * 30) * (Int(pageSize) + 24) + 32
        #expect(walBytes <= bound, "WAL of \(walBytes) bytes, bound \(bound)")
        #expect(try pool.write { try $0.scalarInteger("SELECT count(*) FROM filler") } == Int64(commits * 25))
    }

    @Test func aCheckpointThatFailsIsCountedAndReportedAndTheCommitsStand() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try Database(path: directory.appendingPathComponent("store.sqlite3").path)
        let checkpointer = WALCheckpointer(open: {
            throw DatabaseError(code: 14 /* SQLITE_CANTOPEN */, message: "unable to open database file")
        })
        let reported = Mutex<[String]>([])
        checkpointer.reportFailures { error in reported.withLock { $0.append(error.description) } }
        writer.handCheckpoints(to: checkpointer)
        try writer.execute("CREATE TABLE filler (x BLOB)")
        for _ in 0..<60 { try writer.write { try Self.fill(writer, rows: 25) } }
        checkpointer.waitForBackground()
        let status = checkpointer.status
        #expect(status.failures >= 1)
        #expect(status.completed == 0)
        #expect(reported.withLock { $0.count } == status.failures)
        #expect(status.latestFailure?.contains("unable to open database file") == true)
        // The failures came after commits that had succeeded: every row is there.
        #expect(try writer.scalarInteger("SELECT count(*) FROM filler") == 60 * 25)
    }

    @Test func pastTheBoundTheWriterCheckpointsInlineEvenWhenTheBackgroundFails() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite3").path
        let writer = try Database(path: path)
        let checkpointer = WALCheckpointer(open: {
            throw DatabaseError(code: 10 /* SQLITE_IOERR */, message: "no background")
        })
        writer.handCheckpoints(to: checkpointer)
        try writer.execute("CREATE TABLE filler (x BLOB)")
        for _ in 0..<400 { try writer.write { try Self.fill(writer, rows: 25) } }
        checkpointer.waitForBackground()
        #expect(checkpointer.status.inline >= 1)
        #expect(checkpointer.status.completed == checkpointer.status.inline)
        let walBytes = try #require(try FileManager.default.attributesOfItem(atPath: path + "-wal")[.size] as? Int)
        #expect(walBytes <= (Int(WALCheckpointer.restartPages) + 60) * (4096 + 24) + 32)
    }

    /// A reader holding an old snapshot keeps the WAL from starting over: the writer must not then checkpoint
    /// inline at every commit past the bound (each a pass over the WAL on the commit path), only every
    /// `backgroundPages` further — and the tries that could not copy everything are counted for `/readyz`.
    @Test func aReaderHoldingTheWALMakesInlineTriesRareAndCounted() throws {
        let directory = Self.scratch()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("store.sqlite3").path
        let writer = try Database(path: path)
        let checkpointer = WALCheckpointer(open: { try Database(path: path) })
        writer.handCheckpoints(to: checkpointer)
        try writer.execute("CREATE TABLE filler (x BLOB)")
        try Self.fill(writer, rows: 1)
        let reader = try Database(path: path)
        try reader.execute("BEGIN")
        #expect(try reader.scalarInteger("SELECT count(*) FROM filler") == 1)
        // ~12,000 pages in commits of 25: about 160 commits land past the bound while the reader holds the WAL.
        for _ in 0..<480 { try writer.write { try Self.fill(writer, rows: 25) } }
        checkpointer.waitForBackground()
        let held = checkpointer.status
        #expect(held.failures == 0, "\(held.latestFailure ?? "")")
        #expect(held.inline >= 1)
        #expect(held.inline <= 6, "inline checkpoints while the reader held the WAL: \(held.inline)")
        #expect(held.inlineIncomplete >= 1)
        #expect(held.inlineIncomplete <= held.inline)
        // Once the reader ends, the next inline checkpoint copies everything and the WAL starts over.
        try reader.execute("COMMIT")
        for _ in 0..<60 { try writer.write { try Self.fill(writer, rows: 25) } }
        checkpointer.waitForBackground()
        #expect(try reader.scalarInteger("SELECT count(*) FROM filler") == 1 + 540 * 25)
        #expect(checkpointer.status.inline > held.inline)
        #expect(checkpointer.status.inlineIncomplete == held.inlineIncomplete)
    }
}
