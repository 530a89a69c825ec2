/// The published retention schedule (`Policies/retention.json`).
package struct RetentionPolicy: Sendable {
    /// The event a rule's clock starts from.
    package enum Clock: String, Sendable, Hashable, CaseIterable {
        case trialExpired = "trial_expired"
        case cancelled
        case paymentFailed = "payment_failed"
        case closed
        case lastActivity = "last_activity"
    }

    package enum Action: String, Sendable, Hashable, CaseIterable {
        case suspend, close, delete
    }

    package struct Rule: Sendable, Hashable {
        package let rule: String
        package let plan: Plan
        package let clock: Clock
        package let afterDays: Int
        package let action: Action
        package let description: String
    }

    /// Used when the file does not say: a week leaves billing and support time to notice a wrong event before
    /// an irreversible deletion it made due.
    package static let defaultLateEventGraceDays = 7
    /// Accepted values of `late_event_grace_days`. At least a day: with none, one late or mistaken event could
    /// delete a tenant at the next hourly run.
    package static let lateEventGraceRange: ClosedRange<Int64> = 1...365

    /// Used when the file does not say: the usual length of a SaaS trial.
    package static let defaultTrialDays = 14
    /// Accepted values of `trial_days`.
    package static let trialDaysRange: ClosedRange<Int64> = 1...365

    package let rules: [Rule]
    /// A trial signup's trial expires this many days after signup, so the `trial_expired` clock runs from the
    /// start even if billing never sends `trial_started` (which, when it comes, sets the expiry it names).
    package let trialDays: Int
    /// No action falls due sooner than this many days after the event that last moved the tenant's clocks was
    /// recorded: an event dated in the past (a late billing feed, a mistake, a stolen billing token) can make
    /// an action due at once, and the grace is the time to see it in `lifecycle plan` and correct it.
    package let lateEventGraceDays: Int

    package init(
        rules: [Rule], lateEventGraceDays: Int = defaultLateEventGraceDays, trialDays: Int = defaultTrialDays
    ) {
        self.rules = rules
        self.lateEventGraceDays = lateEventGraceDays
        self.trialDays = trialDays
    }

    package func rule(named name: String) -> Rule? { rules.first { $0.rule == name } }
}
