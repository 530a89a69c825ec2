import ResidencyController
import ResidencyCore

/// A tenant-scoped token (a tenant administrator's, an application's) reaches only its own tenant. Anything
/// else is answered as not found — the other tenant's existence is not confirmed — and recorded in the
/// ledger as a refused call.
enum TenantScope {
    static func check(
        _ tenant: String, kind: String = "tenant", id: String? = nil, context: RequestContext, controller: Controller,
        route: String
    ) throws {
        guard let caller = context.caller, let scoped = caller.tenant, scoped != tenant else { return }
        controller.tokens.recordRefusedCall(
            RefusedCall(
                caller: caller, reason: .tenantScope, method: context.request.method, route: route, tenant: tenant,
                requestID: context.requestID))
        throw ControllerError.notFound(kind: kind, id: id ?? tenant)
    }
}
