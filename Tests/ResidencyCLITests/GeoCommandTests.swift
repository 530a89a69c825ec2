import Foundation
import ResidencyController
import ResidencyCore
import Synchronization
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
            .appendingPathComponent(
                "Tests/Fixtures/geo/maxmind-test-data/bad-data/maxminddb-golang/cyclic-data-structure.mmdb"
            )
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
        (["place", "--country", "XX"], "--country: \"XX\": is not an ISO 3166-1 alpha-2 country code"),
        (["place", "--country", "de"], "--country: \"de\": is not an ISO 3166-1 alpha-2 country code"),
        (["place", "--region", "atlantis"], "--region: \"atlantis\": is not a region; accepted: africa"),
        (["place", "--plan", "gold"], "--plan: \"gold\": is not a plan; accepted: trial, free, paid"),
    ])
    func placeRejectsBadInputAsUsage(arguments: [String], message: String) {
        let run = CLIRun.run(arguments + ["--data", "/nonexistent-data-dir"])
        #expect(run.status == 64)
        #expect(run.error.contains(message), "\(run.error)")
    }

    /// Standard input read in blocks (as the process reads it) answers byte for byte what reading it line by line
    /// answered, in both formats: 10,000 lines of random IPv4 and IPv6 addresses, private and special ranges,
    /// bad lines, blanks, CRLF endings, non-ASCII, read in blocks of random sizes that split lines anywhere.
    @Test(arguments: [GeoCommand.Format.tsv, .json])
    func readingInBlocksAnswersWhatReadingLinesDid(format: GeoCommand.Format) {
        var random = SplitMix(seed: 23)
        let odd = [
            "1.2.3", "256.1.1.1", "01.2.3.4", "", "   ", "  8.8.8.8  ", "\t41.0.0.1", "fe80::1%eth0", "not-an-ip",
            "10.1.2.3", "192.168.0.1", "127.0.0.1", "::1", "::ffff:81.2.69.160", "2002:5102:45a0::1",
            "2A00:1450:4001:80B::200E", "8.8.8.8\u{00A0}", "\u{2003}8.8.4.4", "ü", "1.2.3.4/24", "[::1]", "1.2.3.4 5",
            "1.2.3.4\0", "2001:db8::1", "100.64.0.1", "0.0.0.0", "255.255.255.255",
        ]
        var lines: [String] = []
        var endings: [String] = []
        for _ in 0..<10_000 {
            switch random.next() % 10 {
            case 0: lines.append(odd[Int(random.next() % UInt64(odd.count))])
            case 1:
                let groups = (0..<8).map { _ in String(random.next() % 0x10000, radix: 16) }
                lines.append(groups.joined(separator: ":"))
            default: lines.append(IPAddress.v4(UInt32(truncatingIfNeeded: random.next())).description)
            }
            endings.append(random.next() % 7 == 0 ? "\r\n" : "\n")
        }
        endings[endings.count - 1] = ""
        let arguments = ["geo", "lookup", "--format", format.rawValue, "-"]
        let byLine = CLIRun.run(arguments, input: lines)
        var bytes: [UInt8] = []
        for (line, ending) in zip(lines, endings) { bytes += Array((line + ending).utf8) }
        let byBlock = CLIRun.run(arguments, bytes: bytes, blockSizes: &random)
        #expect(byLine.status == 1)
        #expect(byLine.error.contains("stdin line "))
        #expect(byLine.output.split(separator: "\n").count > 8_000)
        #expect(byBlock.status == byLine.status)
        #expect(byBlock.output == byLine.output)
        #expect(byBlock.error == byLine.error)
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

/// A small seeded generator (SplitMix64), so a failing run can be repeated.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension CLIRun {
    /// Runs the CLI in-process with `bytes` as standard input, handed over in blocks of random sizes (1 to
    /// 9,000 bytes), and standard output taken as bytes.
    static func run(_ arguments: [String], bytes: [UInt8], blockSizes random: inout SplitMix) -> CLIRun {
        var sizes: [Int] = []
        var total = 0
        while total < bytes.count {
            let size = 1 + Int(random.next() % 9_000)
            sizes.append(size)
            total += size
        }
        let input = Mutex((bytes: bytes, offset: 0, sizes: sizes[...]))
        let out = Mutex([UInt8]())
        let err = Mutex("")
        let context = CommandContext(
            standardOutput: { text in out.withLock { $0 += Array(text.utf8) } },
            standardError: { text in err.withLock { $0 += text } },
            readLine: {
                Issue.record("read by lines"); return nil
            },
            locator: ResourceLocator(environment: [:], currentDirectory: root, executable: nil),
            readInput: { buffer in
                input.withLock { input in
                    let size = min(
                        buffer.count, input.sizes.popFirst() ?? buffer.count, input.bytes.count - input.offset)
                    input.bytes.withUnsafeBytes {
                        buffer.copyMemory(
                            from: UnsafeRawBufferPointer(rebasing: $0[input.offset..<(input.offset + size)]))
                    }
                    input.offset += size
                    return size
                }
            },
            writeOutput: { bytes in out.withLock { $0 += Array(bytes) } })
        let status = ResidencyCommand.main(arguments, context: context)
        return CLIRun(
            status: status, output: String(decoding: out.withLock { $0 }, as: UTF8.self), error: err.withLock { $0 })
    }
}
