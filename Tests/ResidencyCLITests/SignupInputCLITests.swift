import Foundation
import Testing

@testable import ResidencyCLI

/// The table of `ResidencyServerTests/SignupInputAPITests.swift`: the command line says after `--field` what the
/// API says after `$.field`.
let badSignupOptions: [(field: String, value: String, message: String)] = [
    ("plan", "gold", #""gold": is not a plan; accepted: trial, free, paid"#),
    (
        "country", "XX",
        #""XX": is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as "DE", "GB", "US""#
    ),
    (
        "country", "de",
        #""de": is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as "DE", "GB", "US""#
    ),
    ("region", "atlantis", #""atlantis": is not a region; accepted: africa, "#),
    ("ip", "1.2.3.256", #"invalid IP address "1.2.3.256""#),
]

@Suite struct SignupInputCLITests {
    @Test(arguments: badSignupOptions)
    func tenantsCreateAndPlaceSayWhatTheAPISays(field: String, value: String, message: String) throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("signup-input-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let plan = field == "plan" ? [] : ["--plan", "free"]
        let create = CLIRun.run(
            ["tenants", "create", "--name", "A"] + plan + ["--\(field)", value, "--data", data.path])
        #expect(create.status == 64)
        #expect(create.error.contains("--\(field): \(message)"), "\(create.error)")
        let place = CLIRun.run(["place", "--\(field)", value, "--data", data.path])
        #expect(place.status == 64)
        #expect(place.error.contains("--\(field): \(message)"), "\(place.error)")
    }

    @Test func tenantsCreateRequiresAPlanAsTheAPIDoes() {
        let run = CLIRun.run(["tenants", "create", "--name", "A", "--data", "/nonexistent-signup-data"])
        #expect(run.status == 64)
        #expect(run.error.contains("missing --plan"), "\(run.error)")
    }

    @Test func aBlankNameIsRefusedAsTheAPIRefusesIt() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("signup-input-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let run = CLIRun.run(["tenants", "create", "--name", "  ", "--plan", "free", "--data", data.path])
        #expect(run.status == 64)
        #expect(run.error.contains(#"--name: "  ": must not be empty"#), "\(run.error)")
    }
}
