import Foundation
import Testing

/// A command that only reads, run against a folder with no data directory, says where it looked and creates
/// nothing (it used to create `./residency-data` and print an empty table, as if the system were empty).
@Suite struct ReadOnlyCommandTests {
    static let readers: [[String]] = [
        ["tenants", "list"], ["tenants", "show", "tn_0193a2b4c5d6e7f8091a2b"], ["lifecycle", "plan"],
        ["ledger", "entries"], ["ledger", "verify"], ["ledger", "checkpoint"], ["ledger", "prove", "0"],
        ["ledger", "public-key"], ["report", "cross-border"], ["report", "residency-map"], ["audit"],
        ["migrations", "list"], ["migrations", "show", "mg_1"], ["migrations", "plan", "--from", "uk", "--to", "eu"],
        ["access", "list"], ["access", "show", "ar_1"], ["tokens", "list"], ["tokens", "revoke", "me"],
        ["data", "get", "--tenant", "tn_1", "--collection", "contacts", "--key", "k"],
        ["data", "list", "--tenant", "tn_1", "--collection", "contacts"], ["data", "digest", "--tenant", "tn_1"],
    ]

    static let environment = [
        "RESIDENCY_REGIONS": CLIRun.root.appendingPathComponent("Regions").path,
        "RESIDENCY_POLICIES": CLIRun.root.appendingPathComponent("Policies").path,
    ]

    @Test(arguments: readers) func aReaderRefusesAMissingDataDirectory(_ arguments: [String]) throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residency-elsewhere-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let expected = folder.appendingPathComponent("residency-data").path
        let run = CLIRun.run(arguments, directory: folder, environment: Self.environment)
        #expect(run.status == 1, "\(arguments): \(run.error)")
        #expect(run.error.contains("no data directory at \(expected); run a command that writes"), "\(run.error)")
        #expect(!FileManager.default.fileExists(atPath: expected))
        // The same with --data naming a folder that is not there.
        let named = folder.appendingPathComponent("typo").path
        let explicit = CLIRun.run(arguments + ["--data", named], directory: folder, environment: Self.environment)
        #expect(explicit.status == 1)
        #expect(explicit.error.contains("no data directory at \(named)"))
        #expect(!FileManager.default.fileExists(atPath: named))
    }

    /// A command that writes still creates the directory on first use.
    @Test func aWriterCreatesIt() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("residency-first-\(UUID())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let run = CLIRun.run(
            ["tenants", "create", "--plan", "paid", "--name", "Ada", "--country", "GB"], directory: folder, environment: Self.environment)
        #expect(run.status == 0, "\(run.error)")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("residency-data").path))
        #expect(CLIRun.run(["tenants", "list"], directory: folder, environment: Self.environment).output.contains("Ada"))
    }
}
