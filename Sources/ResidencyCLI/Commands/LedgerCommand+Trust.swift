import Foundation
import ResidencyController
import ResidencyCore

/// Opening the ledger for reading or verifying, the trust file, and proofs one command checks.
extension LedgerCommand {
    /// The data directory a read must find: never created by a command that only reads.
    static func existingDirectory(_ arguments: ParsedArguments, _ context: CommandContext) throws -> URL {
        let directory = try SharedOptions.dataDirectory(arguments, context, .read)
        guard ControllerDirectory.holdsDatabase(directory) else {
            throw CommandFailure(
                "no ledger at \(directory.path) (no \(ControllerDirectory.databaseFileName) there); pass --data with the controller's data directory"
            )
        }
        return directory
    }

    /// The log's signing key as the data directory holds it; verification never creates one.
    static func existingKey(_ arguments: ParsedArguments, _ context: CommandContext) throws -> NoteSigner {
        let directory = try existingDirectory(arguments, context)
        let url = directory.appendingPathComponent(Ledger.keyFileName)
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw CommandFailure(
                "no ledger key at \(url.path): nothing to check signatures against; give the pinned keys with --trust FILE (residency ledger trust prints them where the key is)"
            )
        }
        return try NoteSigner(encoded: text)
    }

    static func openForReading(_ arguments: ParsedArguments, _ context: CommandContext) throws -> Ledger {
        let signer = try existingKey(arguments, context)
        return try ControllerDirectory.open(try existingDirectory(arguments, context)).ledger(signer: signer)
    }

    /// A ledger to verify against pinned keys only. Its signer is a throwaway key that is never written and
    /// never used: verification with a trust policy checks every signature against the policy's log key.
    static func openPinned(_ arguments: ParsedArguments, _ context: CommandContext) throws -> Ledger {
        let directory = try ControllerDirectory.open(try existingDirectory(arguments, context))
        let throwaway = try NoteSigner(name: "unused-verifier", privateKey: try Ed25519PrivateKey.generate())
        return directory.ledger(signer: throwaway)
    }

    static func openPublisher(_ arguments: ParsedArguments, _ context: CommandContext) throws -> LedgerPublisher {
        let directory = context.locator.dataDirectory(explicit: arguments.value("data"))
        let ledger = try open(arguments, context)
        return try LedgerPublisher.open(ledger: ledger, policy: try Controller.loadWitnessPolicy(in: directory))
    }

    /// Adds a problem for every witness that has cosigned more of this log than the log now holds.
    static func witnessesAgree(
        _ result: LedgerVerification, trust: TrustPolicy, ledger: Ledger, context: CommandContext
    ) -> LedgerVerification {
        var result = result
        for (name, size, problem) in ledger.witnessSizes(trust.witnesses) {
            if let problem {
                context.printError("note: witness \(name) could not be asked: \(problem)")
                continue
            }
            guard let size else { continue }
            if size > result.entries {
                result.problems.append(
                    .init(
                        index: result.entries,
                        message:
                            "witness \(name) has cosigned this log at size \(size), but it holds \(result.entries) entries: entries were removed"
                    ))
            } else {
                context.printError(
                    "witness \(name) has cosigned size \(size); this log holds \(result.entries) entries")
            }
        }
        return result
    }

    static let trust = CommandSpec(
        name: "trust",
        abstract: "Print the trust file an auditor pins: the log's verifier key, the witnesses and their quorum.",
        options: [ServeCommand.dataOption]
    ) { arguments, context in
        let directory = try existingDirectory(arguments, context)
        let policy = TrustPolicy(
            log: try existingKey(arguments, context).verifier,
            witnesses: try Controller.loadWitnessPolicy(in: directory))
        context.print(policy.jsonValue.encoded(pretty: true))
        return ExitCode.success
    }

    static let exportEntry = CommandSpec(
        name: "export-entry",
        abstract: "Print entries with their inclusion proofs against the latest published checkpoint (a proof bundle).",
        discussion: """
            The bundle verifies offline with `residency ledger verify-entry --bundle FILE --trust FILE`, or with
            Scripts/verify_bundle.py (Python and the cryptography package, no project code).
            """,
        options: [ServeCommand.dataOption],
        positionals: [PositionalSpec("index", "The entry's index (several: separated by commas).")]
    ) { arguments, context in
        var indices: [Int] = []
        for text in arguments.positionals[0].split(separator: ",") {
            guard let index = Int(text), index >= 0 else {
                throw UsageError("<index>: \"\(text)\" is not a non-negative integer")
            }
            indices.append(index)
        }
        guard (1...1000).contains(indices.count) else { throw UsageError("<index>: give 1 to 1000 indices") }
        let directory = try existingDirectory(arguments, context)
        let ledger = try openForReading(arguments, context)
        let publisher = try LedgerPublisher.open(
            ledger: ledger, policy: try Controller.loadWitnessPolicy(in: directory))
        guard let published = try publisher.latestPublished() else {
            throw CommandFailure("no checkpoint has been published yet (run residency ledger checkpoint)")
        }
        let bundle = try ledger.proofBundle(indices: indices, checkpoint: published)
        context.print(bundle.jsonValue.encoded(pretty: true))
        return ExitCode.success
    }

    static let verifyEntry = CommandSpec(
        name: "verify-entry",
        abstract: "Check in one step that entries are in a published checkpoint signed and cosigned by pinned keys.",
        discussion: """
            Either INDEX with --checkpoint (a saved checkpoint note) and the data directory, or --bundle (what
            export-entry or a tenant's transparency export wrote), offline. Both need --trust.
            """,
        options: [
            .option("trust", "file", "Pinned keys: the log's, the witnesses', the quorum (ledger trust prints them)."),
            .option("checkpoint", "file", "A published checkpoint note (with its cosignatures)."),
            .option("bundle", "file", "A proof bundle: entries with their proofs and the checkpoint."),
            ServeCommand.dataOption,
        ],
        positionals: [PositionalSpec("index", "The entry's index (not with --bundle).", optional: true)]
    ) { arguments, context in
        guard let trustPath = arguments.value("trust") else {
            throw UsageError("--trust is required: the keys the proof is checked against")
        }
        let trust = try TrustPolicy.load(file: URL(fileURLWithPath: trustPath))
        let bundle: ProofBundle
        if let path = arguments.value("bundle") {
            guard arguments.positionals.isEmpty, arguments.value("checkpoint") == nil else {
                throw UsageError("--bundle carries its entries and checkpoint: give neither <index> nor --checkpoint")
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                throw CommandFailure("cannot read the bundle \(path)")
            }
            bundle = try ProofBundle(parsing: Array(data))
        } else {
            guard let text = arguments.positionals.first, let index = Int(text), index >= 0 else {
                throw UsageError("<index> is required without --bundle: a non-negative integer")
            }
            guard let path = arguments.value("checkpoint"),
                let note = try? String(contentsOfFile: path, encoding: .utf8)
            else {
                throw UsageError("--checkpoint FILE is required with <index>: a published checkpoint note")
            }
            let verified = try ProofBundle.verifyCheckpoint(note, trust: trust)
            bundle = try openPinned(arguments, context).proofBundle(
                indices: [index], checkpoint: (verified.checkpoint.size, note))
        }
        let verified = try bundle.verify(trust: trust)
        for item in bundle.items {
            context.print(
                "entry \(item.index) is in the log \(verified.checkpoint.origin) of size \(verified.checkpoint.size), root \(Data(verified.checkpoint.root.bytes).base64EncodedString())"
            )
        }
        context.print(
            "checkpoint signed by \(trust.log.name) and cosigned by \(verified.cosigners.isEmpty ? "no witness" : verified.cosigners.joined(separator: ", ")) (quorum \(trust.witnesses.quorum))"
        )
        return ExitCode.success
    }
}
