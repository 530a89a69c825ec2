import Foundation
import ResidencyCore

/// Runs an operator's commands at each step with `/bin/sh -c`, describing the move in environment
/// variables, and treats a non-zero exit as the step failing. Each command must be idempotent, as every
/// step is: after a crash it runs again.
///
/// Environment: `RESIDENCY_MIGRATION`, `RESIDENCY_TENANT`, `RESIDENCY_FROM_REGION`, `RESIDENCY_FROM_SITE`,
/// `RESIDENCY_TO_REGION`, `RESIDENCY_TO_SITE`, `RESIDENCY_STEP` (copying | syncing | verifying | cleaning |
/// rolling_back), `RESIDENCY_PHASE` (bulk | final, for export and import) and, for purge,
/// `RESIDENCY_PURGE_REGION` (the source after cutover, the target on rollback).
struct CommandMover: DataMover {
    let configuration: CommandMoverConfiguration
    var name: String { configuration.name }

    /// Output kept in the step log: the tail, which is where errors are.
    static let outputLimit = 4096

    func copy(_ migration: inout Migration) throws -> JSONValue {
        let exported = try run(configuration.export, "export", migration, extra: ["RESIDENCY_PHASE": "bulk"])
        let imported = try run(configuration.importCommand, "import", migration, extra: ["RESIDENCY_PHASE": "bulk"])
        return .object([("export", exported), ("import", imported)])
    }

    func sync(_ migration: inout Migration) throws -> JSONValue {
        let exported = try run(configuration.export, "export", migration, extra: ["RESIDENCY_PHASE": "final"])
        let imported = try run(configuration.importCommand, "import", migration, extra: ["RESIDENCY_PHASE": "final"])
        return .object([("export", exported), ("import", imported)])
    }

    func verify(_ migration: inout Migration) throws -> JSONValue {
        .object([("verify", try run(configuration.verify, "verify", migration))])
    }

    func purgeSource(_ migration: Migration) throws -> JSONValue {
        .object([
            (
                "purge",
                try run(
                    configuration.purge, "purge", migration, extra: ["RESIDENCY_PURGE_REGION": migration.fromRegion])
            )
        ])
    }

    func discardTarget(_ migration: Migration) throws -> JSONValue {
        .object([
            (
                "purge",
                try run(configuration.purge, "purge", migration, extra: ["RESIDENCY_PURGE_REGION": migration.toRegion])
            )
        ])
    }

    /// Runs one command to completion (or until its timeout) and returns its exit status and output tail.
    func run(
        _ command: String, _ label: String, _ migration: Migration, extra: [String: String] = [:]
    ) throws
        -> JSONValue
    {
        var variables = [
            "RESIDENCY_MIGRATION": migration.id, "RESIDENCY_TENANT": migration.tenant,
            "RESIDENCY_FROM_REGION": migration.fromRegion, "RESIDENCY_FROM_SITE": migration.fromSite,
            "RESIDENCY_TO_REGION": migration.toRegion, "RESIDENCY_TO_SITE": migration.toSite,
            "RESIDENCY_STEP": migration.state.rawValue,
        ]
        for (key, value) in extra { variables[key] = value }
        return try run(command, label, variables: variables)
    }

    /// Runs one command with the move described by `variables` in its environment (a regional service builds
    /// them from its migration order).
    func run(_ command: String, _ label: String, variables: [String: String]) throws -> JSONValue {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in variables { environment[key] = value }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        process.standardInput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw MoverError(mover: name, command: label, message: "could not start /bin/sh: \(error)")
        }
        let timeout = DispatchWorkItem { [process] in if process.isRunning { process.terminate() } }
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(configuration.timeoutSeconds), execute: timeout)
        // Read before waiting: a command that fills the pipe would otherwise block forever.
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timeout.cancel()
        let tail = String(decoding: bytes.suffix(Self.outputLimit), as: UTF8.self)
        let status = process.terminationStatus
        let timedOut = process.terminationReason == .uncaughtSignal && status == SIGTERM
        guard process.terminationReason == .exit, status == 0 else {
            throw MoverError(
                mover: name, command: label,
                message: timedOut
                    ? "timed out after \(configuration.timeoutSeconds) s"
                    : "\(process.terminationReason == .exit ? "exited with status" : "killed by signal") \(status): "
                        + tail.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return .object([("status", .integer(Int(status))), ("output", .string(tail))])
    }
}

/// A mover's step failed: which mover, which command, and what it said.
struct MoverError: Error, CustomStringConvertible {
    let mover: String
    let command: String
    let message: String
    var description: String { "mover \(mover): \(command): \(message)" }
}
