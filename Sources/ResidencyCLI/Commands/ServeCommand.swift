import Dispatch
import Foundation
import ResidencyController
import ResidencyCore
import ResidencyServer
import ResidencyTLS

enum ServeCommand {
    static let dataOption = OptionSpec.option(
        "data", "dir", "The data directory (default: $RESIDENCY_DATA or ./residency-data).")

    static let spec = CommandSpec(
        name: "serve", abstract: "Run the controller's HTTP API.",
        discussion: """
            Serves API v1 on HOST:PORT (default 127.0.0.1:8080) from the data directory (created on first
            start). Logs one JSON line per request on standard output; SIGTERM or SIGINT stops accepting,
            finishes in-flight requests and exits 0. Create a token first: residency tokens create --role admin --name me
            """,
        options: [
            .option("listen", "host:port", "Address to listen on (default: 127.0.0.1:8080; port 0 picks a free port)."),
            dataOption, GeoCommand.geoIP, SharedOptions.regions, SharedOptions.policies,
            .option("max-connections", "n", "Concurrent connections before new ones get 503 (default: 512)."),
            .option("tls-cert", "file", "Serve HTTPS (TLS 1.3) with this PEM certificate chain (with --tls-key)."),
            .option("tls-key", "file", "The PEM private key of --tls-cert."),
            .option("idle-timeout", "seconds", "How long a keep-alive connection may sit idle (default: 30)."),
            .option("request-timeout", "seconds", "How long a request may take to arrive whole (default: 10)."),
            .option(
                "checkpoint-interval", "seconds",
                "Entries are signed and published as soon as the log grows; this is the longest a quiet log or a missing quorum waits for another attempt (default: 1; 0.25-300)."
            ),
            .option(
                "lifecycle-interval", "seconds",
                "Apply the retention schedule this often (default: 3600; also at start)."),
            .option(
                "refusal-summary-interval", "seconds",
                "Repeated refused calls of a token on a route are counted and written as one ledger entry this often (default: 3600; also at shutdown)."
            ),
        ]
    ) { arguments, context in
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: arguments.value("listen") ?? "127.0.0.1:8080")
        } catch {
            throw UsageError("--listen: \(error)")
        }
        var configuration = HTTPServer.Configuration(address: address)
        if let text = arguments.value("max-connections") {
            guard let value = Int(text), (1...100_000).contains(value) else {
                throw UsageError("--max-connections: \"\(text)\"; accepted: 1-100000")
            }
            configuration.maximumConnections = value
        }
        for (name, keyPath) in [
            ("idle-timeout", \HTTPServer.Configuration.idleTimeout), ("request-timeout", \.requestTimeout),
        ] {
            if let text = arguments.value(name) {
                guard let value = Double(text), value > 0, value <= 3600 else {
                    throw UsageError("--\(name): \"\(text)\"; accepted: seconds, 0-3600")
                }
                configuration[keyPath: keyPath] = value
            }
        }
        switch (arguments.value("tls-cert"), arguments.value("tls-key")) {
        case (nil, nil): break
        case (let certificate?, let key?):
            do {
                configuration.tls = try TLSContext(certificate: certificate, privateKey: key)
            } catch {
                throw CommandFailure("cannot serve TLS: \(error)")
            }
        default: throw UsageError("--tls-cert and --tls-key go together: the certificate and its private key")
        }
        MallocArenas.limitToCores()
        if let warning = DescriptorLimit.ensure(connections: configuration.maximumConnections) {
            context.printError("residency: warning: \(warning)")
        }
        let regions = try context.locator.regions(explicit: arguments.value("regions"))
        let policies = try context.locator.policies(explicit: arguments.value("policies"))
        let data = context.locator.dataDirectory(explicit: arguments.value("data"))
        let geoIP = context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regions)
        let claim = try ControllerDirectory.claimForServing(data)
        let controller = try Controller.open(dataDirectory: data, regions: regions, policies: policies, geoIP: geoIP)
        let provisioned = try controller.provisionMissingTenantData()
        if !provisioned.isEmpty {
            context.printError("residency: provisioned missing data for \(provisioned.count) tenants")
        }
        // Interrupted migrations are carried to completion or rollback in the background.
        controller.resumeMigrationsInBackground()
        let log = AccessLogWriter(descriptor: 1)
        let metrics = Metrics(droppedLogLines: { log.droppedLines })
        let application = APIApplication(controller: controller, metrics: metrics) { log.write($0) }
        let server = try HTTPServer(
            configuration: configuration, handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) },
            inlineHandler: { application.respondInline(to: $0) })

        let signals = DispatchQueue(label: "residency.signals")
        var sources: [DispatchSourceSignal] = []
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: signals)
            source.setEventHandler {
                // Shut down first: standard error may be a pipe nobody reads, and writing to it can block.
                server.shutdown()
                context.printError("residency: received signal \(number), finishing in-flight requests")
            }
            source.resume()
            sources.append(source)
        }
        let shownHost = address.host.contains(":") ? "[\(address.host)]" : address.host
        context.printError(
            "residency listening on \(configuration.tls == nil ? "http" : "https")://\(shownHost):\(server.port) (data \(DisplayPath.of(data)), policy \(controller.policies.version.hex.prefix(12)), geoip \(DisplayPath.of(geoIP)))"
        )
        var interval = 1.0
        if let text = arguments.value("checkpoint-interval") {
            guard let value = Double(text), value >= 0.25, value <= 300 else {
                throw UsageError("--checkpoint-interval: \"\(text)\"; accepted: seconds, 0.25-300")
            }
            interval = value
        }
        var lifecycleInterval = 3600.0
        if let text = arguments.value("lifecycle-interval") {
            guard let value = Double(text), value >= 1, value <= 86_400 else {
                throw UsageError("--lifecycle-interval: \"\(text)\"; accepted: seconds, 1-86400")
            }
            lifecycleInterval = value
        }
        var refusalInterval = 3600.0
        if let text = arguments.value("refusal-summary-interval") {
            guard let value = Double(text), value >= 1, value <= 86_400 else {
                throw UsageError("--refusal-summary-interval: \"\(text)\"; accepted: seconds, 1-86400")
            }
            refusalInterval = value
        }
        // Besides every N entries, a checkpoint every T seconds, so a quiet log is still freshly signed.
        let checkpointInterval = interval
        let retentionInterval = lifecycleInterval
        let refusalSummaryInterval = refusalInterval
        let checkpointer = Thread {
            var elapsed = 0.0
            // The retention schedule runs at start-up and then every --lifecycle-interval seconds.
            var sinceLifecycle = retentionInterval
            var sinceRefusalSummary = 0.0
            while !Thread.current.isCancelled {
                Thread.sleep(forTimeInterval: 0.25)
                elapsed += 0.25
                sinceLifecycle += 0.25
                sinceRefusalSummary += 0.25
                if sinceRefusalSummary >= refusalSummaryInterval {
                    sinceRefusalSummary = 0
                    do { try controller.closeRefusalPeriod() } catch {
                        controller.report(failure: "writing the refused-calls summary", error)
                    }
                }
                if sinceLifecycle >= retentionInterval {
                    sinceLifecycle = 0
                    // Data a signup could not provision (a full disk) is provisioned once space is back.
                    do {
                        let repaired = try controller.provisionMissingTenantData()
                        if !repaired.isEmpty {
                            context.printError("residency: provisioned missing data for \(repaired.count) tenants")
                        }
                    } catch {
                        controller.report(failure: "provisioning missing tenant data", error)
                    }
                    do {
                        let steps = try controller.runLifecycle()
                        if !steps.isEmpty { context.printError("residency: retention applied \(steps.count) actions") }
                    } catch {
                        context.printError("residency: retention run failed: \(error)")
                    }
                }
                if elapsed >= checkpointInterval {
                    elapsed = 0
                    do { try controller.expireAccess() } catch {
                        controller.report(failure: "expiring access grants", error)
                    }
                }
            }
        }
        // Publication follows the log as it grows (about one witness round trip after a commit), and at least every
        // --checkpoint-interval; a failure is reported once, and /readyz and /metrics show it while it lasts.
        let publication = PublicationLoop(publisher: controller.publisher, maximumWait: checkpointInterval) { error in
            controller.report(failure: "publishing the ledger checkpoint", error)
        }
        // Regional services: assignments delivered, health read, queued events put on the ledger.
        let regionalSync = controller.regional.map {
            RegionalSyncLoop(regional: $0, interval: min(checkpointInterval, 2), version: VersionCommand.version)
        }
        regionalSync?.start()
        publication.start()
        checkpointer.start()
        server.run()
        checkpointer.cancel()
        regionalSync?.stop()
        publication.stop()
        do { try controller.closeRefusalPeriod() } catch {
            controller.report(failure: "writing the refused-calls summary at shutdown", error)
        }
        do { try controller.publisher.publish() } catch {
            controller.report(failure: "publishing the ledger checkpoint at shutdown", error)
        }
        _ = log.flush()
        context.printError("residency: stopped")
        _ = sources
        _ = claim
        return ExitCode.success
    }
}
