import Dispatch
import Foundation

/// SIGTERM and SIGINT, delivered on a queue of their own instead of interrupting the process.
package final class SignalHandling {
    private let sources: [any DispatchSourceSignal]

    /// Ignores the default action of `signals` and calls `handler` with the number of each one received.
    package init(_ signals: [Int32] = [SIGTERM, SIGINT], handler: @escaping @Sendable (Int32) -> Void) {
        let queue = DispatchQueue(label: "residency.signals")
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler { handler(number) }
            source.resume()
            return source
        }
    }

    /// Stops listening; the signals keep being ignored (the process is on its way out).
    package func cancel() {
        for source in sources { source.cancel() }
    }
}
