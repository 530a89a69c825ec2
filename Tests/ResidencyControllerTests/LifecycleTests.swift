import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// The published retention schedule at its exact boundaries, with the clock moved by hand.
@Suite struct LifecycleTests {
    static let day: Int64 = 86_400_000
    let directory: URL
    let time = TestClock()
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-lifecycle-\(UUID())")
        controller = try Self.open(directory, clock: time.clock)
    }

    static func open(_ directory: URL, clock: Clock, policies: URL? = nil) throws -> Controller {
        let root = AccessExpiryTests.root
        let set = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"),
            policies: policies ?? root.appendingPathComponent("Policies"))
        return try Controller(
            policies: set, locator: nil, pool: try DatabasePool(directory: DataDirectory(directory)), clock: clock,
            dataDirectory: directory)
    }

    func signUp(_ plan: Plan, _ country: String = "GB") throws -> String {
        try controller.directory.signUp(Signup(name: "Customer Ltd", plan: plan, declaredCountry: CountryCode(country))).tenant.id
    }

    func advance(days: Int64, milliseconds: Int64 = 0) { time.time.withLock { $0 += days * Self.day + milliseconds } }

    func status(_ id: String) throws -> TenantStatus { try controller.retention.tenantLifecycle(id: id).status }

    /// Runs the schedule now; the rule names of what it did.
    @discardableResult
    func run() throws -> [String] { try controller.retention.runLifecycle().map { "\($0.due.action.rawValue):\($0.due.rule)" } }

    @Test func aTrialIsDeletedTwelveDaysAfterItExpires() throws {
        let id = try signUp(.trial)
        _ = try controller.retention.recordTenantEvent(
            tenant: id, .trialStarted(expiresAt: time.clock.now() + 14 * Self.day), by: "billing")
        advance(days: 14 + 11)
        #expect(try run().isEmpty)
        #expect(try status(id) == .active)
        advance(days: 1, milliseconds: -1)
        #expect(try run().isEmpty)
        advance(days: 0, milliseconds: 1)
        #expect(try run() == ["delete:trial-expired"])
        #expect(try status(id) == .deleted)
        #expect(try controller.directory.tenant(id: id).tenant.name == "")
        #expect(!(controller.dataPlane!.exists(region: "uk", tenant: id)))
        #expect(try run().isEmpty)  // idempotent
    }

    @Test func aCancelledPaidAccountIsDeletedNinetyDaysAfterCancellation() throws {
        let id = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: id, .cancelled, by: "billing")
        #expect(try status(id) == .closed)
        advance(days: 89)
        #expect(try run().isEmpty)
        advance(days: 1)
        #expect(try run() == ["delete:cancelled-paid"])
    }

    @Test func aFailedPaymentSuspendsAtFifteenClosesAtNinetyAndDeletesAWeekLater() throws {
        let id = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: id, .paymentFailed, by: "billing")
        advance(days: 14)
        #expect(try run().isEmpty)
        advance(days: 1)
        #expect(try run() == ["suspend:failed-payment-suspend"])
        #expect(try status(id) == .suspended)
        // Suspended: kept, refused to the application.
        #expect(controller.dataPlane!.exists(region: "uk", tenant: id))
        #expect(throws: ControllerError.self) { try controller.directory.records(tenant: id, .contacts, after: nil, limit: 1) }
        _ = try controller.retention.recordTenantEvent(tenant: id, .paymentFailed, by: "billing")  // does not restart the clock
        advance(days: 89 - 15)
        #expect(try run().isEmpty)
        advance(days: 1)
        #expect(try run() == ["close:failed-payment-close"])
        advance(days: 6)
        #expect(try run().isEmpty)
        advance(days: 1)
        #expect(try run() == ["delete:failed-payment-delete"])
        #expect(try status(id) == .deleted)
    }

    @Test func aFreeAccountIsDeletedAfterSixtyDaysOfInactivity() throws {
        let id = try signUp(.free)
        advance(days: 30)
        _ = try controller.retention.recordTenantEvent(tenant: id, .activity, by: "app")
        advance(days: 59)
        #expect(try run().isEmpty)
        advance(days: 1)
        #expect(try run() == ["delete:free-inactive"])
    }

    @Test func aRunLongAfterTheFactAppliesEachStepAtItsScheduledTime() throws {
        let id = try signUp(.paid)
        let failed = time.clock.now()
        _ = try controller.retention.recordTenantEvent(tenant: id, .paymentFailed, by: "billing")
        advance(days: 200)
        let steps = try controller.retention.runLifecycle()
        #expect(steps.map(\.due.action) == [.suspend, .close, .delete])
        #expect(steps.map(\.due.dueAt) == [failed + 15 * Self.day, failed + 90 * Self.day, failed + 97 * Self.day])
    }

    @Test func recoveryOrReactivationBeforeDeletionStopsTheClock() throws {
        let late = try signUp(.paid)
        let cancelled = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: late, .paymentFailed, by: "billing")
        _ = try controller.retention.recordTenantEvent(tenant: cancelled, .cancelled, by: "billing")
        advance(days: 20)
        #expect(try run() == ["suspend:failed-payment-suspend"])
        _ = try controller.retention.recordTenantEvent(tenant: late, .paymentRecovered, by: "billing")
        _ = try controller.retention.recordTenantEvent(tenant: cancelled, .reactivated, by: "billing")
        #expect(try status(late) == .active && status(cancelled) == .active)
        advance(days: 365)
        #expect(try run().isEmpty)
        #expect(throws: ControllerError.self) {
            try controller.retention.recordTenantEvent(tenant: late, .paymentRecovered, by: "billing")
        }
    }

    @Test func aDeletionDuringAMigrationRemovesTheDataFromBothRegionsAndEndsTheMigration() throws {
        let id = try signUp(.trial)
        _ = try controller.retention.recordTenantEvent(tenant: id, .trialStarted(expiresAt: time.clock.now() + Self.day), by: "b")
        var migration = try controller.migrations.requestMigration(.init(tenant: id, toRegion: "eu", reason: "move"), by: "ops")
        migration = try controller.migrations.approveMigration(id: migration.id, by: "ops")
        // The migration stops after its bulk copy, as if its runner had crashed: data in both regions.
        _ = try LocalDataMover(dataPlane: controller.dataPlane!).copy(&migration)
        migration.state = .frozen
        try controller.pool.write { try MigrationRepository($0).update(migration) }
        #expect(
            controller.dataPlane!.exists(region: "uk", tenant: id)
                && controller.dataPlane!.exists(region: "eu", tenant: id))
        advance(days: 13)
        #expect(try run() == ["delete:trial-expired"])
        #expect(!controller.dataPlane!.exists(region: "uk", tenant: id))
        #expect(!controller.dataPlane!.exists(region: "eu", tenant: id))
        let ended = try controller.migrations.migration(id: migration.id)
        #expect(ended.state == .cancelled)
        #expect(try controller.migrations.resumeMigrations().isEmpty)
        // The ledger names the rule and the regions, and nothing personal.
        let entries = try controller.ledger.entries(from: 0, to: nil).map { try JSONParser.parse($0.entry) }
        let deletion = try #require(entries.last { $0["kind"] == .string("lifecycle.deleted") })
        #expect(deletion["body"]?["rule"] == .string("trial-expired"))
        #expect(deletion["body"]?["regions"] == .array([.string("eu"), .string("uk")]))
        #expect(!deletion.encoded().contains("Customer Ltd"))
    }

    @Test func theNumbersComeFromThePolicyFile() throws {
        let policies = directory.appendingPathComponent("policies-copy")
        try FileManager.default.copyItem(at: AccessExpiryTests.root.appendingPathComponent("Policies"), to: policies)
        let retention = policies.appendingPathComponent("retention.json")
        let text = try String(contentsOf: retention, encoding: .utf8)
        try text.replacingOccurrences(of: "\"after_days\": 60", with: "\"after_days\": 5").write(
            to: retention, atomically: true, encoding: .utf8)
        let other = try Self.open(directory.appendingPathComponent("other"), clock: time.clock, policies: policies)
        let id = try other.directory.signUp(Signup(name: "Free", plan: .free, declaredCountry: CountryCode("GB"))).tenant.id
        advance(days: 4)
        #expect(try other.retention.runLifecycle().isEmpty)
        advance(days: 1)
        #expect(try other.retention.runLifecycle().map(\.due.rule) == ["free-inactive"])
        #expect(try other.retention.tenantLifecycle(id: id).status == .deleted)
    }

    @Test func eventsOnADeletedTenantAndFromTheFutureAreRefused() throws {
        let id = try signUp(.free)
        #expect(throws: ControllerError.self) {
            try controller.retention.recordTenantEvent(tenant: id, .activity, at: time.clock.now() + Self.day, by: "app")
        }
        advance(days: 61)
        try run()
        #expect {
            try controller.retention.recordTenantEvent(tenant: id, .reactivated, by: "billing")
        } throws: { error in
            guard case ControllerError.conflict(let code, _) = error else { return false }
            return code == "tenant_deleted"
        }
    }
    /// The attack: a billing token dates a cancellation years before the tenant existed, which would make its
    /// deletion due at once and the next hourly run delete it.
    @Test func anEventDatedBeforeTheTenantExistedIsRefusedAndChangesNothing() throws {
        let id = try signUp(.paid)
        let longAgo = try #require(Timestamp.milliseconds(rfc3339: "2020-01-01T00:00:00Z"))
        #expect {
            try controller.retention.recordTenantEvent(tenant: id, .cancelled, at: longAgo, by: "billing")
        } throws: { error in
            guard case ControllerError.refused(let code, let message, _) = error else { return false }
            return code == "event_before_creation" && message.contains("accepted: a time from")
        }
        #expect(try controller.retention.tenantLifecycle(id: id).cancelledAt == nil)
        #expect(try controller.retention.lifecyclePlan().isEmpty)
        #expect(try run().isEmpty)
        #expect(try status(id) == .active)
    }

    @Test func aReactivationDatedBeforeTheCancellationIsRefused() throws {
        let id = try signUp(.paid)
        advance(days: 1)
        let cancelledAt = time.clock.now()
        _ = try controller.retention.recordTenantEvent(tenant: id, .cancelled, by: "billing")
        advance(days: 0, milliseconds: 10)
        #expect {
            try controller.retention.recordTenantEvent(tenant: id, .reactivated, at: cancelledAt - 1, by: "billing")
        } throws: { error in
            guard case ControllerError.conflict(let code, let message) = error else { return false }
            return code == "event_out_of_order"
                && message.contains("accepted: a time from \(Timestamp.rfc3339(milliseconds: cancelledAt))")
        }
        #expect(try status(id) == .closed)
        // Late activity is still taken: it only ever moves its own clock forward.
        _ = try controller.retention.recordTenantEvent(tenant: id, .activity, at: cancelledAt - Self.day, by: "app")
    }

    /// A payment failure legitimately recorded 100 days ago, then a plan change today that brings the tenant
    /// under overdue rules: what it makes due waits the grace, shows in the plan as held, and is applied after.
    @Test func whatALateEventMakesDueWaitsTheGraceInThePlanAndTheRun() throws {
        let paid = try signUp(.trial)
        let free = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: paid, .paymentFailed, by: "billing")
        _ = try controller.retention.recordTenantEvent(tenant: free, .paymentFailed, by: "billing")
        advance(days: 100)
        // Nothing was due for either yet: a trial with no expiry, and (for the sake of the story) no run since.
        let now = time.clock.now()
        _ = try controller.retention.recordTenantEvent(tenant: paid, .planChanged(.paid), by: "billing")
        _ = try controller.retention.recordTenantEvent(tenant: free, .planChanged(.free), by: "billing")
        let graceEnd = now + 7 * Self.day
        let plan = try controller.retention.lifecyclePlan()
        #expect(plan.allSatisfy { $0.isHeld })
        #expect(
            Set(plan.map { "\($0.tenant):\($0.due.rule)" }) == [
                "\(paid):failed-payment-close", "\(free):free-inactive",
            ])
        #expect(plan.allSatisfy { $0.due.dueAt == graceEnd })
        let note = try #require(plan.first?.deferred)
        #expect(
            note == "held until \(Timestamp.rfc3339(milliseconds: graceEnd)): a late event recorded at "
                + "\(Timestamp.rfc3339(milliseconds: now)) made it due at once; grace 7 days (retention policy "
                + "late_event_grace_days)")
        #expect(plan.first?.jsonValue["held"] == .bool(true))
        #expect(try run().isEmpty)
        advance(days: 7, milliseconds: -1)
        #expect(try run().isEmpty)
        #expect(try status(paid) == .active && status(free) == .active)
        advance(days: 0, milliseconds: 1)
        #expect(Set(try run()) == ["close:failed-payment-close", "delete:free-inactive"])
        #expect(try status(free) == .deleted)
        // The close applied at the end of the grace starts the deletion's week from there.
        #expect(try controller.retention.tenantLifecycle(id: paid).closedAt == graceEnd)
        advance(days: 7, milliseconds: -1)
        #expect(try run().isEmpty)
        advance(days: 0, milliseconds: 1)
        #expect(try run() == ["delete:failed-payment-delete"])
        // The ledger says the grace held the close, and from when.
        let entries = try controller.ledger.entries(from: 0, to: nil).map { try JSONParser.parse($0.entry) }
        let closed = try #require(entries.last { $0["kind"] == .string("lifecycle.closed") })
        #expect(closed["body"]?["held_since"] == .string(Timestamp.rfc3339(milliseconds: now)))
    }

    /// Activity is reported all the time and never makes anything due sooner: it does not start the grace.
    @Test func activityDoesNotHoldTheSchedule() throws {
        let id = try signUp(.paid)
        _ = try controller.retention.recordTenantEvent(tenant: id, .paymentFailed, by: "billing")
        advance(days: 14)
        _ = try controller.retention.recordTenantEvent(tenant: id, .activity, by: "app")
        advance(days: 1)
        #expect(try run() == ["suspend:failed-payment-suspend"])
    }
}
