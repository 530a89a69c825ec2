import ResidencyController
import ResidencyCore

/// Cross-border access: support files requests and records uses; compliance decides, revokes and reviews. A
/// tenant administrator's token (compliance, scoped to a tenant) sees and decides only its own tenant's requests.
enum AccessRoutes {
    static func all(controller: Controller) -> [Route] {
        let countries = controller.policies.catalog.countries
        @Sendable func filing(_ request: HTTPRequest) throws -> AccessDesk.AccessFiling {
            let body = try RequestBody(
                request, fields: ["tenant", "staff", "physical_country", "justification", "detail", "scope", "hours"])
            let object = body.object
            let tenant = object.required("tenant")?.string()
            var staff: StaffMember?
            if let staffObject = object.required("staff")?.object(known: ["id", "entity", "role", "office"]) {
                let id = staffObject.required("id")?.text()
                let entity = staffObject.required("entity")?.text()
                let role = staffObject.required("role")?.text()
                let office = staffObject.required("office")?.string()
                if let id, let entity, let role, let office {
                    staff = StaffMember(id: id, entity: entity, jobRole: role, office: office)
                }
            }
            let physical = object.required("physical_country")?.country(in: countries)
            let justification = object.required("justification")?.string()
            let detail = object.optional("detail")?.string() ?? ""
            var scope: AccessScope?
            if let scopeObject = object.required("scope")?.object(known: ["data_classes", "mode"]) {
                let classes = scopeObject.required("data_classes")?.array()?.compactMap {
                    $0.oneOf(AccessScope.DataClass.self)
                }
                let mode = scopeObject.required("mode")?.oneOf(AccessScope.Mode.self)
                if let classes, let mode { scope = AccessScope(dataClasses: Set(classes), mode: mode) }
            }
            let hours = object.optional("hours")?.integer(in: 1...8760).map(Int.init)
            try body.check()
            guard let tenant, let staff, let physical, let justification, let scope else {
                throw APIError.badRequest("incomplete access request")
            }
            return AccessDesk.AccessFiling(
                tenant: tenant, staff: staff, physicalCountry: physical, justification: justification, detail: detail,
                scope: scope, hours: hours)
        }
        /// The request, hidden from a tenant administrator of another tenant.
        @Sendable func visible(_ id: String, context: RequestContext) throws -> AccessRequest {
            let request = try controller.access.accessRequest(id: id)
            try TenantScope.check(
                request.tenant, kind: "access request", id: id, context: context, controller: controller,
                route: "/v1/access-requests/{id}")
            return request
        }
        @Sendable func answer(_ request: AccessRequest, status: Int = 200) -> HTTPResponse {
            .json(.object([("access_request", request.jsonValue(at: controller.clock.now()))]), status: status)
        }
        @Sendable func text(_ request: HTTPRequest, fields: [String], required: String?) throws -> (RequestBody, String)
        {
            let body = try RequestBody(request, fields: fields)
            let value = required.flatMap { body.object.required($0)?.text() } ?? ""
            try body.check()
            return (body, value)
        }

        var routes = [
            Route("POST", "/v1/access-requests", roles: [.support]) { context in
                answer(
                    try controller.access.fileAccess(
                        try filing(context.request), breakGlass: false, by: context.caller!.tokenName), status: 201)
            },
            Route("POST", "/v1/access-requests/break-glass", roles: [.support]) { context in
                answer(
                    try controller.access.fileAccess(
                        try filing(context.request), breakGlass: true, by: context.caller!.tokenName), status: 201)
            },
            Route("GET", "/v1/access-requests", roles: [.support, .compliance], tenantScoped: true) { context in
                let accepted = ["tenant", "state", "region"]
                for (name, _) in context.request.query where !accepted.contains(name) {
                    throw APIError.badRequest(
                        "unknown query parameter \"\(name)\"; accepted: \(accepted.joined(separator: ", "))",
                        code: "invalid_query")
                }
                var state: AccessState?
                if let text = context.request.queryValue("state") {
                    guard let value = AccessState(rawValue: text) else {
                        throw APIError.badRequest(
                            "state: \"\(text)\"; accepted: \(AccessState.allCases.map(\.rawValue).joined(separator: ", "))",
                            code: "invalid_query")
                    }
                    state = value
                }
                let region = context.request.queryValue("region")
                if let region, controller.policies.catalog.region(id: region) == nil {
                    throw APIError.badRequest("region: unknown region \"\(region)\"", code: "invalid_query")
                }
                let tenant = context.caller?.tenant ?? context.request.queryValue("tenant")
                let requests = try controller.access.accessRequests(tenant: tenant, state: state, region: region)
                let now = controller.clock.now()
                return .json(.object([("access_requests", .array(requests.map { $0.jsonValue(at: now) }))]))
            },
            Route("GET", "/v1/access-requests/{id}", roles: [.support, .compliance], tenantScoped: true) { context in
                answer(try visible(context.parameters["id"]!, context: context))
            },
            Route("POST", "/v1/access-requests/{id}/review", roles: [.compliance], tenantScoped: true) { context in
                let id = context.parameters["id"]!
                _ = try visible(id, context: context)
                let (_, note) = try text(context.request, fields: ["note"], required: "note")
                return answer(try controller.access.reviewAccess(id: id, by: context.caller!, note: note))
            },
            Route("POST", "/v1/access-events", roles: [.support]) { context in
                let body = try RequestBody(
                    context.request,
                    fields: ["request", "staff_id", "physical_country", "method", "resource", "data_class", "mode"])
                let object = body.object
                let request = object.required("request")?.string()
                let staff = object.required("staff_id")?.text()
                let country = object.required("physical_country")?.country(in: countries)
                let method = object.required("method")?.text()
                let resource = object.required("resource")?.text()
                let dataClass = object.required("data_class")?.oneOf(AccessScope.DataClass.self)
                let mode = object.required("mode")?.oneOf(AccessScope.Mode.self)
                try body.check()
                guard let request, let staff, let country, let method, let resource, let dataClass, let mode else {
                    throw APIError.badRequest("incomplete access event")
                }
                let use = AccessLifecycle.Use(
                    staffID: staff, physicalCountry: country, method: method, resource: resource, dataClass: dataClass,
                    mode: mode)
                let result = try controller.access.recordAccessEvent(requestID: request, use, by: context.caller!.tokenName)
                return .json(
                    .object([
                        ("event", .integer(result.event)), ("outcome", .string("allowed")),
                        ("access_request", result.request.jsonValue()),
                    ]), status: 201)
            },
            Route("POST", "/v1/tenants/{id}/customer-approval", roles: [.ops, .compliance], tenantScoped: true) {
                context in
                let id = context.parameters["id"]!
                try TenantScope.check(
                    id, context: context, controller: controller, route: "/v1/tenants/{id}/customer-approval")
                let body = try RequestBody(context.request, fields: ["enabled"])
                let enabled = body.object.required("enabled")?.bool()
                try body.check()
                try controller.access.setCustomerApproval(tenant: id, enabled: enabled ?? false, by: context.caller!)
                return .json(.object([("tenant", .string(id)), ("customer_approval", .bool(enabled ?? false))]))
            },
        ]
        for decision in AccessLifecycle.Decision.allCases {
            routes.append(
                Route("POST", "/v1/access-requests/{id}/\(decision.rawValue)", roles: [.compliance], tenantScoped: true)
                { context in
                    let id = context.parameters["id"]!
                    _ = try visible(id, context: context)
                    let (body, reason) = try text(context.request, fields: ["reason", "hours"], required: "reason")
                    let hours = body.object.optional("hours")?.integer(in: 1...8760).map(Int.init)
                    try body.check()
                    return answer(
                        try controller.access.decideAccess(id: id, decision, by: context.caller!, reason: reason, hours: hours)
                    )
                })
        }
        for closing in [AccessLifecycle.Closing.revoke, .complete] {
            let roles: Set<Role> = closing == .revoke ? [.compliance] : [.support, .compliance]
            routes.append(
                Route("POST", "/v1/access-requests/{id}/\(closing.rawValue)", roles: roles, tenantScoped: true) {
                    context in
                    let id = context.parameters["id"]!
                    _ = try visible(id, context: context)
                    let (_, reason) = try text(context.request, fields: ["reason"], required: nil)
                    return answer(try controller.access.closeAccess(id: id, closing, by: context.caller!, reason: reason))
                })
        }
        return routes
    }
}
