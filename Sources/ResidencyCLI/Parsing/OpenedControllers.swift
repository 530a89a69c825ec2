import ResidencyController
import Synchronization

/// The ledgers a command opened, so that the command line signs what it wrote before it exits.
final class OpenedControllers: Sendable {
    private let publishers = Mutex<[LedgerPublisher]>([])

    func add(_ controller: Controller) { add(controller.publisher) }

    func add(_ publisher: LedgerPublisher) { publishers.withLock { $0.append(publisher) } }

    /// Signs a checkpoint of each ledger that grew and publishes it (with its witnesses' cosignatures under a
    /// witness policy). A publication that falls short is said, not hidden: the entries stay signed and the next
    /// command or the server publishes them.
    func publish(_ context: CommandContext) {
        for publisher in publishers.withLock({ $0 }) {
            do {
                try publisher.publish()
            } catch {
                context.printError("note: \(error)")
            }
        }
    }
}
