import Foundation
import Testing

/// Whether this machine can drive a real browser: Debian's chromium and chromium-driver, and selenium for python3
/// (all installed by .ci/run).
enum ConsoleBrowser {
    static var isCI: Bool { ProcessInfo.processInfo.environment["CI"] == "true" }

    static let isAvailable: Bool = {
        let files = ["/usr/bin/chromium", "/usr/bin/chromedriver"]
        guard files.allSatisfy(FileManager.default.isExecutableFile(atPath:)) else { return false }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        guard (try? probe.run()) != nil else { return false }
        probe.waitUntilExit()
        return probe.terminationStatus == 0
    }()
}

/// The console in headless Chromium driven over WebDriver (Scripts/console-browser.py) against two real
/// `residency serve` processes: sign-in, an approval made from the keyboard and found in the cross-border report, a
/// support session with no approve button whose hand-made POST is refused, a form stripped of its CSRF token refused,
/// an idle session sent back to sign-in, a tenant administrator confined to its tenant, hostile text shown as text,
/// and screenshots of every page at 1280 px and 390 px under bench-output/console/. Under CI=true a missing driver
/// fails the test instead of skipping it.
@Suite(.serialized) struct ConsoleBrowserTests {
    @Test(
        .enabled(if: ConsoleBrowser.isAvailable || ConsoleBrowser.isCI, "needs chromium, chromium-driver and selenium"))
    func theConsoleWorksInARealBrowser() throws {
        try #require(
            ConsoleBrowser.isAvailable,
            "CI=true and no browser to drive: .ci/run installs chromium, chromium-driver and selenium (python3 -m pip)")
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let short = try ServerProcess(extraArguments: ["--console-idle-timeout", "1"])
        defer { _ = short.stop() }
        let shots = CLIRun.root.appendingPathComponent("bench-output/console")
        try? FileManager.default.removeItem(at: shots)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", CLIRun.root.appendingPathComponent("Scripts/console-browser.py").path]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "BASE": "http://127.0.0.1:\(server.port)", "SHORT_BASE": "http://127.0.0.1:\(short.port)",
            "RESIDENCY": ServerProcess.binary.path, "DATA": server.data.path, "SHORT_DATA": short.data.path,
            "SHOTS": shots.path,
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, "\(text.suffix(4000))")
        #expect(text.contains("browser checks passed"))
        #expect(text.contains("ok: approved from the keyboard"))
        #expect(text.contains("ok: a support session's hand-made approval is refused"))
        #expect(text.contains("ok: an expired session goes back to sign-in"))
        // Every page, at both widths, as PNG files.
        let files = (try? FileManager.default.contentsOfDirectory(atPath: shots.path)) ?? []
        for page in [
            "sign-in", "overview", "access", "tenants", "tenant", "migrations", "migration-preview", "migration",
            "plan",
            "reports", "report-cross-border", "ledger", "refused",
        ] {
            for width in ["desktop", "phone"] {
                let name = "\(page)-\(width).png"
                #expect(files.contains(name), "no screenshot \(name)")
                let data = (try? Data(contentsOf: shots.appendingPathComponent(name))) ?? Data()
                #expect(data.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name) is not a PNG")
            }
        }
    }
}

/// The console's session limits on `serve`: out-of-range values are refused with what is accepted.
@Suite struct ConsoleServeOptionTests {
    @Test(arguments: [
        ("--console-idle-timeout", "0", "1-86400"), ("--console-idle-timeout", "soon", "1-86400"),
        ("--console-session-lifetime", "604801", "1-604800"),
    ])
    func outOfRangeSessionLimitsAreRefused(option: String, value: String, accepted: String) {
        let run = CLIRun.run(["serve", "--listen", "127.0.0.1:0", option, value])
        #expect(run.status == 64)
        #expect(run.error.contains("\(option): \"\(value)\"; accepted: seconds, \(accepted)"), "\(run.error)")
    }
}
