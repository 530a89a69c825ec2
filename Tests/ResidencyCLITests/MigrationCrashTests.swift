import Foundation
import Testing

/// Crash safety with the real binary: the migration process kills itself with SIGKILL at a step
/// (`RESIDENCY_FAULT`), then `migrations resume` runs in a fresh process. Afterwards the tenant's data is
/// whole and identical to before, it lives in exactly one region (the one the directory names), it is
/// writable, and the ledger verifies.
@Suite struct MigrationCrashTests {
    struct Outcome {
        let status: Int32
        let killed: Bool
        let output: String
    }

    final class Sandbox {
        let directory: URL
        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-crash-\(UUID())")
            // Its owner's alone, as residency requires of a data directory made beforehand.
            try FileManager.default.createDirectory(
                at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        deinit { try? FileManager.default.removeItem(at: directory) }

        @discardableResult
        func run(_ arguments: [String], fault: String? = nil) throws -> Outcome {
            let process = Process()
            process.executableURL = ServerProcess.binary
            process.arguments = arguments + ["--data", directory.path]
            var environment = ProcessInfo.processInfo.environment
            environment["RESIDENCY_FAULT"] = fault
            environment["RESIDENCY_REGIONS"] = CLIRun.root.appendingPathComponent("Regions").path
            environment["RESIDENCY_POLICIES"] = CLIRun.root.appendingPathComponent("Policies").path
            process.environment = environment
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let bytes = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Outcome(
                status: process.terminationStatus,
                killed: process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL,
                output: String(decoding: bytes, as: UTF8.self))
        }

        func json(_ arguments: [String]) throws -> Any {
            let outcome = try run(arguments)
            #expect(outcome.status == 0, "\(arguments): \(outcome.output)")
            return try JSONSerialization.jsonObject(with: Data(outcome.output.utf8))
        }

        /// A tenant in the UK with contacts, an account and a 300 KB document.
        func tenant() throws -> (id: String, digest: String) {
            let created = try run(["tenants", "create", "--plan", "paid", "--name", "Crash Ltd", "--country", "GB"])
            let id = String(created.output.split(separator: " ")[0])
            for index in 0..<5 {
                try run([
                    "data", "put", "--tenant", id, "--collection", "contacts", "--key", "c\(index)", "--json",
                    #"{"name": "Contact \#(index)", "email": "c\#(index)@example.com"}"#,
                ])
            }
            let body = Data((0..<300_000).map { UInt8($0 % 253) }).base64EncodedString()
            let file = directory.appendingPathComponent("document.json")
            try Data(#"{"name": "big.bin", "content_type": "application/octet-stream", "body": "\#(body)"}"#.utf8)
                .write(to: file)
            let put = try run([
                "data", "put", "--tenant", id, "--collection", "documents", "--key", "big.bin", "--json",
                "@\(file.path)",
            ])
            #expect(put.status == 0, "\(put.output)")
            try run([
                "data", "put", "--tenant", id, "--collection", "accounts", "--key", "main", "--json",
                #"{"name": "Main", "balance_cents": 4200, "currency": "GBP"}"#,
            ])
            return (id, try run(["data", "digest", "--tenant", id]).output)
        }

        func regionsHolding(_ tenant: String) -> [String] {
            let regions = directory.appendingPathComponent("regions")
            let names = (try? FileManager.default.contentsOfDirectory(atPath: regions.path)) ?? []
            return names.filter {
                FileManager.default.fileExists(
                    atPath: regions.appendingPathComponent("\($0)/tenants/\(tenant).sqlite3").path)
            }.sorted()
        }

        func checkWholeAndSingle(_ tenant: String, digest: String, expectedRegion: String) throws {
            let entry = try json(["tenants", "show", tenant]) as? [String: Any]
            #expect(entry?["region"] as? String == expectedRegion)
            #expect(regionsHolding(tenant) == [expectedRegion])
            #expect(try run(["data", "digest", "--tenant", tenant]).output == digest)
            let write = try run([
                "data", "put", "--tenant", tenant, "--collection", "contacts", "--key", "after", "--json",
                #"{"name": "After the crash"}"#,
            ])
            #expect(write.status == 0, "\(write.output)")
            let verify = try run(["ledger", "verify"])
            #expect(verify.status == 0, "\(verify.output)")
        }
    }

    static let forwardFaults: [String] = ["copying", "frozen", "syncing", "verifying", "cutover", "cleaning"].flatMap {
        ["\($0):before", "\($0):after"]
    }

    @Test(arguments: forwardFaults)
    func aCrashAtAnyStepIsResumedToCompletion(fault: String) throws {
        let sandbox = try Sandbox()
        let (tenant, digest) = try sandbox.tenant()
        let crashed = try sandbox.run(
            ["migrations", "request", "--tenant", tenant, "--to", "eu", "--reason", "crash test", "--approve"],
            fault: fault)
        #expect(crashed.killed, "expected SIGKILL at \(fault): \(crashed.output)")
        let resumed = try sandbox.run(["migrations", "resume"])
        #expect(resumed.status == 0, "\(resumed.output)")
        #expect(resumed.output.contains("completed"))
        let migrations = try sandbox.json(["migrations", "list", "--format", "json"]) as? [[String: Any]]
        #expect(migrations?.count == 1 && migrations?.first?["state"] as? String == "completed")
        try sandbox.checkWholeAndSingle(tenant, digest: digest, expectedRegion: "eu")
        // A second resume finds nothing to do.
        #expect(try sandbox.run(["migrations", "resume"]).output.contains("no interrupted migrations"))
    }

    @Test(arguments: ["rolling_back:before", "rolling_back:after"])
    func aCrashDuringRollbackIsResumedToCancelled(fault: String) throws {
        let sandbox = try Sandbox()
        let (tenant, digest) = try sandbox.tenant()
        // Stop the first run after the freeze, then cancel: the cancel's rollback is killed in turn.
        let first = try sandbox.run(
            ["migrations", "request", "--tenant", tenant, "--to", "eu", "--reason", "crash test", "--approve"],
            fault: "frozen:after")
        #expect(first.killed)
        let migrations = try sandbox.json(["migrations", "list", "--format", "json"]) as? [[String: Any]]
        let id = try #require(migrations?.first?["id"] as? String)
        let cancelled = try sandbox.run(["migrations", "cancel", id], fault: fault)
        #expect(cancelled.killed, "\(cancelled.output)")
        let resumed = try sandbox.run(["migrations", "resume"])
        #expect(resumed.output.contains("cancelled"), "\(resumed.output)")
        try sandbox.checkWholeAndSingle(tenant, digest: digest, expectedRegion: "uk")
    }
}

@Suite struct AuditCommandTests {
    @Test func auditExitsOneWhenDataIsWhereItMustNotBe() throws {
        let sandbox = try MigrationCrashTests.Sandbox()
        let (tenant, _) = try sandbox.tenant()
        let clean = try sandbox.run(["audit"])
        #expect(clean.status == 0, "\(clean.output)")
        #expect(clean.output.contains("no violations"))
        let inventory = sandbox.directory.appendingPathComponent("inventory.csv")
        try Data("tenant,data_class,location,store\n\(tenant),backups,US,offsite-tapes\n".utf8).write(to: inventory)
        let dirty = try sandbox.run(["audit", "--inventory", inventory.path])
        #expect(dirty.status == 1)
        #expect(dirty.output.contains("residency_violation") && dirty.output.contains("offsite-tapes (line 2)"))
        try Data("tenant,data_class\n".utf8).write(to: inventory)
        let malformed = try sandbox.run(["audit", "--inventory", inventory.path])
        #expect(malformed.status == 1 && malformed.output.contains("line 1: the header must be"))
    }
}
