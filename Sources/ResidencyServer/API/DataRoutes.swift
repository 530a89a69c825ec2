import ResidencyController
import ResidencyCore

/// The application's access to tenant data, through the controller: `PUT|GET|DELETE
/// /v1/tenants/{id}/data/{collection}/{key}` and `GET /v1/tenants/{id}/data/{collection}`. An application
/// token scoped to a tenant reaches only that tenant's data.
enum DataRoutes {
    static func all(controller: Controller) -> [Route] {
        @Sendable func target(_ context: RequestContext) throws -> (tenant: String, collection: TenantCollection) {
            let tenant = context.parameters["id"]!
            // The template of the route that matched: a record's and a collection's routes are refused separately.
            let route =
                context.parameters["key"] == nil
                ? "/v1/tenants/{id}/data/{collection}" : "/v1/tenants/{id}/data/{collection}/{key}"
            try TenantScope.check(tenant, context: context, controller: controller, route: route)
            let name = context.parameters["collection"]!
            guard let collection = TenantCollection(rawValue: name) else {
                throw APIError(
                    status: 404, code: "not_found",
                    message:
                        "no collection \"\(name)\"; accepted: \(TenantCollection.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            return (tenant, collection)
        }
        @Sendable func key(_ context: RequestContext) throws -> String {
            let key = context.parameters["key"]!
            guard TenantCollection.isValidKey(key) else {
                throw APIError.badRequest(
                    "key: \"\(key)\"; accepted: \(TenantCollection.keyRule)", code: "invalid_field")
            }
            return key
        }
        let path = "/v1/tenants/{id}/data/{collection}"
        return [
            Route("PUT", path + "/{key}", roles: [.application], tenantScoped: true) { context in
                let (tenant, collection) = try target(context)
                let key = try key(context)
                let body = try RequestBody(context.request, fields: collection.fields.map(\.name))
                let record = TenantRecord.read(
                    body.object, collection: collection, key: key, updatedAt: controller.clock.now())
                try body.check()
                guard let record else { throw APIError.badRequest("not a \(collection.rawValue) record") }
                try controller.directory.putRecord(tenant: tenant, record)
                return .json(.object([("record", record.jsonValue)]))
            },
            Route("GET", path + "/{key}", roles: [.application], tenantScoped: true) { context in
                let (tenant, collection) = try target(context)
                let record = try controller.directory.record(tenant: tenant, collection, key: try key(context))
                return .json(.object([("record", record.jsonValue)]))
            },
            Route("DELETE", path + "/{key}", roles: [.application], tenantScoped: true) { context in
                let (tenant, collection) = try target(context)
                let key = try key(context)
                guard try controller.directory.deleteRecord(tenant: tenant, collection, key: key) else {
                    throw ControllerError.notFound(kind: "\(collection.rawValue) record", id: key)
                }
                return HTTPResponse(status: 204, headers: [], body: [])
            },
            Route("GET", path, roles: [.application], tenantScoped: true) { context in
                let (tenant, collection) = try target(context)
                try context.request.acceptQuery(["after", "limit"])
                let limit = try context.request.limitQuery(default: 100, range: 1...999)
                let records = try controller.directory.records(
                    tenant: tenant, collection, after: context.request.queryValue("after"), limit: limit + 1)
                let next = records.count > limit ? records[limit - 1].key : nil
                return .json(
                    .object([
                        ("records", .array(records.prefix(limit).map(\.jsonValue))), ("next", .optional(next)),
                    ]))
            },
        ]
    }
}
