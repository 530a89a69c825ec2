import Dispatch
import Foundation
import ResidencyController
import ResidencyCore
import ResidencyServer
import ResidencyTLS

/// `residency region serve|pin`: a regional service — one per region (or site), its own process, data directory
/// and key pair; it holds its region's tenants' data and serves it only under the controller's signed assignments.
enum RegionServiceCommand {
    static let dataOption = OptionSpec.option("data", "dir", "The regional service's data directory (its key, enrolment and tenants' data).")

    static let spec = CommandSpec(
        name: "region", abstract: "Run a regional service that holds one region's tenant data.",
        subcommands: [serve, pin])

    static let serve = CommandSpec(
        name: "serve", abstract: "Serve a region's tenant data over mutual TLS, under the controller's signed assignments.",
        discussion: """
            At first start it creates its key pair (0600 in --data/identity) and joins the controller with the code
            `residency regions enroll ID --endpoint https://HOST:PORT` printed there (--join, or RESIDENCY_JOIN_CODE);
            from then on it accepts only the controller's pinned key (and the application keys listed in
            --data/client-pins) at the TLS handshake, stores data only for tenants assigned to its region, answers
            421 for a tenant of another region and 404 for an unknown one, and queues every write for the
            controller's ledger. SIGTERM or SIGINT stops it.
            """,
        options: [
            .option("region", "id", "The region this service holds (required), e.g. eu."),
            .option("site", "id", "The site within the region (default: the one the controller enrolled)."),
            .option("listen", "host:port", "Address to listen on (required; port 0 picks a free port)."),
            dataOption,
            .option("controller", "url", "The controller's API, http://HOST:PORT (required)."),
            .option("join", "code", "The one-time join code (first start, or to enrol again)."),
            SharedOptions.regions,
        ]
    ) { arguments, context in
        guard let region = arguments.value("region") else { throw UsageError("--region is required, e.g. --region eu") }
        guard let listen = arguments.value("listen") else { throw UsageError("--listen HOST:PORT is required") }
        guard let data = arguments.value("data") else { throw UsageError("--data DIR is required: the service's own directory") }
        guard let controllerURL = arguments.value("controller") else {
            throw UsageError("--controller URL is required: the controller's API, e.g. http://127.0.0.1:8080")
        }
        let address: ListenAddress
        do { address = try ListenAddress(parsing: listen) } catch { throw UsageError("--listen: \(error)") }
        let joinCode = arguments.value("join") ?? ProcessInfo.processInfo.environment["RESIDENCY_JOIN_CODE"]
        let catalog = try? SharedOptions.catalog(arguments, context)
        let startup: RegionNodeStartup
        let pins: Set<String>
        do {
            startup = try RegionNodeStartup.open(
                region: region, site: arguments.value("site"), controllerURL: controllerURL, joinCode: joinCode,
                dataDirectory: URL(fileURLWithPath: data), catalog: catalog)
            pins = try startup.pinnedPeers()
        } catch let error as RegionEnrolmentError {
            throw CommandFailure("region \(region): \(error)")
        } catch let error as TLSError {
            throw CommandFailure("region \(region): its key or certificate: \(error)")
        }
        var configuration = HTTPServer.Configuration(address: address)
        // The peer services the controller named last time pass the handshake too (for the peer routes only).
        let tls = try TLSContext(mutual: startup.identity, pinned: pins.union(startup.node.peerPins), client: false)
        configuration.tls = tls
        let log = AccessLogWriter(descriptor: 1)
        let application = RegionApplication(
            node: startup.node, version: VersionCommand.version, tls: tls, basePins: pins
        ) { log.write($0) }
        let server = try HTTPServer(
            configuration: configuration, handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) })
        // SIGTERM or SIGINT: stop accepting, finish what is in flight, exit.
        let signals = SignalHandling { _ in server.shutdown() }
        let shownHost = address.host.contains(":") ? "[\(address.host)]" : address.host
        context.printError(
            "residency region \(region) (site \(startup.node.configuration.site))\(startup.joined ? " joined \(controllerURL) and" : "") listening on https://\(shownHost):\(server.port) (key pin \(startup.identity.pin); \(pins.count) pinned peer\(pins.count == 1 ? "" : "s"))"
        )
        server.run()
        _ = log.flush(timeout: 5)
        signals.cancel()
        _ = startup
        return ExitCode.success
    }

    static let pin = CommandSpec(
        name: "pin", abstract: "Print the pin of a service's key (creating the key pair at first use): what peers pin.",
        options: [dataOption]
    ) { arguments, context in
        guard let data = arguments.value("data") else { throw UsageError("--data DIR is required") }
        let directory = URL(fileURLWithPath: data).appendingPathComponent("identity", isDirectory: true)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        context.print(try TLSIdentity.loadOrCreate(in: directory, name: "residency-service").pin)
        return ExitCode.success
    }
}
