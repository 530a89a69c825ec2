import ResidencyController
import ResidencyCore

/// `GET /v1/tenants/{id}/transparency`: what the ledger holds about one tenant, with proofs — for the tenant's
/// own administrator (a compliance token scoped to it) as much as for the operator's compliance officers.
enum TransparencyRoutes {
    static func all(controller: Controller) -> [Route] {
        [
            Route("GET", "/v1/tenants/{id}/transparency", roles: [.compliance], tenantScoped: true) { context in
                let id = context.parameters["id"]!
                try TenantScope.check(
                    id, context: context, controller: controller, route: "/v1/tenants/{id}/transparency")
                try context.request.acceptQuery(["after", "limit"])
                var after = -1
                if let text = context.request.queryValue("after") {
                    guard let value = Int(text), value >= 0 else {
                        throw APIError.badRequest("after: \"\(text.prefix(40))\"; accepted: a ledger index", code: "invalid_query")
                    }
                    after = value
                }
                var limit = 500
                if let text = context.request.queryValue("limit") {
                    guard let value = Int(text), (1...1000).contains(value) else {
                        throw APIError.badRequest("limit: \"\(text.prefix(40))\"; accepted: 1-1000", code: "invalid_query")
                    }
                    limit = value
                }
                let page = try controller.transparency.transparency(tenant: id, after: after, limit: limit)
                guard case .object(var members) = page.bundle.jsonValue else { return .json(page.bundle.jsonValue) }
                members.append(("tenant", .string(id)))
                members.append(("next_after", page.next.map { .integer($0) } ?? .null))
                members.append(("trust", controller.transparency.trustPolicy.jsonValue))
                return .json(.object(members))
            }
        ]
    }
}
