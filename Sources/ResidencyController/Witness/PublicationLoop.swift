import Foundation
import ResidencyStore
import Synchronization

/// Publishes as soon as the log grows: a thread that looks at the log's size every `pollInterval` and, when it
/// moved (by this process or a command line beside it), signs and publishes at once — so an entry waits for its
/// cosigned checkpoint about one witness round trip, not a timer's period. While a publication is in flight,
/// further entries gather and go out together in the next one. At least every `maximumWait` it publishes
/// regardless (a quorum that was missing may be back). Publications are at least `minimumSpacing` apart: each
/// costs two durable writes of its own, and under a write load, publishing every few milliseconds would take
/// fsyncs from the writes it publishes (measured: 0.83× the signup rate without witnesses); one every 50 ms
/// keeps an idle log's latency at one round trip and a busy log's cost bounded.
package final class PublicationLoop: Sendable {
    let publisher: LedgerPublisher
    let pollInterval: Double
    let maximumWait: Double
    let minimumSpacing: Double
    let onFailure: @Sendable (any Error) -> Void
    /// Whether this controller publishes now (`WorkLease`: one of several controllers on one store does).
    let isActive: @Sendable () -> Bool
    private let stopped = Atomic<Bool>(false)
    private let finished = Mutex<Bool>(false)
    private let condition = NSCondition()

    package init(
        publisher: LedgerPublisher, pollInterval: Double = 0.005, maximumWait: Double = 1.0,
        minimumSpacing: Double = 0.05, isActive: @escaping @Sendable () -> Bool = { true },
        onFailure: @escaping @Sendable (any Error) -> Void
    ) {
        self.isActive = isActive
        self.publisher = publisher
        self.pollInterval = pollInterval
        self.maximumWait = maximumWait
        self.minimumSpacing = minimumSpacing
        self.onFailure = onFailure
    }

    package func start() {
        let thread = Thread { [self] in run() }
        thread.name = "residency-publication"
        thread.start()
    }

    /// Stops the loop and waits for a publication in flight to end.
    package func stop() {
        stopped.store(true, ordering: .releasing)
        condition.lock()
        while !finished.withLock({ $0 }) { _ = condition.wait(until: Date().addingTimeInterval(0.1)) }
        condition.unlock()
    }

    private func run() {
        var lastSize = -1
        var sinceAttempt = Double.infinity
        var failing = false
        while !stopped.load(ordering: .acquiring) {
            guard isActive() else {
                Thread.sleep(forTimeInterval: max(pollInterval, 0.05))
                continue
            }
            let size = (try? publisher.ledger.size()) ?? lastSize
            if (size != lastSize && sinceAttempt >= minimumSpacing) || sinceAttempt >= maximumWait {
                sinceAttempt = 0
                do {
                    try publisher.publish()
                    lastSize = size
                    failing = false
                } catch {
                    // Said once when it starts failing; the status shows it for as long as it lasts.
                    if !failing { onFailure(error) }
                    failing = true
                    lastSize = size
                }
            }
            Thread.sleep(forTimeInterval: pollInterval)
            sinceAttempt += pollInterval
        }
        finished.withLock { $0 = true }
        condition.lock()
        condition.broadcast()
        condition.unlock()
    }
}
