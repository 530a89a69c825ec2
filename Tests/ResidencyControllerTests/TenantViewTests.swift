import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// A tenant's lifecycle is visible wherever the tenant is shown, and a trial ends without billing's help.
@Suite struct TenantViewTests {
    static let day = RetentionSchedule.day
    let directory: URL
    let time = TestClock()
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-view-\(UUID())")
        controller = try LifecycleTests.open(directory, clock: time.clock)
    }

    func signUp(_ plan: Plan) throws -> Tenant {
        try controller.directory.signUp(Signup(name: "Customer Ltd", plan: plan, declaredCountry: CountryCode("GB"))).tenant
    }

    func advance(days: Int64) { time.time.withLock { $0 += days * Self.day } }

    @Test func aTrialSignupExpiresAfterThePolicysTrialDaysAndIsThenDeleted() throws {
        let start = time.clock.now()
        let tenant = try signUp(.trial)
        #expect(controller.policies.retention.trialDays == 14)
        #expect(try controller.retention.tenantLifecycle(id: tenant.id).trialExpiresAt == start + 14 * Self.day)
        let view = try controller.directory.tenantView(tenant)
        #expect(view["lifecycle"]?["trial_expires_at"] == .string(Timestamp.rfc3339(milliseconds: start + 14 * Self.day)))
        #expect(view["next_action"]?["action"] == .string("delete"))
        #expect(view["next_action"]?["rule"] == .string("trial-expired"))
        #expect(
            view["next_action"]?["due_at"] == .string(Timestamp.rfc3339(milliseconds: start + (14 + 12) * Self.day)))
        #expect(view["status_reason"] == .null)
        // No trial_started from billing: the run deletes it all the same, on the day the policy says.
        advance(days: 14 + 12 - 1)
        #expect(try controller.retention.runLifecycle().isEmpty)
        advance(days: 1)
        #expect(try controller.retention.runLifecycle().map(\.due.rule) == ["trial-expired"])
    }

    @Test func paidSignupsHaveNoTrialClock() throws {
        let tenant = try signUp(.paid)
        #expect(try controller.retention.tenantLifecycle(id: tenant.id).trialExpiresAt == nil)
        #expect(try controller.directory.tenantView(tenant)["next_action"] == .null)
    }

    @Test func aSuspensionShowsItsRuleAndTheNextAction() throws {
        let tenant = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: tenant.id, .paymentFailed, by: "billing")
        advance(days: 15)
        _ = try controller.retention.runLifecycle()
        let view = try controller.directory.tenantView(try controller.directory.tenant(id: tenant.id).tenant)
        #expect(view["status"] == .string("suspended"))
        #expect(view["status_reason"]?["rule"] == .string("failed-payment-suspend"))
        #expect(view["next_action"]?["action"] == .string("close"))
        #expect(view["next_action"]?["rule"] == .string("failed-payment-close"))
    }

    @Test func aCancellationIsTheCustomersReason() throws {
        let tenant = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: tenant.id, .cancelled, by: "billing")
        let view = try controller.directory.tenantView(try controller.directory.tenant(id: tenant.id).tenant)
        #expect(view["status_reason"]?["rule"] == .null)
        #expect(view["status_reason"]?["description"] == .string("cancelled by the customer"))
        #expect(view["next_action"]?["rule"] == .string("cancelled-paid"))
    }

    /// The application asking for a deleted tenant's data is told when and by which rule it went, not "no tenant".
    @Test func aDeletedTenantsDataSaysWhenItWasDeleted() throws {
        let tenant = try signUp(.trial)
        advance(days: 14 + 12)
        _ = try controller.retention.runLifecycle()
        let due = Timestamp.rfc3339(milliseconds: tenant.createdAt + (14 + 12) * Self.day)
        do {
            _ = try controller.directory.record(tenant: tenant.id, .contacts, key: "k")
            Issue.record("a deleted tenant's data was served")
        } catch let error as ControllerError {
            guard case .conflict(let code, let message) = error else {
                Issue.record("unexpected \(error)")
                return
            }
            #expect(code == "tenant_deleted")
            #expect(message.contains("tenant \(tenant.id) was deleted on \(due) (rule trial-expired, ledger entry "))
        }
        let view = try controller.directory.tenantView(try controller.directory.tenant(id: tenant.id).tenant)
        #expect(view["status_reason"]?["rule"] == .string("trial-expired"))
        #expect(view["status_reason"]?["since"] == .string(due))
    }

    /// `trial_days` is validated like every other number of the policy, and absent means 14.
    @Test func trialDaysComeFromThePolicy() throws {
        let copy = try Self.copyOfPolicies()
        defer { try? FileManager.default.removeItem(at: copy) }
        let retention = copy.appendingPathComponent("retention.json")
        let text = try String(contentsOf: retention, encoding: .utf8)
        try text.replacingOccurrences(of: "\"trial_days\": 14", with: "\"trial_days\": 30").write(
            to: retention, atomically: true, encoding: .utf8)
        let regions = AccessExpiryTests.root.appendingPathComponent("Regions")
        #expect(try PolicySet.load(regions: regions, policies: copy).retention.trialDays == 30)
        try text.replacingOccurrences(of: "\"trial_days\": 14,", with: "").write(
            to: retention, atomically: true, encoding: .utf8)
        #expect(try PolicySet.load(regions: regions, policies: copy).retention.trialDays == 14)
        try text.replacingOccurrences(of: "\"trial_days\": 14", with: "\"trial_days\": 0").write(
            to: retention, atomically: true, encoding: .utf8)
        #expect {
            try PolicySet.load(regions: regions, policies: copy)
        } throws: { error in
            "\(error)".contains("$.trial_days") && "\(error)".contains("out of range; accepted: 1...365")
        }
    }

    static func copyOfPolicies() throws -> URL {
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("residency-policies-\(UUID())")
        try FileManager.default.copyItem(at: AccessExpiryTests.root.appendingPathComponent("Policies"), to: copy)
        return copy
    }
}
