import CSQLite
import Dispatch
import Synchronization

/// Runs the writer's WAL checkpoints on a connection and a queue of their own, so that no commit waits for one.
///
/// SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: it copies those pages
/// back into the database file and fsyncs it while the committing group's callers, and every group queued behind
/// them, wait. With 64 concurrent signups that was one group in seven, COMMIT's p90 4–5 ms against a p50 of
/// 1.1 ms. Here the writer's connection only reports each commit (`sqlite3_wal_hook`, which replaces the
/// automatic checkpoint) and a background connection runs a PASSIVE checkpoint, which never blocks the writer.
///
/// A passive checkpoint copies what it can while the writer goes on appending, so it rarely leaves the WAL
/// entirely copied at the moment the writer begins its next transaction, which is when SQLite starts the WAL
/// over from its beginning. So the WAL has a bound: past `restartPages` the writer checkpoints inline once, after
/// its commit (copying only what the background has not), and its next transaction restarts the WAL. A reader
/// holding an old snapshot (a long report, a verification) can still keep the WAL from restarting, as with
/// SQLite's own checkpoints: then the writer tries inline again only every `backgroundPages` further, not at every
/// commit, and counts the tries that could not copy the whole WAL (`inlineIncomplete`, shown by `/readyz`).
///
/// A checkpoint that fails — background or inline — is counted, kept for `/readyz` (`status`) and handed to the
/// failure reporter (the controller's failure log); the commit that triggered it has already succeeded and is
/// durable (the WAL was fsynced), so it is not failed after the fact. SQLITE_BUSY is not a failure: another
/// connection (another process's, or the inline one) is checkpointing the same WAL.
package final class WALCheckpointer: Sendable {
    /// What `/readyz` and `/metrics` show.
    package struct Status: Sendable {
        /// Checkpoints that ran to the end, in the background and inline.
        package var completed = 0
        /// Of those, the ones the writer ran itself because the WAL had reached `restartPages`.
        package var inline = 0
        /// Inline checkpoints that could not copy the whole WAL because a reader held an older snapshot (a long
        /// report or verification): the WAL cannot start over and grows past `restartPages` until the reader ends.
        package var inlineIncomplete = 0
        /// Checkpoints that found another connection checkpointing the same WAL (SQLITE_BUSY; not a failure).
        package var busy = 0
        /// Checkpoints that failed, and the latest failure.
        package var failures = 0
        package var latestFailure: String?
    }

    /// WAL pages (frames) added since the last background checkpoint was asked for, after which a commit asks for
    /// the next: SQLite's own default interval. (Asking after every commit once past it had made four times as many
    /// checkpoints, each with its two fsyncs, and cost more CPU than it saved.)
    static let backgroundPages: Int32 = 1_000
    /// WAL pages after which the writer checkpoints inline so that its next transaction restarts the WAL
    /// (32 MiB at 4 KiB pages): one inline checkpoint where SQLite's own made eight.
    static let restartPages: Int32 = 8_000

    private struct State {
        var status = Status()
        var isScheduled = false
        /// The WAL's pages at which the next background checkpoint is asked for.
        var nextBackground = WALCheckpointer.backgroundPages
        /// The WAL's pages at which the writer checkpoints inline next: `restartPages`, and while a reader keeps
        /// the WAL from starting over, another `backgroundPages` on from the last inline try — not every commit.
        var nextInline = WALCheckpointer.restartPages
        /// The WAL's pages at the last commit: fewer at this one means the WAL started over.
        var lastPages: Int32 = 0
        var reporter: (@Sendable (DatabaseError) -> Void)?
    }

    private let state = Mutex(State())
    /// The background connection, opened at the first checkpoint; only the queue touches it.
    private let connection = Mutex<PooledConnection?>(nil)
    private let open: @Sendable () throws -> Database
    private let queue = DispatchQueue(label: "residency-wal-checkpoint")

    /// `open` opens the background connection to the same database file as the writer's.
    package init(open: @escaping @Sendable () throws -> Database) {
        self.open = open
    }

    /// Checkpoints so far and failures.
    package var status: Status { state.withLock { $0.status } }

    /// Where failures go besides the counts (the controller's failure log: logged, counted, shown by `/readyz`).
    /// Failures before a reporter is set are counted in `status` only.
    package func reportFailures(to reporter: @escaping @Sendable (DatabaseError) -> Void) {
        state.withLock { $0.reporter = reporter }
    }

    /// Called by the writer's connection after each commit, with the pages the WAL now holds.
    func committed(walPages: Int32, writer: OpaquePointer) {
        enum Action { case none, background, inline }
        let action = state.withLock { state -> Action in
            if walPages < state.lastPages {
                state.nextBackground = Self.backgroundPages
                state.nextInline = Self.restartPages
            }
            state.lastPages = walPages
            if walPages >= state.nextInline {
                state.nextBackground = Self.backgroundPages
                state.nextInline = walPages + Self.backgroundPages
                return .inline
            }
            guard walPages >= state.nextBackground, !state.isScheduled else { return .none }
            state.isScheduled = true
            state.nextBackground = walPages + Self.backgroundPages
            return .background
        }
        switch action {
        case .none: break
        case .background: queue.async { self.checkpointInBackground() }
        case .inline:
            var logged: Int32 = 0
            var copied: Int32 = 0
            let code = sqlite3_wal_checkpoint_v2(writer, nil, SQLITE_CHECKPOINT_PASSIVE, &logged, &copied)
            record(code: code, connection: writer, inline: true)
            if code & 0xFF == SQLITE_OK, copied < logged {
                state.withLock { $0.status.inlineIncomplete += 1 }
            }
        }
    }

    /// Runs a PASSIVE checkpoint on the background connection (opening it first if needed).
    func checkpointInBackground() {
        // A commit from here on asks for another checkpoint; this one copies what the WAL holds when it starts.
        state.withLock { $0.isScheduled = false }
        connection.withLock { connection in
            do {
                if connection == nil { connection = PooledConnection(try open()) }
            } catch {
                fail(error as? DatabaseError ?? DatabaseError(code: SQLITE_ERROR, message: "\(error)"))
                return
            }
            guard let database = connection?.database else { return }
            let code = sqlite3_wal_checkpoint_v2(database.connection, nil, SQLITE_CHECKPOINT_PASSIVE, nil, nil)
            record(code: code, connection: database.connection, inline: false)
        }
    }

    /// Waits for a checkpoint scheduled or running now to finish (tests, and closing a pool).
    package func waitForBackground() {
        queue.sync {}
    }

    private func record(code: Int32, connection: OpaquePointer, inline: Bool) {
        switch code & 0xFF {
        case SQLITE_OK:
            state.withLock { state in
                state.status.completed += 1
                if inline { state.status.inline += 1 }
            }
        case SQLITE_BUSY:
            state.withLock { $0.status.busy += 1 }
        default:
            let error = DatabaseError(connection: connection, code: code, sql: "PRAGMA wal_checkpoint(PASSIVE)")
            fail(
                DatabaseError(
                    code: error.code,
                    message: "checkpointing the WAL\(inline ? " (inline, past \(Self.restartPages) pages)" : ""): \(error.message)",
                    sql: error.sql, systemErrno: error.systemErrno))
        }
    }

    private func fail(_ error: DatabaseError) {
        let reporter = state.withLock { state in
            state.status.failures += 1
            state.status.latestFailure = error.description
            return state.reporter
        }
        reporter?(error)
    }
}

extension Database {
    /// Hands this connection's WAL checkpoints to `checkpointer` (see `WALCheckpointer`). `sqlite3_wal_hook`
    /// replaces SQLite's automatic checkpoint (`PRAGMA wal_autocheckpoint` then answers 0). The connection keeps
    /// the checkpointer alive for as long as the hook may call it.
    package func handCheckpoints(to checkpointer: WALCheckpointer) {
        guard !isPostgres, path != ":memory:" else { return }
        walHookTarget = checkpointer
        sqlite3_wal_hook(
            connection,
            { context, writer, _, pages in
                guard let context, let writer else { return SQLITE_OK }
                Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().committed(
                    walPages: pages, writer: writer)
                // Never an error: the commit has happened; a failed checkpoint is recorded, not returned.
                return SQLITE_OK
            }, Unmanaged.passUnretained(checkpointer).toOpaque())
    }
}
