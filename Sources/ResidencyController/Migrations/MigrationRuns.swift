import Dispatch
import Foundation
import ResidencyStore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Who is carrying which migration forward. Within a process, a set of ids; across processes (the server
/// and a `migrations resume` at the console), an `flock` per migration in the data directory, which the
/// kernel releases when a runner dies — so a crashed runner never blocks the resume that follows. On a
/// PostgreSQL store, where the other runners are controllers on other machines, also a PostgreSQL session lock
/// per migration (`SessionLock`), which the database releases when the runner's controller dies.
final class MigrationRuns: Sendable {
    private let running = Mutex<Set<String>>([])
    /// The shared store's URL, for the session locks; nil on SQLite.
    private let postgresURL: String?

    init(postgresURL: String? = nil) { self.postgresURL = postgresURL }
    /// Background runs in the server, at most `concurrency` at once.
    let queue = DispatchQueue(label: "residency.migrations", attributes: .concurrent)
    let slots = DispatchSemaphore(value: 2)

    /// Takes the run of `id`, or returns nil when another thread or process has it.
    func claim(_ id: String, lockDirectory: URL?) -> MigrationClaim? {
        guard running.withLock({ $0.insert(id).inserted }) else { return nil }
        var sessionLock: SessionLock?
        if let postgresURL {
            // Unreachable database or another controller's run: not ours to take.
            guard let lock = try? SessionLock.tryTake(name: "migration:" + id, url: postgresURL) else {
                release(id)
                return nil
            }
            sessionLock = lock
        }
        guard let lockDirectory else {
            return MigrationClaim(id: id, descriptor: -1, runs: self, sessionLock: sessionLock)
        }
        try? FileManager.default.createDirectory(
            at: lockDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = lockDirectory.appendingPathComponent("migration-\(id).lock").path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0, flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            release(id)
            return nil
        }
        return MigrationClaim(id: id, descriptor: descriptor, runs: self, sessionLock: sessionLock)
    }

    fileprivate func release(_ id: String) {
        _ = running.withLock { $0.remove(id) }
    }
}

/// A held claim; ends when released or deinitialised.
final class MigrationClaim {
    let id: String
    private var descriptor: Int32
    private let runs: MigrationRuns
    /// Held until the claim ends (PostgreSQL stores).
    private let sessionLock: SessionLock?

    init(id: String, descriptor: Int32, runs: MigrationRuns, sessionLock: SessionLock? = nil) {
        self.id = id
        self.descriptor = descriptor
        self.runs = runs
        self.sessionLock = sessionLock
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
        runs.release(id)
    }
}
