/// A lock held by a PostgreSQL session of its own for as long as this value lives (`pg_try_advisory_lock`):
/// for work that must run on one controller at a time and may take long (a tenant migration). The database
/// releases it when the session ends — this value going away, or its controller dying — so a runner that was
/// killed never blocks the one that resumes its work.
package final class SessionLock: @unchecked Sendable {
    // Sendable: the connection is only used in `init` and closed in `deinit`, never shared.
    private let database: Database

    /// Takes the lock named `name` on the store at `url`, or answers nil when another session holds it.
    package static func tryTake(name: String, url: String) throws -> SessionLock? {
        let database = try Database(postgresURL: url)
        let key = PostgresDialect.lockKey(schema: "session:" + name)
        let taken = try database.statement("SELECT pg_try_advisory_lock(?)").first([.integer(key)]) { $0.integer(0) }
        return taken == 1 ? SessionLock(database: database) : nil
    }

    private init(database: Database) { self.database = database }
}
