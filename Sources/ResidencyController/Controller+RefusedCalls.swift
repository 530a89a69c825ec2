import ResidencyCore
import ResidencyStore

/// An API call refused because of who made it.
public struct RefusedCall: Sendable {
    public enum Reason: String, Sendable {
        /// A revoked token was presented.
        case revokedToken = "revoked_token"
        /// The token's role may not use the route.
        case role
        /// A tenant-scoped token reached for another tenant.
        case tenantScope = "tenant_scope"
    }

    public let caller: Caller
    public let reason: Reason
    public let method: String
    /// The route template (`/v1/tenants/{id}/data/{collection}/{key}`), never the raw path.
    public let route: String
    /// The tenant the call aimed at, when the path named a well-formed tenant id.
    public let tenant: String?
    public let requestID: String

    public init(caller: Caller, reason: Reason, method: String, route: String, tenant: String?, requestID: String) {
        self.caller = caller
        self.reason = reason
        self.method = method
        self.route = route
        self.tenant = tenant.flatMap { TenantID.isWellFormed($0) ? $0 : nil }
        self.requestID = requestID
    }
}

extension Controller {
    /// Records a refused call in the ledger as `api.refused`: an authenticated caller reaching past its role or
    /// its tenant, or a revoked token still in use — the attempts an auditor asks about. Calls with unknown
    /// tokens are not recorded: anyone can send those, and a durable entry for each would let them fill the
    /// disk; the access log has them.
    public func recordRefusedCall(_ call: RefusedCall) {
        _ = try? pool.write { database in
            try Ledger.append(
                in: database, time: clock.now(), kind: "api.refused", actor: call.caller.tokenName, tenant: call.tenant,
                body: .object([
                    ("reason", .string(call.reason.rawValue)), ("role", .string(call.caller.role.rawValue)),
                    ("token_tenant", .optional(call.caller.tenant)), ("method", .string(call.method)),
                    ("route", .string(call.route)), ("request_id", .string(call.requestID)),
                ]))
        }
    }
}
