import Foundation

/// Threads for handlers that may block: writes that wait on fsync, reports, audits, migrations.
///
/// The event loops hand such requests here so that a slow handler holds one pool thread, never a loop and the
/// hundreds of connections it multiplexes. Threads start on demand up to `maximum` and then stay; past that,
/// jobs wait in arrival order. Blocking work stays off Swift's cooperative pool, which has one thread a core.
final class HandlerPool: @unchecked Sendable {
    // Guarded by `condition`: jobs, head, idle, threads.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var idle = 0
    private var threads = 0
    let maximum: Int
    let stackSize: Int

    init(maximum: Int, stackSize: Int = 4 << 20) {
        self.maximum = max(1, maximum)
        self.stackSize = stackSize
    }

    func submit(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        jobs.append(job)
        let spawn = idle == 0 && threads < maximum
        if spawn { threads += 1 } else { condition.signal() }
        condition.unlock()
        if spawn {
            let thread = Thread { [self] in work() }
            thread.name = "residency-handler"
            thread.stackSize = stackSize
            thread.start()
        }
    }

    /// Threads started so far.
    var threadCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return threads
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count {
                idle += 1
                condition.wait()
                idle -= 1
            }
            let job = jobs[head]
            head += 1
            if head == jobs.count || head > 1024 {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
