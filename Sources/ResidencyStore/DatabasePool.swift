import Dispatch
import ResidencyCore
import Synchronization

/// The connections a server uses: one writer (SQLite allows one at a time; `BEGIN IMMEDIATE` makes that
/// explicit) and a set of readers, which WAL lets run beside the writer on their own snapshots.
///
/// On PostgreSQL the same shape: one writer session per controller (writes of all controllers are serialised by
/// the database's write lock, see `Database.write`) and reader sessions on REPEATABLE READ snapshots.
///
/// Writes that arrive together commit together: see `write(_:)`.
package final class DatabasePool: Sendable {
    private let committer: GroupCommitter
    /// Idle readers in shards picked by thread, so request threads rarely wait on one another's lock.
    private let idleReaders: [ReaderShard]
    private let openReader: @Sendable () throws -> Database
    package let path: String
    /// Bumped after every committed change to the tokens table, by whichever process made it; caches of who
    /// a token belongs to are valid only while it stands still.
    package let tokenChanges: SharedCounter
    /// Bumped by whichever process commits a change to how many live tenants a region holds (a signup, a
    /// migration's cutover, a deletion); counts kept in memory are valid only while it stands still.
    package let tenantChanges: SharedCounter

    /// Opens the data directory's database, migrating it to the latest schema.
    package init(directory: DataDirectory) throws {
        let writer = try directory.openDatabase()
        if case .postgres(let url) = directory.store {
            // Other controllers, on other machines, change the tables: no counter here can hear of it.
            tokenChanges = SharedCounter(movingAtEveryRead: true)
            tenantChanges = SharedCounter(movingAtEveryRead: true)
            openReader = { try Database(postgresURL: url) }
            postgresURL = url
            walCheckpointer = nil
        } else {
            postgresURL = nil
            tokenChanges = try SharedCounter(path: directory.url.appendingPathComponent("token-changes").path)
            tenantChanges = try SharedCounter(path: directory.url.appendingPathComponent("tenant-changes").path)
            let path = writer.path
            openReader = { try Database(path: path) }
            let checkpointer = WALCheckpointer(open: { try Database(path: path, create: false) })
            writer.handCheckpoints(to: checkpointer)
            walCheckpointer = checkpointer
        }
        path = writer.path
        isPostgres = writer.isPostgres
        committer = GroupCommitter(writer: PooledConnection(writer))
        idleReaders = (0..<8).map { _ in ReaderShard() }
    }

    /// Runs the writer's WAL checkpoints off the commit path (a SQLite file only; nil in memory and on PostgreSQL).
    package let walCheckpointer: WALCheckpointer?

    /// Whether the tables are in PostgreSQL (several controllers may share them).
    package let isPostgres: Bool
    /// The PostgreSQL URL (with its password): for sessions of their own (`SessionLock`); nil on SQLite.
    package let postgresURL: String?

    /// A pool over one in-memory database (tests): every read goes through the writer connection.
    package init(inMemory: Void = ()) throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        path = ":memory:"
        tokenChanges = SharedCounter()
        tenantChanges = SharedCounter()
        isPostgres = false
        postgresURL = nil
        walCheckpointer = nil
        committer = GroupCommitter(writer: PooledConnection(database))
        idleReaders = []
        openReader = { throw DatabaseError(code: 1, message: "in-memory pools have no separate readers") }
    }

    deinit {
        // A checkpoint running in the background holds a connection to the file: let it finish, so that the file
        // is closed by everyone once the pool is gone.
        walCheckpointer?.waitForBackground()
    }

    /// Runs `body` in a write transaction on the writer connection and returns once its changes are durable.
    ///
    /// Writes that arrive while another group is committing are committed together in one
    /// `BEGIN IMMEDIATE … COMMIT` (one fsync for all of them; see `Database.writeGroup`): a body that throws gets
    /// its own error, none of its changes stay, and the others commit. Bodies run one at a time, in arrival
    /// order, each seeing the changes of those before it — on the thread of whichever caller is committing, not
    /// necessarily the caller's.
    ///
    /// What this asks of a body: its only effects are its changes to the database and in-memory state it undoes
    /// with `Database.onRollback` — no request sent, no file written, nothing counted. Then it may be rolled back
    /// and run again (when another body of its group throws after writing) without anyone seeing the difference.
    /// A body must not call `write` or, on an in-memory pool, `read` (neither could before: the writer was
    /// behind a non-recursive lock).
    package func write<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try withoutActuallyEscaping(body) { body in
            var result: T?
            let pending = PendingWrite { database in result = try body(database) }
            if let error = committer.commit(pending) { throw error }
            guard let result else { preconditionFailure("a write that committed has no result") }
            return result
        }
    }

    /// Write groups committed by this pool so far and the writes they carried (see `write`): the mean is how many
    /// writes share each commit's fsync. For the benchmark and tests.
    package var groupCommitTotals: (groups: Int, writes: Int) { committer.totals }

    /// Writes waiting for a group (tests).
    var queuedWrites: Int { committer.queued }

    /// Runs `body` in a read transaction on an idle reader (opening one if none is idle).
    package func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        if path == ":memory:" { return try write(body) }
        let shard = idleReaders[ThreadShard.index(count: idleReaders.count)]
        let connection = try shard.connections.withLock { $0.popLast() } ?? PooledConnection(try openReader())
        defer { shard.connections.withLock { $0.append(connection) } }
        return try connection.database.read { try body(connection.database) }
    }
}

final class ReaderShard: Sendable {
    let connections = Mutex<[PooledConnection]>([])
}

/// A connection handed between threads by `DatabasePool`.
///
/// `@unchecked Sendable` because `Database` is not thread-safe: the pool guarantees one user at a time — the
/// writer only inside its mutex, a reader only between taking it from the idle list and putting it back.
final class PooledConnection: @unchecked Sendable {
    let database: Database
    init(_ database: Database) { self.database = database }
}
