import ResidencyController
import Synchronization

/// The ledgers a command opened, so that the command line signs what it wrote before it exits.
final class OpenedControllers: Sendable {
    /// Each publisher with the log's size when the command opened it: a command that wrote nothing publishes
    /// nothing (and never waits on witnesses).
    private let publishers = Mutex<[(publisher: LedgerPublisher, size: Int?)]>([])

    func add(_ controller: Controller) { add(controller.publisher) }

    func add(_ publisher: LedgerPublisher) {
        let size = try? publisher.size()
        publishers.withLock { $0.append((publisher, size)) }
    }

    /// Signs a checkpoint of each ledger the command grew and publishes it (with its witnesses' cosignatures
    /// under a witness policy). A publication that falls short is said, not hidden: the entries stay signed and
    /// the next command or the server publishes them.
    func publish(_ context: CommandContext) {
        for (publisher, opened) in publishers.withLock({ $0 }) {
            if let opened, let now = try? publisher.size(), now == opened { continue }
            do {
                try publisher.publish()
            } catch {
                context.printError("note: \(error)")
            }
        }
    }
}
