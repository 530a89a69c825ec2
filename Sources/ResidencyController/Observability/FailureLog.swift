import Foundation
import ResidencyCore
import Synchronization

/// Failures of background and best-effort work that no caller is waiting to hear about (a refused call that
/// could not be recorded, a checkpoint that could not be signed, a summary that could not be written): counted,
/// the latest kept for `/readyz`, and logged as an `error` record — never swallowed.
package final class FailureLog: Sendable {
    package struct Failure: Sendable {
        package let time: Int64
        package let what: String
        package let error: String
    }

    private let state = Mutex<(count: Int, latest: [Failure])>((0, []))
    private let logger: Logger

    /// `logger` receives one `error` record per failure (JSON lines on standard error in the service).
    package init(logger: Logger) { self.logger = logger }

    /// Failures reported since start.
    package var count: Int { state.withLock { $0.count } }
    /// The ten most recent, oldest first.
    package var latest: [Failure] { state.withLock { $0.latest } }

    package func report(_ what: String, _ error: any Error, at time: Int64) {
        let failure = Failure(time: time, what: what, error: String(describing: error))
        state.withLock { state in
            state.count += 1
            state.latest.append(failure)
            if state.latest.count > 10 { state.latest.removeFirst() }
        }
        logger.error(what, [("error", failure.error)])
    }
}
