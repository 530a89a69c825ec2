import ResidencyCore
import Synchronization

/// The connections a server uses: one writer (SQLite allows one at a time; `BEGIN IMMEDIATE` makes that
/// explicit) and a set of readers, which WAL lets run beside the writer on their own snapshots.
public final class DatabasePool: Sendable {
    private let writer: Mutex<PooledConnection>
    /// Idle readers in shards picked by thread, so request threads rarely wait on one another's lock.
    private let idleReaders: [ReaderShard]
    private let openReader: @Sendable () throws -> Database
    public let path: String
    /// Bumped after every committed change to the tokens table, by whichever process made it; caches of who
    /// a token belongs to are valid only while it stands still.
    public let tokenChanges: SharedCounter
    /// Bumped by whichever process commits a change to how many live tenants a region holds (a signup, a
    /// migration's cutover, a deletion); counts kept in memory are valid only while it stands still.
    public let tenantChanges: SharedCounter

    /// Opens the data directory's database, migrating it to the latest schema.
    public init(directory: DataDirectory) throws {
        let writer = try directory.openDatabase()
        tokenChanges = try SharedCounter(path: directory.url.appendingPathComponent("token-changes").path)
        tenantChanges = try SharedCounter(path: directory.url.appendingPathComponent("tenant-changes").path)
        path = writer.path
        self.writer = Mutex(PooledConnection(writer))
        idleReaders = (0..<8).map { _ in ReaderShard() }
        let path = writer.path
        openReader = { try Database(path: path) }
    }

    /// A pool over one in-memory database (tests): every read goes through the writer connection.
    public init(inMemory: Void = ()) throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        path = ":memory:"
        tokenChanges = SharedCounter()
        tenantChanges = SharedCounter()
        let connection = PooledConnection(database)
        writer = Mutex(connection)
        idleReaders = []
        openReader = { throw DatabaseError(code: 1, message: "in-memory pools have no separate readers") }
    }

    /// Runs `body` in a write transaction on the writer connection.
    public func write<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
        try writer.withLock { connection in try connection.database.write { try body(connection.database) } }
    }

    /// Runs `body` in a read transaction on an idle reader (opening one if none is idle).
    public func read<T: Sendable>(_ body: (Database) throws -> T) throws -> T {
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
