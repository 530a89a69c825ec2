extension TenantLifecycle {
    /// The plan, status and clocks as the API shows them (RFC 3339; null when not started).
    package var jsonValue: JSONValue {
        func time(_ value: Int64?) -> JSONValue { value.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null }
        return .object([
            ("plan", .string(plan.rawValue)), ("status", .string(status.rawValue)),
            ("trial_expires_at", time(trialExpiresAt)), ("cancelled_at", time(cancelledAt)),
            ("payment_failed_at", time(paymentFailedAt)), ("suspended_at", time(suspendedAt)),
            ("closed_at", time(closedAt)), ("closed_by_rule", .optional(closedByRule)),
            ("last_activity_at", time(lastActivityAt ?? createdAt)), ("deleted_at", time(deletedAt)),
        ])
    }
}
