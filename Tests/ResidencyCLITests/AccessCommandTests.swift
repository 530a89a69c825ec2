import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyCLI

@Suite struct AccessCommandTests {
    @Test func fullFlowFromTheCommandLine() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "residency-access-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        // A tenant to reach, created through the use case the API uses.
        let pool = try DatabasePool(directory: DataDirectory(data))
        let controller = try Controller(
            policies: try PolicySet.load(
                regions: CLIRun.root.appendingPathComponent("Regions"),
                policies: CLIRun.root.appendingPathComponent("Policies")),
            locator: nil, pool: pool, signer: try Ledger.loadOrCreateKey(in: data))
        let tenant = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("IN"))).tenant
        #expect(tenant.region == "india")

        let base = ["--data", data.path]
        let filed = CLIRun.run(
            [
                "access", "request", "--tenant", tenant.id, "--staff-id", "s-9", "--entity", "Residency Europe Ltd",
                "--role", "support engineer", "--office", "dublin", "--country", "IE", "--justification",
                "security_incident",
                "--detail", "INC-12", "--data-classes", "logs,customer_data", "--mode", "read", "--as", "desk",
            ] + base)
        #expect(filed.status == 0, "\(filed.error)")
        let request = try JSONParser.parse(filed.output)
        #expect(request["state"] == .string("pending"))
        #expect(request["transfer_basis"]?["mechanism"] == .string("local_law"))
        #expect(request["transfer_basis"]?["law"] == .string("Digital Personal Data Protection Act, 2023"))
        guard case .string(let id) = request["id"] ?? .null else { throw FixtureFailure("no id") }

        // The one who filed never decides, under any spelling the command line allows.
        let own = CLIRun.run(["access", "approve", id, "--reason", "mine", "--as", "desk"] + base)
        #expect(own.status == 1)
        #expect(own.error.contains("desk may not approve request \(id): desk filed it"), "\(own.error)")
        let staff = CLIRun.run(["access", "deny", id, "--reason", "mine", "--as", "s-9"] + base)
        #expect(staff.status == 1)
        #expect(staff.error.contains("is the staff member it is for"))
        #expect(CLIRun.run(["access", "approve", id, "--reason", "incident", "--hours", "2"] + base).status == 0)
        let used = CLIRun.run(
            [
                "access", "event", "--request", id, "--staff-id", "s-9", "--country", "IE", "--method", "ssh",
                "--resource", "logs/app", "--data-class", "logs",
            ] + base)
        #expect(used.status == 0, "\(used.error)")
        #expect(used.output.contains("allowed: event 1 on \(id) (active)"))
        let refused = CLIRun.run(
            [
                "access", "event", "--request", id, "--staff-id", "s-9", "--country", "IE", "--method", "ssh",
                "--resource", "backups/x", "--data-class", "backups",
            ] + base)
        #expect(refused.status == 1)
        #expect(refused.error.contains("outside the grant"))
        // The ledger keeps what the caller was told, so the report's refused line has its message (and rule).
        let report = try JSONParser.parse(CLIRun.run(["report", "cross-border"] + base).output)
        guard case .array(let refusals)? = report["refused"], let use = refusals.first(where: {
            $0["stage"] == .string("use")
        }) else { throw FixtureFailure("no refused use in the report") }
        guard case .string(let message)? = use["message"] else { throw FixtureFailure("no message") }
        #expect(message.contains("outside the grant"))
        let list = CLIRun.run(["access", "list", "--tenant", tenant.id] + base)
        #expect(list.output.contains("\(id)") && list.output.contains("active") && list.output.contains("local_law"))
        #expect(CLIRun.run(["access", "revoke", id, "--reason", "done"] + base).status == 0)
        #expect(
            CLIRun.run(["access", "deny", id, "--reason", "late"] + base).error.contains(
                "only pending requests can be decided"))
        #expect(CLIRun.run(["access", "request", "--tenant", tenant.id] + base).status == 64)
        #expect(CLIRun.run(["access", "customer-approval", "--tenant", tenant.id, "maybe"] + base).status == 64)
        #expect(CLIRun.run(["ledger", "verify"] + base).status == 0)
    }

    /// Customer approval its administrator required cannot be lifted from the command line (staff, not the
    /// tenant); the CLI's own setting can.
    @Test func theCommandLineCannotLiftTheTenantsCustomerApproval() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent(
            "residency-approval-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let controller = try Controller(
            policies: try PolicySet.load(
                regions: CLIRun.root.appendingPathComponent("Regions"),
                policies: CLIRun.root.appendingPathComponent("Policies")),
            locator: nil, pool: try DatabasePool(directory: DataDirectory(data)),
            signer: try Ledger.loadOrCreateKey(in: data))
        let tenant = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("DE"))).tenant
            .id
        let base = ["--data", data.path]
        #expect(CLIRun.run(["access", "customer-approval", "--tenant", tenant, "on"] + base).status == 0)
        #expect(CLIRun.run(["access", "customer-approval", "--tenant", tenant, "off"] + base).status == 0)
        try controller.access.setCustomerApproval(
            tenant: tenant, enabled: true, by: Caller(tokenName: "acme-admin", role: .compliance, tenant: tenant))
        let lifted = CLIRun.run(["access", "customer-approval", "--tenant", tenant, "off", "--as", "acme-admin"] + base)
        #expect(lifted.status == 1)
        #expect(lifted.error.contains("only the tenant's administrator (a token scoped to tenant \(tenant))"))
    }
}

@Suite struct CheckCommandTests {
    @Test func exitCodesFollowTheVerdict() throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("residency-check-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let controller = try Controller(
            policies: try PolicySet.load(
                regions: CLIRun.root.appendingPathComponent("Regions"),
                policies: CLIRun.root.appendingPathComponent("Policies")),
            locator: nil, pool: try DatabasePool(directory: DataDirectory(data)),
            signer: try Ledger.loadOrCreateKey(in: data))
        let tenant = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("AU"))).tenant
            .id
        let base = ["--data", data.path, "--tenant", tenant]
        let allowed = CLIRun.run(["check", "--data-class", "customer_data", "--location", "australia-sydney"] + base)
        #expect(allowed.status == 0)
        #expect(allowed.output.hasPrefix("allowed: AU is in the jurisdiction of region australia"))
        let refused = CLIRun.run(
            ["check", "--data-class", "analytics", "--location", "US", "--purpose", "dashboards"] + base)
        #expect(refused.status == 1)
        #expect(
            refused.output.contains(
                "refused: analytics of a tenant in australia stays within the countries of its sites"))
        #expect(refused.output.contains("recorded as ledger entry"))
        #expect(CLIRun.run(["check", "--data-class", "gossip", "--location", "US"] + base).status == 64)
        #expect(CLIRun.run(["check", "--data-class", "logs", "--location", "Narnia"] + base).status == 1)
    }
}
