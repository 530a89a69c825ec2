import Foundation
import Testing

@testable import ResidencyCore

/// Lifecycle events dated in the past: refused when the tenant's history rules the time out, and otherwise
/// unable to make a retention action fall due before the policy's grace has passed.
@Suite struct LateEventTests {
    static let day: Int64 = 86_400_000
    static let created: Int64 = 1_800_000_000_000
    let schedule: RetentionSchedule

    init() throws {
        schedule = RetentionSchedule(
            policy: try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies).retention)
    }

    func tenant(_ plan: Plan) -> TenantLifecycle {
        TenantLifecycle(plan: plan, status: .active, createdAt: Self.created)
    }

    func record(
        _ event: TenantEvent, to tenant: TenantLifecycle, at time: Int64, recordedAt: Int64? = nil
    ) throws -> TenantLifecycle {
        try event.recorded(to: tenant, at: time, recordedAt: recordedAt ?? time).get()
    }

    func refusal(_ event: TenantEvent, to tenant: TenantLifecycle, at time: Int64) -> TenantEvent.EventRefusal? {
        guard case .failure(let refusal) = event.recorded(to: tenant, at: time, recordedAt: time) else { return nil }
        return refusal
    }

    @Test(arguments: [TenantEvent.cancelled, .paymentFailed, .activity, .planChanged(.free)])
    func anEventBeforeTheTenantExistedIsRefused(event: TenantEvent) throws {
        let refused = try #require(refusal(event, to: tenant(.paid), at: Self.created - 1))
        #expect(refused.code == "event_before_creation")
        #expect(!refused.isConflict)
        #expect(refused.message.contains("accepted: a time from \(Timestamp.rfc3339(milliseconds: Self.created))"))
        #expect(refusal(event, to: tenant(.paid), at: Self.created) == nil)
    }

    @Test func noEventButActivityMayBeDatedBeforeTheLatestOne() throws {
        let cancelledAt = Self.created + 10 * Self.day
        let cancelled = try record(.cancelled, to: tenant(.paid), at: cancelledAt)
        #expect(cancelled.lastEventAt == cancelledAt)
        let refused = try #require(refusal(.reactivated, to: cancelled, at: cancelledAt - 1))
        #expect(refused.code == "event_out_of_order")
        #expect(refused.isConflict)
        #expect(refused.message.contains("accepted: a time from \(Timestamp.rfc3339(milliseconds: cancelledAt))"))
        #expect(refusal(.reactivated, to: cancelled, at: cancelledAt) == nil)
        // Activity may arrive late; it never moves its clock back, nor the order of the others.
        let active = try record(.activity, to: cancelled, at: Self.created + Self.day)
        #expect(active.lastActivityAt == Self.created + Self.day)
        #expect(active.lastEventAt == cancelledAt)
        #expect(try record(.activity, to: active, at: Self.created + 2).lastActivityAt == Self.created + Self.day)
    }

    @Test func onlyAnEventThatMovesAClockStartsTheGrace() throws {
        let now = Self.created + 30 * Self.day
        let failed = try record(.paymentFailed, to: tenant(.paid), at: Self.created + Self.day, recordedAt: now)
        #expect(failed.clocksMovedRecordedAt == now)
        // A second failure does not restart the clock, so it does not restart the grace either.
        #expect(try record(.paymentFailed, to: failed, at: now, recordedAt: now + 5).clocksMovedRecordedAt == now)
        #expect(try record(.activity, to: failed, at: now, recordedAt: now + 5).clocksMovedRecordedAt == now)
    }

    /// A late cancellation makes the paid deletion due at once: it is held for the grace, then due exactly.
    @Test func whatALateEventMakesDueWaitsTheGrace() throws {
        let now = Self.created + 200 * Self.day
        let cancelled = try record(.cancelled, to: tenant(.paid), at: Self.created + Self.day, recordedAt: now)
        let graceEnd = now + 7 * Self.day
        let held = schedule.outlook(cancelled, asOf: now)
        #expect(held.due.isEmpty)
        #expect(held.held.map(\.rule) == ["cancelled-paid"])
        #expect(held.held.first?.dueAt == graceEnd)
        #expect(held.held.first?.ruleDueAt == Self.created + 91 * Self.day)
        #expect(held.held.first?.heldSince == now)
        #expect(schedule.due(cancelled, asOf: graceEnd - 1).isEmpty)
        #expect(schedule.due(cancelled, asOf: graceEnd).map(\.dueAt) == [graceEnd])
    }

    /// The rest of the class: a trial whose expiry is already long past, and a plan change that brings a
    /// long-inactive tenant or an old failed payment under rules that are already overdue.
    @Test func everyEventThatMakesAnActionDueAtOnceIsHeld() throws {
        let now = Self.created + 100 * Self.day
        let graceEnd = now + 7 * Self.day
        let expired = try record(
            .trialStarted(expiresAt: Self.created + 2 * Self.day), to: tenant(.free), at: Self.created + Self.day,
            recordedAt: now)
        let toFree = try record(.planChanged(.free), to: tenant(.paid), at: now)
        let failed = try record(.paymentFailed, to: tenant(.trial), at: Self.created, recordedAt: Self.created)
        let toPaid = try record(.planChanged(.paid), to: failed, at: now)
        for (lifecycle, rule) in [
            (expired, "trial-expired"), (toFree, "free-inactive"), (toPaid, "failed-payment-close"),
        ] {
            let outlook = schedule.outlook(lifecycle, asOf: now)
            #expect(outlook.due.isEmpty, "\(rule)")
            #expect(outlook.held.map(\.rule) == [rule])
            #expect(outlook.held.map(\.dueAt) == [graceEnd])
        }
        // A chained action starts its clock from when the held one is applied, not from the rule's time.
        let closed = schedule.due(toPaid, asOf: graceEnd + 7 * Self.day)
        #expect(closed.map(\.rule) == ["failed-payment-close", "failed-payment-delete"])
        #expect(closed.map(\.dueAt) == [graceEnd, graceEnd + 7 * Self.day])
    }

    @Test func aTenantWithoutLateEventsKeepsTheRulesOwnTimes() throws {
        // Rows from before the grace existed have no recording time: nothing moves.
        var old = tenant(.paid)
        old.paymentFailedAt = Self.created
        let due = schedule.due(old, asOf: Self.created + 200 * Self.day)
        #expect(due.map(\.dueAt) == [15, 90, 97].map { Self.created + $0 * Self.day })
        #expect(due.allSatisfy { $0.heldSince == nil })
    }
}
