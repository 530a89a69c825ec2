import Foundation
import ResidencyCore
import Testing

@testable import ResidencyCLI

@Suite struct GeoCommandTests {
    @Test func lookupPrintsTSVWithDashesForWhatIsAbsent() {
        let run = CLIRun.run(["geo", "lookup", "81.2.69.160", "10.0.0.1", "2001:db8::1"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output == "81.2.69.160\tGB\t-\t-\n10.0.0.1\t-\t-\t-\n2001:db8::1\t-\t-\t-\n")
    }

    @Test func badAddressesAreReportedWithTheirLineAndTheRunGoesOn() {
        let run = CLIRun.run(["geo", "lookup", "-"], input: ["8.8.8.8", "1.2.3", "", "fe80::1%eth0", "41.0.0.1"])
        #expect(run.status == 1)
        #expect(run.output == "8.8.8.8\tUS\t-\t-\n41.0.0.1\tZA\t-\t-\n")
        #expect(run.error.contains("stdin line 2: invalid IP address \"1.2.3\""))
        #expect(run.error.contains("stdin line 4: invalid IP address \"fe80::1%eth0\": zone ids"))
        #expect(run.error.contains("Error: 2 invalid addresses"))
    }

    @Test func lookupAsJSONLines() throws {
        let run = CLIRun.run(["geo", "lookup", "--format", "json", "8.8.8.8", "192.168.1.1"])
        #expect(run.status == 0)
        let lines = run.output.split(separator: "\n").map { try? JSONParser.parse(String($0)) }
        #expect(lines.count == 2)
        #expect(lines[0]?["country"] == .string("US"))
        #expect(lines[1]?["country"] == .null)
        #expect(lines[1]?["note"] == .string("not locatable: private network (RFC 1918) 192.168.0.0/16"))
    }

    @Test func anotherDatabaseCanBeChosen() {
        let missing = CLIRun.run(["geo", "lookup", "--geoip", "/nonexistent.mmdb", "8.8.8.8"])
        #expect(missing.status == 1)
        #expect(missing.error.contains("cannot open MaxMind DB /nonexistent.mmdb"))
        let city = CLIRun.root
            .appendingPathComponent("Tests/Fixtures/geo/maxmind-test-data/test-data/GeoIP2-City-Test.mmdb").path
        let run = CLIRun.run(["geo", "lookup", "--geoip", city, "81.2.69.160"])
        #expect(run.status == 0)
        #expect(run.output == "81.2.69.160\tGB\t51.5142\t-0.0931\n")
        let fromEnvironment = CLIRun.run(["geo", "lookup", "81.2.69.160"], environment: ["RESIDENCY_GEOIP": city])
        #expect(fromEnvironment.output == run.output)
    }

    @Test func verifyChecksTheShippedDatabase() {
        let run = CLIRun.run(["geo", "verify"])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.output.contains("DBIP-Country-Lite, IPv6, 1367620 nodes, 24-bit records"))
        let bad = CLIRun.root
            .appendingPathComponent("Tests/Fixtures/geo/maxmind-test-data/bad-data/maxminddb-golang/cyclic-data-structure.mmdb")
            .path
        let refused = CLIRun.run(["geo", "verify", "--geoip", bad])
        #expect(refused.status == 1)
        #expect(refused.error.hasPrefix("Error: invalid MaxMind DB"))
    }

    @Test func placeExplainsAndExitsByOutcome() throws {
        let placed = CLIRun.run(["place", "--ip", "81.2.69.160", "--format", "json", "--data", "/nonexistent-data-dir"])
        #expect(placed.status == 0, "\(placed.error)")
        let decision = try JSONParser.parse(placed.output)
        #expect(decision["region"] == .string("uk"))
        #expect(decision["site"] == .string("uk-london"))
        #expect(decision["geolocated_country"] == .string("GB"))

        let refused = CLIRun.run(["place", "--country", "FR", "--region", "us", "--data", "/nonexistent-data-dir"])
        #expect(refused.status == 1)
        #expect(refused.output.contains("refused:  region_not_permitted (rule eea-in-eu)"))
        #expect(refused.output.contains("2. mandatory_region: customers from FR must be hosted in eu"))
    }

    @Test(arguments: [
        (["place", "--ip", "1.2.3.256"], "--ip: invalid IP address \"1.2.3.256\""),
        (["place", "--country", "XX"], "--country: \"XX\" is not an ISO 3166-1 alpha-2 country code"),
        (["place", "--region", "atlantis"], "--region: unknown region \"atlantis\"; accepted: africa"),
        (["place", "--plan", "gold"], "--plan: \"gold\"; accepted: trial, free, paid"),
    ])
    func placeRejectsBadInputAsUsage(arguments: [String], message: String) {
        let run = CLIRun.run(arguments + ["--data", "/nonexistent-data-dir"])
        #expect(run.status == 64)
        #expect(run.error.contains(message), "\(run.error)")
    }

    /// The real binary, over a real pipe: what a shell script would do.
    @Test func realBinaryReadsStandardInput() throws {
        let binary = CLIRun.root.appendingPathComponent(".build/debug/residency")
        try #require(FileManager.default.isExecutableFile(atPath: binary.path), "build the residency product first")
        let process = Process()
        process.executableURL = binary
        process.arguments = ["geo", "lookup", "-"]
        process.currentDirectoryURL = CLIRun.root
        let input = Pipe()
        let output = Pipe()
        let error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        input.fileHandleForWriting.write(Data("81.2.69.160\nnot-an-ip\n2a00:1450:4001:80b::200e\n".utf8))
        try input.fileHandleForWriting.close()
        let stdout = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1)
        #expect(stdout == "81.2.69.160\tGB\t-\t-\n2a00:1450:4001:80b::200e\tDE\t-\t-\n")
        #expect(stderr.contains("stdin line 2: invalid IP address \"not-an-ip\""))
    }
}
