/// What billing and the application report about a tenant (`POST /v1/tenants/{id}/events`).
package enum TenantEvent: Sendable, Hashable {
    case planChanged(Plan)
    /// A trial began; it expires at the given time.
    case trialStarted(expiresAt: Int64)
    case paymentFailed
    case paymentRecovered
    case cancelled
    case reactivated
    case activity

    package enum Kind: String, Sendable, Hashable, CaseIterable {
        case planChanged = "plan_changed"
        case trialStarted = "trial_started"
        case paymentFailed = "payment_failed"
        case paymentRecovered = "payment_recovered"
        case cancelled, reactivated, activity
    }

    package var kind: Kind {
        switch self {
        case .planChanged: return .planChanged
        case .trialStarted: return .trialStarted
        case .paymentFailed: return .paymentFailed
        case .paymentRecovered: return .paymentRecovered
        case .cancelled: return .cancelled
        case .reactivated: return .reactivated
        case .activity: return .activity
        }
    }

    /// The tenant after the event, dated `time`, was recorded at `recordedAt` — or why it is refused. An event
    /// that moves a clock, the plan or the status stamps `clocksMovedRecordedAt`, from which the retention
    /// schedule counts its late-event grace.
    package func recorded(
        to tenant: TenantLifecycle, at time: Int64, recordedAt: Int64
    ) -> Result<TenantLifecycle, EventRefusal> {
        applied(to: tenant, at: time).map { next in
            var next = next
            if kind != .activity && next.scheduleDiffers(from: tenant) { next.clocksMovedRecordedAt = recordedAt }
            return next
        }
    }

    /// The tenant after the event happened at `time`, or why it cannot happen.
    package func applied(to tenant: TenantLifecycle, at time: Int64) -> Result<TenantLifecycle, EventRefusal> {
        var next = tenant
        if tenant.status == .deleted {
            return .failure(EventRefusal(code: "tenant_deleted", message: "the tenant is deleted"))
        }
        // Order before anything else: a time the tenant's history rules out is refused whatever the event.
        let earliest = tenant.earliestAcceptedTime(for: kind)
        if time < earliest {
            let at = Timestamp.rfc3339(milliseconds: time)
            let accepted = "accepted: a time from \(Timestamp.rfc3339(milliseconds: earliest)) up to now"
            if time < tenant.createdAt {
                return .failure(
                    EventRefusal(
                        code: "event_before_creation",
                        message:
                            "\(kind.rawValue) at \(at) is before the tenant was created (\(Timestamp.rfc3339(milliseconds: tenant.createdAt))); \(accepted)",
                        isConflict: false))
            }
            return .failure(
                EventRefusal(
                    code: "event_out_of_order",
                    message:
                        "\(kind.rawValue) at \(at) is before the latest lifecycle event recorded for the tenant (at \(Timestamp.rfc3339(milliseconds: earliest))); \(accepted) (only activity may be dated earlier)"
                ))
        }
        if kind != .activity { next.lastEventAt = time }
        switch self {
        case .planChanged(let plan):
            next.plan = plan
            // Clocks of the old plan do not carry over to the new one.
            if plan != .trial { next.trialExpiresAt = nil }
        case .trialStarted(let expiresAt):
            guard expiresAt > time else {
                return .failure(EventRefusal(code: "invalid_expiry", message: "a trial must expire after it starts"))
            }
            next.plan = .trial
            next.trialExpiresAt = expiresAt
        case .paymentFailed:
            // The clock runs from the first failure; later ones do not restart it.
            if next.paymentFailedAt == nil { next.paymentFailedAt = time }
        case .paymentRecovered:
            guard tenant.paymentFailedAt != nil || tenant.closedByRule != nil || tenant.status == .suspended else {
                return .failure(EventRefusal(code: "no_failed_payment", message: "no failed payment is outstanding"))
            }
            next.paymentFailedAt = nil
            next.reopen()
        case .cancelled:
            guard tenant.cancelledAt == nil else {
                return .failure(EventRefusal(code: "already_cancelled", message: "the tenant is already cancelled"))
            }
            next.cancelledAt = time
            next.status = .closed
            next.closedAt = time
            next.closedByRule = nil
        case .reactivated:
            guard tenant.status != .active || tenant.cancelledAt != nil else {
                return .failure(EventRefusal(code: "already_active", message: "the tenant is already active"))
            }
            next.cancelledAt = nil
            next.paymentFailedAt = nil
            next.reopen()
            next.lastActivityAt = max(next.lastActivityAt ?? time, time)
        case .activity:
            next.lastActivityAt = max(next.lastActivityAt ?? time, time)
        }
        return .success(next)
    }

    package struct EventRefusal: Error, Sendable, Hashable {
        package let code: String
        package let message: String
        /// True when the event conflicts with the tenant's current state (HTTP 409); false when its value can
        /// never be accepted for this tenant (422).
        package let isConflict: Bool

        package init(code: String, message: String, isConflict: Bool = true) {
            self.code = code
            self.message = message
            self.isConflict = isConflict
        }
    }
}

extension TenantLifecycle {
    /// Back to active: the suspension and any close end, and their clocks with them.
    mutating func reopen() {
        status = .active
        suspendedAt = nil
        closedAt = nil
        closedByRule = nil
    }
}
