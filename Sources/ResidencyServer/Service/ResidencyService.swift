import Foundation
import ResidencyController
import ResidencyCore
import Synchronization

/// The controller as a running service: the API application, the HTTP server, signal handling, the periodic
/// tasks and checkpoint publication, started and stopped together.
///
/// `run()` does the start-up work (data a crash left unprovisioned, interrupted migrations), serves until
/// `shutdown()` or a signal, then finishes in-flight requests and does the shutdown work (the refused-calls
/// summary, a last publication). Its periodic work is `periodicTasks`, driven by a ticker thread every
/// `Configuration.tick` seconds — or by a test calling `periodicTasks.advance(by:)`.
package final class ResidencyService: Sendable {
    package struct Configuration: Sendable {
        package var server: HTTPServer.Configuration
        /// How often the ticker advances the periodic tasks (seconds).
        package var tick = 0.25
        /// The longest a quiet log or a missing quorum waits for another publication, and how often access
        /// grants are expired (seconds).
        package var checkpointInterval = 1.0
        /// How often the retention schedule runs (seconds); it also runs at start.
        package var lifecycleInterval = 3600.0
        /// How often repeated refused calls are written as one summary entry (seconds); also at shutdown.
        package var refusalSummaryInterval = 3600.0
        /// Whether SIGTERM and SIGINT shut the service down (off for a service a test runs in process).
        package var handlesSignals = true
        /// Where the access log goes, one JSON line per request (standard output by default).
        package var accessLogDescriptor: Int32 = 1
        /// The program's version, reported to the regional services.
        package var version = "unknown"
        /// A console session ends after this long unused, and this long after sign-in at the latest (seconds).
        package var consoleIdleTimeout = 1800.0
        package var consoleSessionLifetime = 43_200.0

        package init(server: HTTPServer.Configuration) { self.server = server }
    }

    package let configuration: Configuration
    package let controller: Controller
    package let application: APIApplication
    package let server: HTTPServer
    package let periodicTasks: PeriodicTasks
    let accessLog: AccessLogWriter
    let publication: PublicationLoop
    /// Regional services: assignments delivered, health read, queued events put on the ledger.
    let regionalSync: RegionalSyncLoop?
    let logger: Logger
    private let stopping = Atomic<Bool>(false)

    /// Builds the service and binds its listening socket (so `port` is known before `run`).
    package init(controller: Controller, configuration: Configuration) throws {
        self.configuration = configuration
        self.controller = controller
        let logger = controller.logger.labelled("residency.service")
        self.logger = logger
        let accessLog = AccessLogWriter(descriptor: configuration.accessLogDescriptor)
        self.accessLog = accessLog
        // Console cookies are marked Secure when the API is served over TLS.
        let application = APIApplication(
            controller: controller, metrics: Metrics(droppedLogLines: { accessLog.droppedLines }),
            consoleSessions: ConsoleSessions(
                idleTimeout: Int64(configuration.consoleIdleTimeout * 1000),
                absoluteTimeout: Int64(configuration.consoleSessionLifetime * 1000)),
            secureCookies: configuration.server.tls != nil
        ) { accessLog.write($0) }
        self.application = application
        server = try HTTPServer(
            configuration: configuration.server, handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) },
            inlineHandler: { application.respondInline(to: $0) })
        periodicTasks = PeriodicTasks(Self.tasks(of: controller, configuration: configuration, logger: logger))
        // Publication follows the log as it grows (about one witness round trip after a commit), and at least
        // every `checkpointInterval`; a failure is reported once, and /readyz and /metrics show it while it lasts.
        let lease = controller.context.lease
        publication = PublicationLoop(
            publisher: controller.publisher, maximumWait: configuration.checkpointInterval,
            isActive: { lease.isHeld }
        ) { error in controller.report(failure: "publishing the ledger checkpoint", error) }
        regionalSync = controller.regional.map {
            RegionalSyncLoop(
                regional: $0, interval: min(configuration.checkpointInterval, 2), version: configuration.version,
                isActive: { lease.isHeld })
        }
    }

    /// The port the server listens on (the one picked when the configuration asked for port 0).
    package var port: UInt16 { server.port }

    /// The periodic work, in the order it runs when several tasks fall due at once.
    ///
    /// With several controllers on one PostgreSQL store, the work on shared state runs only where the periodic-work
    /// lease is held (`WorkLease`); the refused-calls summary counts this process's own refusals, so every
    /// controller writes its own.
    static func tasks(of controller: Controller, configuration: Configuration, logger: Logger) -> [PeriodicTask] {
        let lease = controller.context.lease
        return [
            PeriodicTask(name: "refused-calls summary", every: configuration.refusalSummaryInterval) {
                do { try controller.tokens.closeRefusalPeriod() } catch {
                    controller.report(failure: "writing the refused-calls summary", error)
                }
            },
            PeriodicTask(name: "retention", every: configuration.lifecycleInterval, runsAtStart: true) {
                guard lease.isHeld else { return }
                // Data a signup could not provision (a full disk) is provisioned once space is back.
                do {
                    let repaired = try controller.directory.provisionMissingTenantData()
                    if !repaired.isEmpty {
                        logger.info("provisioned missing tenant data", [("tenants", String(repaired.count))])
                    }
                } catch {
                    controller.report(failure: "provisioning missing tenant data", error)
                }
                do { _ = try controller.retention.runLifecycle() } catch {
                    controller.report(failure: "running the retention schedule", error)
                }
            },
            PeriodicTask(name: "access expiry", every: configuration.checkpointInterval) {
                guard lease.isHeld else { return }
                do { try controller.access.expireAccess() } catch {
                    controller.report(failure: "expiring access grants", error)
                }
            },
        ]
    }

    /// Serves until `shutdown()` (or SIGTERM/SIGINT with `handlesSignals`), then drains and stops. Blocks.
    /// `ready` is called once the start-up work is done, just before the server accepts connections.
    package func run(ready: () -> Void = {}) throws {
        let provisioned = try controller.directory.provisionMissingTenantData()
        if !provisioned.isEmpty {
            logger.info("provisioned missing tenant data", [("tenants", String(provisioned.count))])
        }
        // Interrupted migrations are carried to completion or rollback in the background — by the controller
        // that holds the periodic-work lease, and again by whichever controller takes it over later.
        let leaseWatch = LeaseWatch(controller: controller, logger: logger)
        leaseWatch.tick()
        let signals =
            configuration.handlesSignals
            ? SignalHandling { [self] number in
                // Shut down first: standard error may be a pipe nobody reads, and writing to it can block.
                shutdown()
                logger.info("received a signal; finishing in-flight requests", [("signal", String(number))])
            } : nil
        let ticker = Thread { [periodicTasks, tick = configuration.tick] in
            while !Thread.current.isCancelled {
                Thread.sleep(forTimeInterval: tick)
                if Thread.current.isCancelled { break }
                leaseWatch.tick()
                periodicTasks.advance(by: tick)
            }
        }
        ticker.name = "residency-periodic"
        regionalSync?.start()
        publication.start()
        ticker.start()
        ready()
        server.run()
        ticker.cancel()
        regionalSync?.stop()
        publication.stop()
        signals?.cancel()
        do { try controller.tokens.closeRefusalPeriod() } catch {
            controller.report(failure: "writing the refused-calls summary at shutdown", error)
        }
        if controller.context.lease.isHeld {
            do { try controller.publisher.publish() } catch {
                controller.report(failure: "publishing the ledger checkpoint at shutdown", error)
            }
            do { try controller.context.lease.release() } catch {
                controller.report(failure: "giving up the periodic-work lease at shutdown", error)
            }
        }
        _ = accessLog.flush()
        logger.info("stopped")
    }

    /// Stops accepting connections; `run()` returns once in-flight requests are answered.
    package func shutdown() {
        guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else { return }
        server.shutdown()
    }
}
