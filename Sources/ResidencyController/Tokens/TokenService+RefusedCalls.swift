import ResidencyCore
import ResidencyStore

/// An API call refused because of who made it.
package struct RefusedCall: Sendable {
    package enum Reason: String, Sendable {
        /// A revoked token was presented.
        case revokedToken = "revoked_token"
        /// The token's role may not use the route.
        case role
        /// A tenant-scoped token reached for another tenant.
        case tenantScope = "tenant_scope"
    }

    package let caller: Caller
    package let reason: Reason
    package let method: String
    /// The route template (`/v1/tenants/{id}/data/{collection}/{key}`), never the raw path.
    package let route: String
    /// The tenant the call aimed at, when the path named a well-formed tenant id.
    package let tenant: String?
    package let requestID: String

    package init(caller: Caller, reason: Reason, method: String, route: String, tenant: String?, requestID: String) {
        self.caller = caller
        self.reason = reason
        self.method = method
        self.route = route
        self.tenant = tenant.flatMap { TenantID.isWellFormed($0) ? $0 : nil }
        self.requestID = requestID
    }
}

extension TokenService {
    /// Records a refused call: an authenticated caller reaching past its role or its tenant, or a revoked token
    /// still in use — the attempts an auditor asks about. The first of each (token, reason, method, route) in a
    /// period is written as `api.refused`; repeats are counted into the period's `api.refused.summary`
    /// (`RefusalRecorder`), so no caller decides how fast the ledger grows. Calls with unknown tokens are not
    /// recorded: anyone can send those; the access log has them.
    ///
    /// A refusal that cannot be written is counted (`unrecordedRefusals`, `/readyz`, `/metrics`) and its key
    /// forgotten, so the next such call tries again; the caller is refused all the same.
    package func recordRefusedCall(_ call: RefusedCall) {
        let key = RefusalRecorder.Key(
            token: call.caller.tokenName, reason: call.reason, method: call.method, route: call.route)
        guard refusals.admit(key) else { return }
        do {
            _ = try context.commit { transaction in
                try transaction.append(
                    .apiRefused, time: clock.now(), actor: call.caller.tokenName,
                    tenant: call.tenant,
                    body: .object([
                        ("reason", .string(call.reason.rawValue)), ("role", .string(call.caller.role.rawValue)),
                        ("token_tenant", .optional(call.caller.tenant)), ("method", .string(call.method)),
                        ("route", .string(call.route)), ("request_id", .string(call.requestID)),
                    ]))
            }
        } catch {
            refusals.forget(key)
            unrecordedRefusals.add(1, ordering: .relaxed)
            context.report(failure: "recording a refused call", error)
        }
    }

    /// Closes the current period of refused calls: writes one `api.refused.summary` entry with the count of every
    /// refusal that was not written one by one (none when there were none). Run periodically by the server and at
    /// its shutdown. A summary that cannot be written is kept for the next period and the error thrown.
    @discardableResult
    package func closeRefusalPeriod() throws -> Int? {
        let now = clock.now()
        guard let summary = refusals.close(at: now) else { return nil }
        do {
            let index = try context.commit { transaction in
                try transaction.append(
                    .apiRefusedSummary, time: now, actor: "system",
                    body: .object([
                        ("from", .string(Timestamp.rfc3339(milliseconds: summary.from))),
                        ("to", .string(Timestamp.rfc3339(milliseconds: now))),
                        ("refused", .integer(summary.counts.reduce(summary.overflow) { $0 + $1.count })),
                        (
                            "calls",
                            .array(
                                summary.counts.map { item in
                                    .object([
                                        ("token", .string(item.key.token)),
                                        ("reason", .string(item.key.reason.rawValue)),
                                        ("method", .string(item.key.method)), ("route", .string(item.key.route)),
                                        ("count", .integer(item.count)),
                                    ])
                                })
                        ),
                        ("other", .integer(summary.overflow)),
                    ]))
            }
            return index
        } catch {
            refusals.restore(summary)
            throw error
        }
    }
}
