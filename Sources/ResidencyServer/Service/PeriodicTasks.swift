import Synchronization

/// Runs periodic tasks as time advances. Time is whatever `advance(by:)` is told — the service's ticker thread
/// after each sleep, a test as many seconds as it likes at once — so the schedule itself never reads a clock
/// and tests drive it without waiting.
package final class PeriodicTasks: Sendable {
    package let tasks: [PeriodicTask]
    /// Seconds since each task last ran (a task that runs at start begins one interval "late").
    private let sinceLastRun: Mutex<[Double]>

    package init(_ tasks: [PeriodicTask]) {
        self.tasks = tasks
        sinceLastRun = Mutex(tasks.map { $0.runsAtStart ? $0.interval : 0 })
    }

    /// Moves time on by `seconds` and runs, in declaration order, every task whose interval has passed (once,
    /// however many intervals have: a late run catches up, it does not repeat). Returns the names of those run.
    @discardableResult
    package func advance(by seconds: Double) -> [String] {
        let due = sinceLastRun.withLock { since -> [Int] in
            var due: [Int] = []
            for index in tasks.indices {
                since[index] += seconds
                if since[index] >= tasks[index].interval {
                    since[index] = 0
                    due.append(index)
                }
            }
            return due
        }
        for index in due { tasks[index].body() }
        return due.map { tasks[$0].name }
    }
}
