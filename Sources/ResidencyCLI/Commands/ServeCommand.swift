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
            .option("console-idle-timeout", "seconds", "A console session unused this long ends (default: 1800; 1-86400)."),
            .option(
                "console-session-lifetime", "seconds",
                "A console session ends this long after sign-in however it is used (default: 43200; 1-604800)."),
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
        var service = ResidencyService.Configuration(server: configuration)
        service.version = VersionCommand.version
        if let text = arguments.value("checkpoint-interval") {
            guard let value = Double(text), value >= 0.25, value <= 300 else {
                throw UsageError("--checkpoint-interval: \"\(text)\"; accepted: seconds, 0.25-300")
            }
            service.checkpointInterval = value
        }
        if let text = arguments.value("lifecycle-interval") {
            guard let value = Double(text), value >= 1, value <= 86_400 else {
                throw UsageError("--lifecycle-interval: \"\(text)\"; accepted: seconds, 1-86400")
            }
            service.lifecycleInterval = value
        }
        if let text = arguments.value("refusal-summary-interval") {
            guard let value = Double(text), value >= 1, value <= 86_400 else {
                throw UsageError("--refusal-summary-interval: \"\(text)\"; accepted: seconds, 1-86400")
            }
            service.refusalSummaryInterval = value
        }
        for (name, limit, keyPath) in [
            ("console-idle-timeout", 86_400.0, \ResidencyService.Configuration.consoleIdleTimeout),
            ("console-session-lifetime", 604_800.0, \.consoleSessionLifetime),
        ] {
            if let text = arguments.value(name) {
                guard let value = Double(text), value >= 1, value <= limit else {
                    throw UsageError("--\(name): \"\(text)\"; accepted: seconds, 1-\(Int(limit))")
                }
                service[keyPath: keyPath] = value
            }
        }
        let regions = try context.locator.regions(explicit: arguments.value("regions"))
        let policies = try context.locator.policies(explicit: arguments.value("policies"))
        let data = context.locator.dataDirectory(explicit: arguments.value("data"))
        let geoIP = context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regions)
        let claim = try ControllerDirectory.claimForServing(data)
        // Background work and failures are logged as JSON lines on standard error.
        let controller = try Controller.open(
            dataDirectory: data, regions: regions, policies: policies, geoIP: geoIP,
            logHandler: JSONLineLogHandler(descriptor: 2))
        let running = try ResidencyService(controller: controller, configuration: service)
        let shownHost = address.host.contains(":") ? "[\(address.host)]" : address.host
        try running.run {
            context.printError(
                "residency listening on \(configuration.tls == nil ? "http" : "https")://\(shownHost):\(running.port) (data \(DisplayPath.of(data)), policy \(controller.policies.version.hex.prefix(12)), geoip \(DisplayPath.of(geoIP)))"
            )
        }
        withExtendedLifetime(claim) {}
        return ExitCode.success
    }
}
