import ResidencyController
import ResidencyCore

/// Billing and the application report tenant events; operations and compliance read what the retention
/// schedule has due.
enum LifecycleRoutes {
    static func all(controller: Controller) -> [Route] {
        [
            Route("POST", "/v1/tenants/{id}/events", roles: [.billing, .ops]) { context in
                let body = try RequestBody(context.request, fields: ["type", "plan", "expires_at", "at"])
                let kind = body.object.required("type")?.oneOf(TenantEvent.Kind.self)
                let plan = body.object.optional("plan")?.oneOf(Plan.self)
                let expires = body.object.optional("expires_at")?.timestamp()
                let at = body.object.optional("at")?.timestamp()
                if kind == .planChanged && plan == nil && !body.object.has("plan") {
                    body.object.reader.note("plan_changed needs \"plan\"")
                }
                if kind == .trialStarted && expires == nil && !body.object.has("expires_at") {
                    body.object.reader.note("trial_started needs \"expires_at\"")
                }
                try body.check()
                guard let kind else { throw APIError.badRequest("missing type") }
                let event: TenantEvent
                switch kind {
                case .planChanged: event = .planChanged(plan!)
                case .trialStarted: event = .trialStarted(expiresAt: expires!)
                case .paymentFailed: event = .paymentFailed
                case .paymentRecovered: event = .paymentRecovered
                case .cancelled: event = .cancelled
                case .reactivated: event = .reactivated
                case .activity: event = .activity
                }
                let id = context.parameters["id"]!
                let lifecycle = try controller.retention.recordTenantEvent(
                    tenant: id, event, at: at, by: context.caller!.tokenName)
                return .json(.object([("tenant", .string(id)), ("lifecycle", lifecycle.jsonValue)]))
            },
            Route("GET", "/v1/lifecycle/due", roles: [.ops, .compliance]) { context in
                try context.request.acceptQuery(["as_of"])
                let asOf = try context.request.timeQuery("as_of")
                let steps = try controller.retention.lifecyclePlan(asOf: asOf)
                // Held actions in a list of their own: a client acting on "due" must not act on them early.
                return .json(
                    .object([
                        ("due", .array(steps.filter { !$0.isHeld }.map(\.jsonValue))),
                        ("held", .array(steps.filter(\.isHeld).map(\.jsonValue))),
                    ]))
            },
        ]
    }
}
