import Foundation
import ResidencyController
import ResidencyCore
import Synchronization
import Testing

@testable import ResidencyCLI

/// Runs the CLI in-process with captured output.
struct CLIRun {
    let status: Int32
    let output: String
    let error: String

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func run(
        _ arguments: [String], directory: URL = root, environment: [String: String] = [:], input: [String] = []
    )
        -> CLIRun
    {
        let out = Mutex("")
        let err = Mutex("")
        let lines = Mutex(input[...])
        let context = CommandContext(
            standardOutput: { text in out.withLock { $0 += text } },
            standardError: { text in err.withLock { $0 += text } },
            readLine: { lines.withLock { $0.popFirst() } },
            locator: ResourceLocator(environment: environment, currentDirectory: directory, executable: nil))
        let status = ResidencyCommand.main(arguments, context: context)
        return CLIRun(status: status, output: out.withLock { $0 }, error: err.withLock { $0 })
    }
}

@Suite struct CLITests {
    @Test func helpListsSubcommands() {
        let run = CLIRun.run(["--help"])
        #expect(run.status == 0)
        #expect(run.output.contains("OVERVIEW: Multi-region hosting"))
        #expect(run.output.contains("SUBCOMMANDS:"))
        #expect(run.output.contains("regions"))
        #expect(CLIRun.run(["help", "regions", "show"]).output.contains("USAGE: residency regions show"))
        #expect(CLIRun.run(["regions", "help", "list"]).output.contains("USAGE: residency regions list"))
        #expect(
            CLIRun.run(["policies", "validate", "--help"]).output.contains("OVERVIEW: Validate Regions/ and Policies/"))
    }

    @Test func versionNamesTheLibraries() {
        let run = CLIRun.run(["version"])
        #expect(run.status == 0)
        #expect(run.output.hasPrefix("residency "))
        #expect(run.output.contains("SQLite 3."))
        #expect(run.output.contains("OpenSSL"))
    }

    @Test func regionsListAsJSON() throws {
        let run = CLIRun.run(["regions", "list", "--format", "json"])
        #expect(run.status == 0)
        let value = try JSONParser.parse(run.output)
        guard case .array(let regions) = value else {
            Issue.record("expected an array")
            return
        }
        #expect(regions.count == 8)
        let ids = regions.compactMap { region -> String? in
            if case .string(let id) = region["id"] { return id }
            return nil
        }
        #expect(Set(ids) == ["eu", "uk", "us", "india", "singapore", "australia", "africa", "uae"])
        for region in regions {
            guard case .array(let sites) = region["sites"] else {
                Issue.record("region without sites")
                continue
            }
            #expect(!sites.isEmpty)
            for site in sites { #expect(site["latitude"] != nil && site["provider"] != nil) }
        }
    }

    @Test func regionsShowTableAndUnknownRegion() {
        let eu = CLIRun.run(["regions", "show", "eu"])
        #expect(eu.status == 0)
        #expect(eu.output.contains("eu-ie-dublin"))
        #expect(eu.output.contains("eu-de-frankfurt"))
        let mars = CLIRun.run(["regions", "show", "mars"])
        #expect(mars.status == 1)
        #expect(mars.error.contains("unknown region 'mars'; known regions: africa, australia, eu"))
    }

    @Test func usageErrorsExit64() {
        let cases: [([String], String)] = [
            (["regions", "list", "--format", "xml"], "invalid value 'xml' for '--format'; accepted: table, json"),
            (["regions", "list", "--colour"], "unknown option '--colour'"),
            (["regions", "show"], "missing <id>"),
            (["regions", "show", "eu", "uk"], "unexpected argument 'uk'"),
            (["teleport"], "unknown command 'teleport'"),
            (["regions"], "missing subcommand"),
            (["regions", "list", "--format"], "option '--format' needs a value"),
        ]
        for (arguments, message) in cases {
            let run = CLIRun.run(arguments)
            #expect(run.status == 64, "\(arguments)")
            #expect(run.error.contains(message), "\(arguments): \(run.error)")
        }
    }

    @Test func validatePassesOnShippedFiles() {
        let run = CLIRun.run(["policies", "validate"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("valid: 8 regions"))
        #expect(run.output.contains("policy version: "))
    }

    @Test func validateFailsOnABrokenCopyAndListsEveryProblem() throws {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("residency-cli-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: copy) }
        try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
        try FileManager.default.copyItem(
            at: CLIRun.root.appendingPathComponent("Policies"), to: copy.appendingPathComponent("Policies"))
        let residency = copy.appendingPathComponent("Policies/residency.json")
        var text = try String(contentsOf: residency, encoding: .utf8)
        text = text.replacingOccurrences(of: "\"region\": \"india\"", with: "\"region\": \"atlantis\"")
        text = text.replacingOccurrences(of: "\"countries\": [\"MN\"]", with: "\"countries\": [\"ZZ\"]")
        try text.write(to: residency, atomically: true, encoding: .utf8)

        let run = CLIRun.run([
            "policies", "validate", "--policies", copy.appendingPathComponent("Policies").path,
        ])
        #expect(run.status == 1)
        #expect(run.error.contains("residency.json: $.mandatory[1].region: \"atlantis\": is not a region"))
        #expect(
            run.error.contains(
                "residency.json: $.overrides[1].countries[0]: \"ZZ\": is not an ISO 3166-1 alpha-2 country code"))
        #expect(run.error.contains("Error: 2 problems found"))
    }

    @Test func directoriesComeFromTheEnvironment() throws {
        let elsewhere = FileManager.default.temporaryDirectory
        let missing = CLIRun.run(["regions", "list"], directory: elsewhere)
        #expect(missing.status == 1)
        #expect(missing.error.contains("cannot find the Regions/ directory"))
        let found = CLIRun.run(
            ["regions", "list"], directory: elsewhere,
            environment: ["RESIDENCY_REGIONS": CLIRun.root.appendingPathComponent("Regions").path])
        #expect(found.status == 0)
        let wrong = CLIRun.run(
            ["regions", "list"], directory: elsewhere, environment: ["RESIDENCY_REGIONS": "/nonexistent"])
        #expect(wrong.error.contains("/nonexistent (from $RESIDENCY_REGIONS) does not exist"))
    }
}
