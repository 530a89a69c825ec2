import Foundation
import ResidencyController
import ResidencyCore

enum LedgerCommand {
    static let spec = CommandSpec(
        name: "ledger", abstract: "Inspect, prove and verify the tamper-evident ledger.",
        subcommands: [checkpoint, entries, prove, publicKey, verify, trust, exportEntry, verifyEntry])

    /// The ledger of an existing data directory: every ledger command reads what is there (a checkpoint signs
    /// only entries already written), so none creates the directory.
    static func open(_ arguments: ParsedArguments, _ context: CommandContext) throws -> Ledger {
        let directory = try SharedOptions.dataDirectory(arguments, context, .read)
        return try ControllerDirectory.open(directory).ledger()
    }

    static let checkpoint = CommandSpec(
        name: "checkpoint",
        abstract: "Sign a checkpoint of the log now (if it grew), publish it, and print the latest published one.",
        discussion: """
            With witnesses.json in the data directory, a checkpoint is published once a quorum of its witnesses
            cosigned it; the note printed carries the log's signature and their cosignatures. Exits 1 when the
            newest checkpoint could not reach its quorum (the last published one is printed all the same).
            """,
        options: [ServeCommand.dataOption]
    ) { arguments, context in
        let publisher = try openPublisher(arguments, context)
        var failure: Error?
        do { try publisher.publish() } catch { failure = error }
        if let latest = try publisher.latestPublished() { context.standardOutput(latest.note) }
        if let failure {
            context.printError("Error: \(failure)")
            return ExitCode.failure
        }
        return ExitCode.success
    }

    static let entries = CommandSpec(
        name: "entries", abstract: "Print entries as JSON lines: index, entry as stored, leaf hash.",
        options: [
            .option("from", "n", "First index (default 0)."),
            .option("to", "n", "Last index, inclusive (default: the last entry)."), ServeCommand.dataOption,
        ]
    ) { arguments, context in
        let ledger = try open(arguments, context)
        var from = try integer(arguments, "from") ?? 0
        // --to names the last entry printed: `--from N --to N` prints entry N.
        let end = min(try integer(arguments, "to").map { $0 == Int.max ? $0 : $0 + 1 } ?? Int.max, try ledger.size())
        while from < end {
            let page = try ledger.entries(from: from, to: end)
            if page.isEmpty { break }
            for row in page {
                let entry = String(decoding: row.entry, as: UTF8.self)
                context.print(
                    "{\"index\":\(row.index),\"entry\":\(entry),\"leaf_hash\":\"\(LedgerCommand.hex(row.leafHash))\"}")
            }
            from = page.last!.index + 1
        }
        return ExitCode.success
    }

    static let prove = CommandSpec(
        name: "prove", abstract: "Print the inclusion proof of an entry (RFC 9162 §2.1.3) as JSON.",
        options: [
            .option("size", "n", "The tree size to prove against (default: the whole log)."), ServeCommand.dataOption,
        ],
        positionals: [PositionalSpec("index", "The entry's index.")]
    ) { arguments, context in
        guard let index = Int(arguments.positionals[0]), index >= 0 else {
            throw UsageError("<index>: \"\(arguments.positionals[0])\" is not a non-negative integer")
        }
        let proof = try openForReading(arguments, context).inclusionProof(
            index: index, size: try integer(arguments, "size"))
        // Base64, as checkpoints carry hashes, so a root compares with a checkpoint's by eye.
        func base64(_ digest: SHA256Digest) -> JSONValue { .string(Data(digest.bytes).base64EncodedString()) }
        context.print(
            JSONValue.object([
                ("index", .integer(proof.index)), ("size", .integer(proof.size)),
                ("leaf_hash", base64(proof.leafHash)), ("root", base64(proof.root)),
                ("proof", .array(proof.path.map(base64))), ("leaf_hash_hex", .string(proof.leafHash.hex)),
                ("root_hex", .string(proof.root.hex)),
            ]).encoded(pretty: true))
        return ExitCode.success
    }

    static let publicKey = CommandSpec(
        name: "public-key",
        abstract: "Print the verifier key: <name>+<hex key id>+<base64(0x01 ‖ Ed25519 public key)>.",
        options: [ServeCommand.dataOption]
    ) { arguments, context in
        context.print(try existingKey(arguments, context).verifier.encoded)
        return ExitCode.success
    }

    static let verify = CommandSpec(
        name: "verify", abstract: "Recompute the log from its entries and check every checkpoint.",
        discussion: """
            Checks that every index is present once and in order, that each entry names its own index and matches
            its leaf hash, and that every stored checkpoint's root and signature hold. With --checkpoint, also that
            today's log extends a checkpoint saved earlier. Exits 1 naming the first bad index.
            """,
        options: [
            .option("checkpoint", "file", "A checkpoint note saved earlier."),
            .option(
                "trust", "file",
                "Pinned keys (ledger trust prints them): signatures are checked against these, never the data directory's."
            ),
            .flag("offline", "With --trust, do not ask the witnesses what they have seen."), ServeCommand.dataOption,
        ]
    ) { arguments, context in
        var earlier: String?
        if let path = arguments.value("checkpoint") {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw CommandFailure("cannot read checkpoint file \(path)")
            }
            earlier = text
        }
        let trust = try arguments.value("trust").map { try TrustPolicy.load(file: URL(fileURLWithPath: $0)) }
        let started = Date()
        let ledger = trust == nil ? try openForReading(arguments, context) : try openPinned(arguments, context)
        var result = try ledger.verify(earlier: earlier, trust: trust)
        if let trust, !arguments.flag("offline") {
            result = witnessesAgree(result, trust: trust, ledger: ledger, context: context)
        }
        let seconds = Date().timeIntervalSince(started)
        guard result.isValid else {
            for problem in result.problems { context.printError(problem.description) }
            context.printError("Error: the ledger does not verify; first bad index \(result.firstBadIndex ?? 0)")
            return ExitCode.failure
        }
        context.print(
            "verified \(result.entries) entries, \(result.checkpointsVerified) checkpoints and \(result.publishedVerified) published checkpoints in \(String(format: "%.2f", seconds)) s; root \(Data(result.root.bytes).base64EncodedString())\(trust.map { " (keys pinned by the trust file; quorum \($0.witnesses.quorum))" } ?? "")"
        )
        return ExitCode.success
    }

    static func integer(_ arguments: ParsedArguments, _ name: String) throws -> Int? {
        guard let text = arguments.value(name) else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw UsageError("--\(name): \"\(text)\" is not a non-negative integer")
        }
        return value
    }

    static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
}
