import Foundation

/// Runs two pieces of work at once — the first on the calling thread, the second on a thread of its own — and
/// returns both results once both have finished (each one's error is thrown after both have ended).
///
/// A thread of its own rather than the global dispatch queue: that queue runs only a few items at once on a
/// small machine, and when those are all blocked (request handlers waiting on a lock this very work holds, or
/// waiting for it to finish) a queued second half never starts and the first waits for it for ever.
package func bothAtOnce<A, B>(_ first: () throws -> A, _ second: () throws -> B) throws -> (A, B) {
    let handover = Handover<B>()
    let firstResult = withoutActuallyEscaping(second) { second -> Result<A, any Error> in
        let work = UncheckedWork(second)
        let thread = Thread { handover.finish(work.runOnce()) }
        thread.name = "residency-both-at-once"
        thread.start()
        let result = Result { try first() }
        handover.wait()
        return result
    }
    return (try firstResult.get(), try handover.result!.get())
}

/// The second half's result, handed to the waiting thread under a condition.
private final class Handover<B>: @unchecked Sendable {
    private let condition = NSCondition()
    private var finished = false
    private(set) var result: Result<B, any Error>?

    func finish(_ value: Result<B, any Error>) {
        condition.withLock {
            result = value
            finished = true
            condition.signal()
        }
    }

    func wait() {
        condition.withLock { while !finished { condition.wait() } }
    }
}

/// The second half, carried to its thread. It lets go of the closure as soon as it has run, before the
/// result is handed over: the thread object outlives the hand-over, and the closure must not outlive
/// `bothAtOnce`'s `withoutActuallyEscaping` scope.
private final class UncheckedWork<B>: @unchecked Sendable {
    private var run: (() throws -> B)?
    init(_ run: @escaping () throws -> B) { self.run = run }

    func runOnce() -> Result<B, any Error> {
        guard let body = run else { preconditionFailure("bothAtOnce's second half ran twice") }
        run = nil
        return Result { try body() }
    }
}
