import ResidencyController
import ResidencyCore

/// Migrations over HTTP: operations request, approve and cancel; an approved migration runs in the
/// server's background runner, and its progress is read with GET.
enum MigrationRoutes {
    static func all(controller: Controller) -> [Route] {
        @Sendable func answer(_ migration: Migration, status: Int = 200, steps: Bool = false) throws -> HTTPResponse {
            var value = migration.jsonValue
            if steps {
                value = value.adding([
                    (
                        "steps",
                        .array(try controller.migrations.migrationSteps(id: migration.id).map(\.jsonValue))
                    )
                ])
            }
            return .json(.object([("migration", value)]), status: status)
        }
        @Sendable func emptyBody(_ request: HTTPRequest) throws {
            if !request.body.isEmpty { _ = try RequestBody(request, fields: []).check() }
        }
        return [
            Route("POST", "/v1/tenants/{id}/migrations", roles: [.ops]) { context in
                let body = try RequestBody(context.request, fields: ["to_region", "to_site", "reason"])
                let region = body.object.required("to_region")?.string()
                let site = body.object.optional("to_site")?.string()
                let reason = body.object.required("reason")?.text()
                try body.check()
                guard let region, let reason else { throw APIError.badRequest("incomplete migration request") }
                let migration = try controller.migrations.requestMigration(
                    .init(tenant: context.parameters["id"]!, toRegion: region, toSite: site, reason: reason),
                    by: context.caller!.tokenName)
                return try answer(migration, status: 201)
            },
            Route("GET", "/v1/migrations", roles: [.ops, .compliance]) { context in
                try context.request.acceptQuery(["tenant", "state", "plan", "limit"])
                var state: MigrationState?
                if let text = context.request.queryValue("state") {
                    guard let value = MigrationState(rawValue: text) else {
                        throw APIError.badRequest(
                            "state: \"\(text)\"; accepted: \(MigrationState.allCases.map(\.rawValue).joined(separator: ", "))",
                            code: "invalid_query")
                    }
                    state = value
                }
                let limit = try context.request.limitQuery(default: 100, range: 1...1000)
                let migrations = try controller.migrations.migrations(
                    tenant: context.request.queryValue("tenant"), state: state,
                    plan: context.request.queryValue("plan"), limit: limit)
                return .json(.object([("migrations", .array(migrations.map(\.jsonValue)))]))
            },
            Route("GET", "/v1/migrations/{id}", roles: [.ops, .compliance]) { context in
                try answer(try controller.migrations.migration(id: context.parameters["id"]!), steps: true)
            },
            Route("POST", "/v1/migrations/{id}/approve", roles: [.ops]) { context in
                try emptyBody(context.request)
                let migration = try controller.migrations.approveMigration(
                    id: context.parameters["id"]!, by: context.caller!.tokenName)
                controller.migrations.startMigration(id: migration.id)
                return try answer(migration, status: 202)
            },
            Route("POST", "/v1/migrations/{id}/cancel", roles: [.ops]) { context in
                try emptyBody(context.request)
                let migration = try controller.migrations.cancelMigration(
                    id: context.parameters["id"]!, by: context.caller!.tokenName)
                if migration.state == .rollingBack { controller.migrations.startMigration(id: migration.id) }
                return try answer(migration, status: migration.state == .rollingBack ? 202 : 200)
            },
        ]
    }
}
