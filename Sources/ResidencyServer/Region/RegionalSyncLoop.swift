import Foundation
import ResidencyController

/// The controller's background work with its regional services, on a thread of its own: every `interval`
/// seconds, assignments brought up to date and delivered, each service's health read, its queued events put on
/// the ledger (`RegionalServices.synchronise`). Does nothing while no service has joined.
package final class RegionalSyncLoop: @unchecked Sendable {
    private let regional: RegionalServices
    private let interval: Double
    private let version: String
    private let stopped = NSCondition()
    private var isStopped = false
    private var thread: Thread?
    /// Whether this controller does the sync now (`WorkLease`: one of several controllers on one store does).
    private let isActive: @Sendable () -> Bool

    package init(
        regional: RegionalServices, interval: Double, version: String, isActive: @escaping @Sendable () -> Bool = { true }
    ) {
        self.isActive = isActive
        self.regional = regional
        self.interval = interval
        self.version = version
    }

    package func start() {
        let thread = Thread { [self] in
            while true {
                if isActive() {
                    regional.refreshJoined()
                    do {
                        if try regional.hasJoinedServices() { regional.synchronise(version: version) }
                    } catch {
                        regional.report("reading the regional services", error)
                    }
                }
                stopped.lock()
                if !isStopped { _ = stopped.wait(until: Date(timeIntervalSinceNow: interval)) }
                let done = isStopped
                stopped.unlock()
                if done { return }
            }
        }
        thread.name = "residency.regional-sync"
        self.thread = thread
        thread.start()
    }

    package func stop() {
        stopped.lock()
        isStopped = true
        stopped.signal()
        stopped.unlock()
    }
}
