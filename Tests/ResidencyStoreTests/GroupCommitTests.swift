import Foundation
import Synchronization
import Testing

@testable import ResidencyStore

/// Writes committed in groups (`Database.writeGroup`, `DatabasePool.write`): one transaction for the group, a
/// failing body rolled back alone, in-memory state undone with it.
@Suite struct GroupCommitTests {
    struct Refused: Error, Equatable { let number: Int }

    static func scratch() throws -> (directory: URL, pool: DatabasePool) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-group-\(UUID())")
        let pool = try DatabasePool(directory: DataDirectory(directory))
        try pool.write { try $0.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)") }
        return (directory, pool)
    }

    static func numbers(_ database: Database) throws -> [Int] {
        try database.statement("SELECT n FROM numbers ORDER BY n").rows([]) { Int($0.integer(0)) }
    }

    /// A body that throws in the middle of a group after writing is absent and gets its own error; the bodies
    /// before and after it commit (those before run again, see `Database.writeGroup`), and the in-memory state
    /// the bodies keep with `onRollback` ends as the database does.
    @Test func aFailingBodyIsRolledBackAloneAndTheOthersCommit() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        var applied: Set<Int> = []
        let bodies: [() throws -> Void] = (1...5).map { number in
            {
                try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
                applied.insert(number)
                database.onRollback { applied.remove(number) }
                if number == 3 { throw Refused(number: 3) }
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { $0 == nil } == [true, true, false, true, true])
        #expect(outcomes[2] as? Refused == Refused(number: 3))
        #expect(try Self.numbers(database) == [1, 2, 4, 5])
        #expect(applied == [1, 2, 4, 5])
        #expect(!database.isInTransaction)
    }

    /// A body that throws before writing anything (a refusal found by its reads) costs the others nothing:
    /// each body runs once, in one transaction, and only the refused body's in-memory change is undone.
    @Test func aBodyRefusedBeforeWritingLeavesTheOthersRunningOnce() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        var runs: [Int] = []
        var applied: Set<Int> = []
        let bodies: [() throws -> Void] = (1...5).map { number in
            {
                runs.append(number)
                applied.insert(number)
                database.onRollback { applied.remove(number) }
                if number == 2 || number == 4 { throw Refused(number: number) }
                try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { ($0 as? Refused)?.number } == [nil, 2, nil, 4, nil])
        #expect(runs == [1, 2, 3, 4, 5])
        #expect(try Self.numbers(database) == [1, 3, 5])
        #expect(applied == [1, 3, 5])
    }

    /// A body that changed the schema and then threw leaves nothing either, though it changed no rows.
    @Test func aBodyThatCreatedATableAndThrewLeavesNoTable() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        let bodies: [() throws -> Void] = [
            { try database.statement("INSERT INTO numbers VALUES (1)").run() },
            {
                try database.execute("CREATE TABLE stray (n INTEGER)")
                throw Refused(number: 2)
            },
            { try database.statement("INSERT INTO numbers VALUES (3)").run() },
        ]
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { ($0 as? Refused)?.number } == [nil, 2, nil])
        #expect(try Self.numbers(database) == [1, 3])
        #expect(try database.scalarInteger("SELECT count(*) FROM sqlite_schema WHERE name = 'stray'") == 0)
    }

    /// Two bodies of one group that both throw after writing: each is rolled back alone (the second by its
    /// savepoint once the group runs again), and every other body commits once.
    @Test func twoBodiesFailingAfterWritingAreEachRolledBackAlone() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        var applied: Set<Int> = []
        let bodies: [() throws -> Void] = (1...6).map { number in
            {
                try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
                applied.insert(number)
                database.onRollback { applied.remove(number) }
                if number == 2 || number == 5 { throw Refused(number: number) }
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { ($0 as? Refused)?.number } == [nil, 2, nil, nil, 5, nil])
        #expect(try Self.numbers(database) == [1, 3, 4, 6])
        #expect(applied == [1, 3, 4, 6])
    }

    /// A body that breaks the transaction for everyone (here: a constraint failure SQLite answers by rolling
    /// back the whole transaction, ON CONFLICT ROLLBACK) gets its error; the bodies before it run again and
    /// commit with the bodies after it.
    @Test func aBodyThatEndsTheTransactionFailsAloneAndTheOthersCommit() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY ON CONFLICT ROLLBACK)")
        var applied: [Int: Int] = [:]
        let bodies: [() throws -> Void] = [1, 2, 1, 4].map { number in
            {
                try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
                applied[number, default: 0] += 1
                database.onRollback { applied[number, default: 0] -= 1 }
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes.map { $0 == nil } == [true, true, false, true])
        #expect((outcomes[2] as? DatabaseError).map { $0.code & 0xFF } == 19)  // SQLITE_CONSTRAINT
        #expect(try Self.numbers(database) == [1, 2, 4])
        #expect(applied.filter { $0.value != 0 } == [1: 1, 2: 1, 4: 1])
        #expect(!database.isInTransaction)
    }

    /// A body that ends the whole transaction (INSERT OR ROLLBACK meeting a conflict, as a tenant's insert does)
    /// while the group already runs a savepoint per body — because an earlier body threw after writing — gets its
    /// own error; the bodies that succeeded before it in that transaction are not answered its error: they run
    /// again and commit, with the bodies after it.
    @Test func aBodyThatEndsTheTransactionAmongSavepointsFailsAlone() throws {
        let database = try Database(path: ":memory:")
        try database.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)")
        var applied: [Int: Int] = [:]
        // 2 throws after writing (the group goes on a savepoint per body); the second 1 conflicts and rolls back
        // the transaction that holds 1 and 3.
        let bodies: [() throws -> Void] = [1, 2, 3, 1, 5].map { number in
            {
                try database.statement("INSERT OR ROLLBACK INTO numbers VALUES (?)").run([.integer(Int64(number))])
                applied[number, default: 0] += 1
                database.onRollback { applied[number, default: 0] -= 1 }
                if number == 2 { throw Refused(number: 2) }
            }
        }
        let outcomes = database.writeGroup(bodies)
        #expect(outcomes[0] == nil, "\(outcomes[0].map { String(describing: $0) } ?? "")")
        #expect(outcomes[1] as? Refused == Refused(number: 2))
        #expect(outcomes[2] == nil, "\(outcomes[2].map { String(describing: $0) } ?? "")")
        #expect((outcomes[3] as? DatabaseError).map { $0.code & 0xFF } == 19)  // SQLITE_CONSTRAINT
        #expect(outcomes[4] == nil)
        #expect(try Self.numbers(database) == [1, 3, 5])
        #expect(applied.filter { $0.value != 0 } == [1: 1, 3: 1, 5: 1])
        #expect(!database.isInTransaction)
    }

    /// The same through the pool, on a file, with 64 writers at once: writes that end their group's transaction
    /// (a conflict rolled back whole) and writes that throw after writing fail alone; every other write is
    /// acknowledged, and after the pool is closed and the file opened again exactly the acknowledged writes are
    /// there.
    @Test func writesEndingTheirGroupsTransactionFailAloneAndTheOthersAreDurable() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-group-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let acknowledged = Locked<[Int]>([])
        let failedAlone = Locked<Int>(0)
        let unexpected = Locked<[String]>([])
        let perThread = 30
        let writers = 64
        do {
            let pool = try DatabasePool(directory: DataDirectory(directory))
            try pool.write { try $0.execute("CREATE TABLE numbers (n INTEGER PRIMARY KEY)") }
            // Taken before the writers start, so that their conflicts are with these rows.
            try pool.write { database in
                for number in stride(from: 0, to: writers * perThread, by: 11) {
                    try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(-1 - number))])
                }
            }
            onThreads(writers) { thread in
                for i in 0..<perThread {
                    let number = thread * perThread + i
                    do {
                        try pool.write { database in
                            try database.statement("INSERT OR ROLLBACK INTO numbers VALUES (?)").run([
                                .integer(Int64(number))
                            ])
                            if number % 11 == 0 {
                                // Conflicts with a row written before: SQLite rolls back the whole transaction.
                                try database.statement("INSERT OR ROLLBACK INTO numbers VALUES (?)").run([
                                    .integer(Int64(-1 - number))
                                ])
                            }
                            if number % 7 == 0 { throw Refused(number: number) }
                        }
                        acknowledged.withLock { $0.append(number) }
                    } catch let error as Refused where error.number == number {
                        failedAlone.withLock { $0 += 1 }
                    } catch let error as DatabaseError where error.code & 0xFF == 19 && number % 11 == 0 {
                        failedAlone.withLock { $0 += 1 }
                    } catch {
                        unexpected.withLock { $0.append("\(number): \(error)") }
                    }
                }
            }
        }
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 }.prefix(3))")
        let all = 0..<(writers * perThread)
        #expect(acknowledged.withLock { $0 }.sorted() == all.filter { $0 % 11 != 0 && $0 % 7 != 0 })
        #expect(failedAlone.withLock { $0 } == all.filter { $0 % 11 == 0 || $0 % 7 == 0 }.count)
        // A new pool on the same directory: what was acknowledged is on disk.
        let reopened = try DatabasePool(directory: DataDirectory(directory))
        let stored = try reopened.read { try Self.numbers($0) }.filter { $0 >= 0 }
        #expect(stored == acknowledged.withLock { $0 }.sorted())
    }

    /// A write in a group that rewrites far more than fits in memory of what its savepoint must keep: the
    /// statement journal spills to a temporary file and the write commits. (Raising SQLite's in-memory limit for
    /// statement journals with SQLITE_CONFIG_STMTJRNL_SPILL made exactly this fail with SQLITE_FULL on SQLite
    /// 3.40 once the journal passed the limit — every large retention purge or bulk update in a group.)
    @Test func aLargeRewriteInAGroupCommits() throws {
        let (directory, pool) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        try pool.write { database in
            try database.execute("CREATE TABLE pages (n INTEGER PRIMARY KEY, body TEXT)")
            try database.execute(
                """
                WITH RECURSIVE counter(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM counter WHERE n < 40000)
                INSERT INTO pages SELECT n, printf('%.1000c', 'a') FROM counter
                """)
        }
        // Every page of the 40 MiB table changes inside the group's savepoint.
        try pool.write { database in
            try database.execute("UPDATE pages SET body = printf('%.1000c', 'b')")
        }
        let changed = try pool.read { try $0.scalarInteger("SELECT count(*) FROM pages WHERE body LIKE 'b%'") }
        #expect(changed == 40000)
    }

    /// A write that arrives while a group's bodies run joins that group's transaction (one commit for both), rather
    /// than wait for the group to commit and start the next: the first body holds the writer until the second
    /// write is queued.
    @Test func aWriteArrivingWhileAGroupRunsJoinsItsCommit() throws {
        let (directory, pool) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let before = pool.groupCommitTotals
        let firstStarted = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        let failures = Locked<[String]>([])
        done.enter()
        Thread {
            defer { done.leave() }
            do {
                try pool.write { database in
                    try database.statement("INSERT INTO numbers VALUES (1)").run()
                    firstStarted.signal()
                    let deadline = Date().addingTimeInterval(30)
                    while pool.queuedWrites == 0 && Date() < deadline { usleep(1_000) }
                }
            } catch {
                failures.withLock { $0.append("first: \(error)") }
            }
        }.start()
        firstStarted.wait()
        // Sees the first write's row: it runs after it, in the same transaction.
        let seen = try pool.write { database -> [Int] in
            try database.statement("INSERT INTO numbers VALUES (2)").run()
            return try Self.numbers(database)
        }
        done.wait()
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0 })")
        #expect(seen == [1, 2])
        #expect(try pool.read { try Self.numbers($0) } == [1, 2])
        let after = pool.groupCommitTotals
        #expect(after.writes - before.writes == 2)
        #expect(after.groups - before.groups == 1, "the second write waited for a commit of its own")
    }

    /// 64 threads writing at once through the pool: every write that was acknowledged is there exactly once,
    /// and every refused one is absent.
    @Test func sixtyFourWritersAtOnce() throws {
        let (directory, pool) = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let acknowledged = Locked<[Int]>([])
        let refused = Locked<[Int]>([])
        let unexpected = Locked<[String]>([])
        let perThread = 40
        let totalsBefore = pool.groupCommitTotals
        onThreads(64) { thread in
            for i in 0..<perThread {
                let number = thread * perThread + i
                do {
                    try pool.write { database in
                        try database.statement("INSERT INTO numbers VALUES (?)").run([.integer(Int64(number))])
                        if number % 13 == 0 { throw Refused(number: number) }
                    }
                    acknowledged.withLock { $0.append(number) }
                } catch let error as Refused where error.number == number {
                    refused.withLock { $0.append(number) }
                } catch {
                    unexpected.withLock { $0.append("\(number): \(error)") }
                }
            }
        }
        #expect(unexpected.withLock { $0 }.isEmpty, "\(unexpected.withLock { $0 }.prefix(3))")
        let stored = try pool.read { try Self.numbers($0) }
        #expect(stored == acknowledged.withLock { $0 }.sorted())
        #expect(refused.withLock { $0 }.count == (0..<(64 * perThread)).filter { $0 % 13 == 0 }.count)
        #expect(Set(stored).isDisjoint(with: refused.withLock { $0 }))
        // Every write was counted in one group (refused ones too: they ran in a group's transaction).
        let totals = pool.groupCommitTotals
        #expect(totals.writes - totalsBefore.writes == 64 * perThread)
        #expect(totals.groups > totalsBefore.groups && totals.groups - totalsBefore.groups <= 64 * perThread)
    }
}

/// Runs `body(0..<count)` on `count` threads of their own at once and waits for all. (Not
/// `DispatchQueue.concurrentPerform`: it runs only as many iterations at a time as there are cores.)
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        Thread {
            body(index)
            done.leave()
        }.start()
    }
    done.wait()
}

/// A value behind a lock, shareable with threads (a `Mutex` itself cannot be captured by an escaping closure).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
