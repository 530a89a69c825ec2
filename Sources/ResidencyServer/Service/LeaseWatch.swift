import ResidencyController
import Synchronization

/// Keeps the periodic-work lease (`WorkLease`) renewed from the service's ticker, and acts when this controller
/// takes it: interrupted migrations — left by a controller that died mid-run, or by this one's last life — are
/// resumed here. Each change of hands is logged; a store that cannot be reached is reported as a failure.
final class LeaseWatch: Sendable {
    private let controller: Controller
    private let logger: Logger
    private let wasHeld = Atomic<Bool>(false)
    private let failing = Atomic<Bool>(false)

    init(controller: Controller, logger: Logger) {
        self.controller = controller
        self.logger = logger
    }

    func tick() {
        let lease = controller.context.lease
        let held: Bool
        do {
            held = try lease.renew()
            failing.store(false, ordering: .relaxed)
        } catch {
            held = false
            // Once per outage, not at every tick.
            if !failing.exchange(true, ordering: .relaxed) {
                controller.report(failure: "renewing the periodic-work lease", error)
            }
        }
        let before = wasHeld.exchange(held, ordering: .relaxed)
        guard held != before else { return }
        guard controller.context.pool.isPostgres else {
            controller.migrations.resumeMigrationsInBackground()
            return
        }
        if held {
            logger.info("took the periodic-work lease", [("holder", lease.holder)])
            controller.migrations.resumeMigrationsInBackground()
        } else {
            logger.info("lost the periodic-work lease", [("holder", lease.holder)])
        }
    }
}
