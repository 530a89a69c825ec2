/// The published retention schedule (`Policies/retention.json`).
public struct RetentionPolicy: Sendable {
    /// The event a rule's clock starts from.
    public enum Clock: String, Sendable, Hashable, CaseIterable {
        case trialExpired = "trial_expired"
        case cancelled
        case paymentFailed = "payment_failed"
        case closed
        case lastActivity = "last_activity"
    }

    public enum Action: String, Sendable, Hashable, CaseIterable {
        case suspend, close, delete
    }

    public struct Rule: Sendable, Hashable {
        public let rule: String
        public let plan: Plan
        public let clock: Clock
        public let afterDays: Int
        public let action: Action
        public let description: String
    }

    public let rules: [Rule]
}
