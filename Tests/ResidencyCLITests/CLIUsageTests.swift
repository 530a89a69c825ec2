import Foundation
import ResidencyCore
import Testing

@testable import ResidencyCLI

/// The command line as a new user meets it: usage lines, exit statuses and what each command prints.
@Suite struct CLIUsageTests {
    /// A scratch data directory and the flags that point a command at it.
    struct Scratch {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("residency-cli-\(UUID())")
        var flags: [String] { ["--data", data.path] }

        func run(_ arguments: [String]) -> CLIRun { CLIRun.run(arguments + flags) }

        func tenant(_ country: String = "GB", name: String = "Ada Ltd") throws -> String {
            let run = run(["tenants", "create", "--plan", "paid", "--name", name, "--country", country])
            guard run.status == 0, let id = run.output.split(separator: " ").first else {
                throw FixtureFailure("tenants create: \(run.error)")
            }
            return String(id)
        }
    }

    @Test func everyMissingRequiredFlagIsReportedAtOnce() {
        let run = CLIRun.run(["migrations", "request"])
        #expect(run.status == 64)
        #expect(run.error.contains("Error: missing --tenant, --to, --reason"))
        #expect(run.error.contains("Usage: residency migrations request --tenant <id> --to <region> --reason <text> ["))
        let event = CLIRun.run(["access", "event", "--request", "ar_1"])
        #expect(event.error.contains("missing --staff-id, --country, --method, --resource, --data-class"))
        let both = CLIRun.run(["access", "approve", "--as", "x"])
        #expect(both.error.contains("missing --reason, <id>"))
    }

    @Test func helpShowsRequiredFlagsTheExitRuleTheRolesAndTheFields() {
        let help = CLIRun.run(["help", "migrations", "request"]).output
        #expect(help.contains("USAGE: residency migrations request --tenant <id> --to <region> --reason <text> [--site"))
        #expect(help.contains("--tenant <id>           (required) The tenant."))
        let root = CLIRun.run(["--help"]).output
        #expect(root.contains("EXIT STATUS: 0 success; 1 the command ran and was refused or failed"))
        #expect(root.contains("64 the command line itself is wrong"))
        #expect(CLIRun.run(["help", "tokens", "create"]).output.contains("billing, application."))
        let put = CLIRun.run(["help", "data", "put"]).output
        for collection in TenantCollection.allCases {
            let fields = collection.fields.map { "\($0.name)\($0.required ? "*" : "")" }
            #expect(put.contains("\(collection.rawValue): \(fields[0]) ("), "\(put)")
            for field in fields { #expect(put.contains(field)) }
        }
    }

    @Test func customerApprovalTakesTenantAsAFlag() throws {
        let scratch = Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.data) }
        let tenant = try scratch.tenant()
        let on = scratch.run(["access", "customer-approval", "--tenant", tenant, "on"])
        #expect(on.status == 0, "\(on.error)")
        #expect(on.output == "customer approval on for \(tenant)\n")
        // The old positional form is refused as a usage error that names the flag.
        let old = scratch.run(["access", "customer-approval", tenant, "off"])
        #expect(old.status == 64)
        #expect(old.error.contains("missing --tenant"))
    }

    @Test func theEntityDefaultsToTheOfficesAndTenantsShowNamesAndReasons() throws {
        let scratch = Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.data) }
        let created = scratch.run(["tenants", "create", "--plan", "paid", "--name", "Ada Ltd", "--country", "IN"])
        #expect(created.status == 0)
        let lines = created.output.split(separator: "\n")
        #expect(lines.count > 2 && lines[1].hasPrefix("  1. ") && lines.contains { $0.contains("rule") })
        let tenant = String(lines[0].split(separator: " ")[0])
        #expect(scratch.run(["tenants", "list"]).output.contains("Ada Ltd"))
        let filed = scratch.run([
            "access", "request", "--tenant", tenant, "--staff-id", "s-1", "--role", "engineer", "--office", "berlin",
            "--country", "DE", "--justification", "customer_support", "--detail", "T-1", "--data-classes", "logs",
        ])
        #expect(filed.status == 0, "\(filed.error)")
        #expect(try JSONParser.parse(filed.output)["staff"]?["entity"] == .string("Residency Deutschland GmbH"))
    }

    @Test func dataPutPrintsASummaryNotTheBody() throws {
        let scratch = Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.data) }
        let tenant = try scratch.tenant()
        let body = Data(repeating: 0x41, count: 20_000).base64EncodedString()
        let put = scratch.run([
            "data", "put", "--tenant", tenant, "--collection", "documents", "--key", "d1", "--json",
            #"{"name": "big.txt", "content_type": "text/plain", "body": "\#(body)"}"#,
        ])
        #expect(put.status == 0, "\(put.error)")
        #expect(put.output.hasPrefix("stored documents/d1 for \(tenant): body, content_type, name ("))
        #expect(put.output.count < 200)
    }

    @Test func migrationsPrintTablesNameTheirRulesAndAFinishedPlanIsDone() throws {
        let scratch = Scratch()
        defer { try? FileManager.default.removeItem(at: scratch.data) }
        let tenant = try scratch.tenant()
        let refused = scratch.run(["migrations", "request", "--tenant", tenant, "--to", "us", "--reason", "cheaper"])
        #expect(refused.status == 1)
        #expect(refused.error.contains("(target_not_permitted, rule uk-choice)"), "\(refused.error)")
        let plan = scratch.data.appendingPathComponent("plan.json").path
        let planned = scratch.run(["migrations", "plan", "--from", "uk", "--to", "eu", "--output", plan])
        #expect(planned.status == 0, "\(planned.error)")
        let table = scratch.run(["migrations", "plan", "--from", "uk", "--to", "eu"])
        #expect(table.output.contains("TENANT") && table.output.contains("1 to move, 0 staying"))
        let first = scratch.run(["migrations", "run", plan])
        #expect(first.status == 0, "\(first.output)\(first.error)")
        #expect(first.output.contains(#""completed":1"#))
        // Run again: the tenant is already in eu — done, not refused.
        let again = scratch.run(["migrations", "run", plan])
        #expect(again.status == 0, "\(again.output)\(again.error)")
        #expect(again.output.contains(#""event":"in_place""#))
        #expect(again.output.contains(#""in_place":1"#) && again.output.contains(#""refused":0"#))
        let list = try JSONParser.parse(scratch.run(["migrations", "list", "--format", "json"]).output)
        guard case .array(let migrations) = list, case .string(let id)? = migrations.first?["id"] else {
            throw FixtureFailure("no migration listed")
        }
        let shown = scratch.run(["migrations", "show", id])
        #expect(shown.output.contains("state:       completed"))
        #expect(shown.output.contains("STEP") && shown.output.contains("cutover"))
        #expect(try JSONParser.parse(scratch.run(["migrations", "show", id, "--format", "json"]).output)["steps"] != nil)
    }
}
