import Dispatch
import Synchronization

/// Group commit for the writer connection: one caller at a time commits, and every write that arrives
/// meanwhile waits in a queue to be committed with one fsync for the whole group — in the group running, when it
/// arrives before that group's bodies are done, else in the next.
///
/// There is no committer thread: the caller that finds nobody committing commits its own write; when it is
/// done it hands everything queued meanwhile to the first waiter of the queue, which commits that group on
/// its own thread and hands on in turn. So a lone write costs no thread switch, and a pool (tests open
/// hundreds) has no thread to start and stop.
final class GroupCommitter: Sendable {
    /// The most writes committed together, so that one group's wait stays bounded (a group takes in writes that
    /// arrive while it runs, up to this many).
    static let maximumGroup = 128

    private struct State {
        var queue: [PendingWrite] = []
        var isCommitting = false
    }

    private let writer: Mutex<PooledConnection>
    private let state = Mutex(State())
    /// Groups committed (one transaction each, whatever its outcome) and the writes they carried.
    private let groups = Atomic<Int>(0)
    private let writes = Atomic<Int>(0)

    /// Groups committed so far and the writes in them: how much each commit's fsync carried.
    var totals: (groups: Int, writes: Int) {
        (groups.load(ordering: .relaxed), writes.load(ordering: .relaxed))
    }

    /// Writes waiting in the queue (tests).
    var queued: Int { state.withLock { $0.queue.count } }

    init(writer: PooledConnection) {
        self.writer = Mutex(writer)
    }

    /// Commits `write`, alone or in a group; answers its error, nil once its changes are durable.
    func commit(_ write: PendingWrite) -> (any Error)? {
        let leads = state.withLock { state in
            if state.isCommitting {
                state.queue.append(write)
                return false
            }
            state.isCommitting = true
            return true
        }
        var group = [write]
        if !leads {
            write.wakeup.wait()
            if write.isFinished { return write.error }
            // Handed the queue: this caller commits it.
            group = write.handedGroup
            write.handedGroup = []
        }
        let outcomes = writer.withLock { connection in
            let database = connection.database
            // Writes queued while this group's bodies ran join its transaction before COMMIT. Without this, a
            // group took only what was queued when it began: the callers of one group came back while the next
            // committed, and 64 callers settled into two alternating groups of ~30 (measured), each paying the
            // commit's fixed cost — the same hot pages rewritten and an fsync — for half the callers.
            return database.writeGroup(group.map { pending in { try pending.body?(database) } }) {
                let arrived = state.withLock { state -> [PendingWrite] in
                    let count = min(Self.maximumGroup - group.count, state.queue.count)
                    guard count > 0 else { return [] }
                    defer { state.queue.removeFirst(count) }
                    return Array(state.queue.prefix(count))
                }
                group += arrived
                return arrived.map { pending in { try pending.body?(database) } }
            }
        }
        groups.add(1, ordering: .relaxed)
        writes.add(group.count, ordering: .relaxed)
        for (pending, outcome) in zip(group, outcomes) {
            // Let go of the caller's closure before waking it: it is non-escaping, and
            // `withoutActuallyEscaping` checks that nothing holds it once the caller's `write` returns.
            pending.body = nil
            pending.error = outcome
            pending.isFinished = true
        }
        // The next group first: its leader starts on the writer while this group's callers wake (waking a group
        // of 64 before it left the writer idle for most of a millisecond, a tenth of a group's time).
        let next = state.withLock { state -> PendingWrite? in
            guard let first = state.queue.first else {
                state.isCommitting = false
                return nil
            }
            let count = min(Self.maximumGroup, state.queue.count)
            first.handedGroup = Array(state.queue.prefix(count))
            state.queue.removeFirst(count)
            return first
        }
        next?.wakeup.signal()
        for pending in group where pending !== write { pending.wakeup.signal() }
        return write.error
    }
}

/// One caller's write, waiting for its group's commit.
///
/// `@unchecked Sendable`: `body` is the caller's non-escaping closure, run on the committing thread while the
/// caller blocks in `GroupCommitter.commit`, so it never runs concurrently with its owner, and released before
/// the caller is woken. The other fields are written before `wakeup` is signalled and read after the waiter
/// wakes; the semaphore orders the two.
final class PendingWrite: @unchecked Sendable {
    /// The caller's closure; nil once run.
    var body: ((Database) throws -> Void)?
    var error: (any Error)?
    var isFinished = false
    /// Set when this caller is to commit the queue rather than wait for it.
    var handedGroup: [PendingWrite] = []
    let wakeup = DispatchSemaphore(value: 0)

    init(_ body: @escaping (Database) throws -> Void) {
        self.body = body
    }
}
