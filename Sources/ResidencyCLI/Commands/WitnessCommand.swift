import Dispatch
import Foundation
import ResidencyController
import ResidencyCore
import ResidencyServer

/// `residency witness serve|public-key`: a C2SP tlog-witness that cosigns the ledgers it follows.
enum WitnessCommand {
    static let spec = CommandSpec(
        name: "witness", abstract: "Run a transparency-log witness (C2SP tlog-witness) that cosigns ledger checkpoints.",
        subcommands: [serve, publicKey])

    static let dataOption = OptionSpec.option("data", "dir", "The witness's data directory (its key and what it saw).")
    static let nameOption = OptionSpec.option(
        "name", "name", "The witness's name at first start (default: residency-witness); kept in its key.")

    static let serve = CommandSpec(
        name: "serve", abstract: "Serve POST /add-checkpoint: cosign checkpoints that extend what was seen before.",
        discussion: """
            Creates the witness key at first start (0600 in --data). Follows the logs given with --log (a ledger's
            verifier key, as `residency ledger public-key` prints it), remembered for later starts. For each log
            it keeps the size and root it last cosigned, replaced atomically and durably, and refuses a checkpoint
            that does not extend it (409 with its size). SIGTERM or SIGINT stops it.
            """,
        options: [
            .option("listen", "host:port", "Address to listen on (default: 127.0.0.1:7400; port 0 picks a free port)."),
            dataOption, nameOption,
            .option("log", "key", "A log to follow: its verifier key (name+id+key).", repeatable: true),
        ]
    ) { arguments, context in
        let address: ListenAddress
        do {
            address = try ListenAddress(parsing: arguments.value("listen") ?? "127.0.0.1:7400")
        } catch {
            throw UsageError("--listen: \(error)")
        }
        guard let data = arguments.value("data") else { throw UsageError("--data is required: the witness's directory") }
        var logs: [NoteVerifier] = []
        for text in arguments.values("log") {
            do { logs.append(try NoteVerifier(encoded: text)) } catch {
                throw UsageError("--log \"\(text.prefix(80))\": \(error); accepted: the output of residency ledger public-key")
            }
        }
        let witness = try Witness.open(
            directory: URL(fileURLWithPath: data), name: arguments.value("name"), adding: logs)
        guard !witness.logs.isEmpty else {
            throw UsageError("the witness follows no log yet: give --log with a ledger's verifier key")
        }
        let log = AccessLogWriter(descriptor: 1)
        let application = WitnessApplication(witness: witness) { log.write($0) }
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(address: address), handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) })
        // SIGTERM or SIGINT: stop accepting, finish what is in flight, exit.
        let signals = SignalHandling { _ in server.shutdown() }
        let shownHost = address.host.contains(":") ? "[\(address.host)]" : address.host
        context.printError(
            "residency witness \(witness.cosigner.key.name) listening on http://\(shownHost):\(server.port) (key \(witness.cosigner.key.encoded); follows \(witness.logs.keys.sorted().joined(separator: ", ")))"
        )
        server.run()
        _ = log.flush(timeout: 5)
        signals.cancel()
        return ExitCode.success
    }

    static let publicKey = CommandSpec(
        name: "public-key", abstract: "Print the witness's cosigner key (name+id+base64(0x04 ‖ key)), creating it at first use.",
        options: [dataOption, nameOption]
    ) { arguments, context in
        guard let data = arguments.value("data") else { throw UsageError("--data is required: the witness's directory") }
        let witness = try Witness.open(directory: URL(fileURLWithPath: data), name: arguments.value("name"), adding: [])
        context.print(witness.cosigner.key.encoded)
        return ExitCode.success
    }
}
