import ResidencyController
import ResidencyCore

/// Every route of API v1 and the operational endpoints, with the roles each accepts (admin always may).
enum APIRoutes {
    static func all(controller: Controller, metrics: Metrics, openAPI: [UInt8]) -> [Route] {
        let everyRole: Set<Role> = Set(Role.allCases)
        return [
            Route("GET", "/healthz", roles: nil, inline: true) { _ in .json(.object([("status", .string("ok"))])) },
            Route("GET", "/readyz", roles: nil, inline: true) { _ in
                do {
                    _ = try controller.pool.read { try $0.scalarInteger("SELECT 1") }
                    // Ready, and what went wrong that no caller was told: failures of background work and refused
                    // calls that could not be put on the ledger.
                    let failures = controller.failures
                    let publication = controller.publisher.status
                    return .json(
                        .object([
                            ("status", .string("ready")), ("failures", .integer(failures.count)),
                            ("unrecorded_refusals", .integer(controller.tokens.unrecordedRefusalCount)),
                            (
                                "ledger",
                                .object([
                                    ("signed_size", .integer(publication.signedSize)),
                                    ("published_size", .integer(publication.publishedSize)),
                                    ("witness_quorum", .integer(controller.publisher.policy.quorum)),
                                    (
                                        "publication",
                                        .string(publication.waitingSince == nil ? "current" : "waiting for the witness quorum")
                                    ),
                                    (
                                        "waiting_since",
                                        publication.waitingSince.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null
                                    ),
                                    ("witness_problems", .array(publication.lastProblems.map { .string($0) })),
                                ])
                            ),
                            (
                                "latest_failure",
                                failures.latest.last.map { failure in
                                    .object([
                                        ("time", .string(Timestamp.rfc3339(milliseconds: failure.time))),
                                        ("what", .string(failure.what)), ("error", .string(failure.error)),
                                    ])
                                } ?? .null
                            ),
                        ]))
                } catch {
                    return APIError(status: 503, code: "not_ready", message: "the database is not reachable: \(error)")
                        .response
                }
            },
            Route("GET", "/metrics", roles: nil, inline: true) { _ in
                .text(
                    metrics.render(tenants: controller.directory.tenantCounts) + controller.counters.render()
                        + """
                        # HELP residency_background_failures_total Failures of work no caller waited for (see /readyz).
                        # TYPE residency_background_failures_total counter
                        residency_background_failures_total \(controller.failures.count)
                        # HELP residency_ledger_signed_size Entries under the latest signed checkpoint.
                        # TYPE residency_ledger_signed_size gauge
                        residency_ledger_signed_size \(controller.publisher.status.signedSize)
                        # HELP residency_ledger_published_size Entries under the latest published (witness-cosigned) checkpoint.
                        # TYPE residency_ledger_published_size gauge
                        residency_ledger_published_size \(controller.publisher.status.publishedSize)
                        # HELP residency_ledger_publication_failures_total Publications that fell short of the witness quorum.
                        # TYPE residency_ledger_publication_failures_total counter
                        residency_ledger_publication_failures_total \(controller.publisher.status.failures)
                        # HELP residency_refusals_unrecorded_total Refused calls that could not be written to the ledger.
                        # TYPE residency_refusals_unrecorded_total counter
                        residency_refusals_unrecorded_total \(controller.tokens.unrecordedRefusalCount)

                        """ + regionalServiceMetrics(controller),
                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
            Route("GET", "/openapi.json", roles: nil, inline: true) { _ in
                HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: openAPI)
            },
            Route("POST", "/v1/placements", roles: [.signup, .ops], inline: true) { context in
                let placement =
                    try wellFormedPlacement(context.request, controller: controller)
                    ?? placementRequest(context.request, controller: controller).placement
                let decision = controller.directory.place(placement)
                // {"decision":…} written directly; the same bytes as the JSONValue form, at a fraction of the cost.
                var body = Array(#"{"decision":"#.utf8)
                body.reserveCapacity(700)
                body.append(contentsOf: decision.encodedJSON())
                body.append(contentsOf: [UInt8(ascii: "}"), 0x0A])
                return HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: body)
            },
            Route("POST", "/v1/tenants", roles: [.signup]) { context in
                try createTenant(context, controller: controller)
            },
            Route("GET", "/v1/tenants", roles: [.signup, .ops, .support, .compliance]) { context in
                try listTenants(context.request, controller: controller)
            },
            Route(
                "GET", "/v1/tenants/{id}", roles: [.signup, .ops, .support, .compliance], inline: true,
                tenantScoped: true
            ) { context in
                let id = context.parameters["id"]!
                guard TenantID.isWellFormed(id) else {
                    throw APIError(
                        status: 404, code: "not_found",
                        message: "no tenant \"\(id)\" (tenant ids look like tn_0193a2b4c5d6e7f8091a2b)")
                }
                try TenantScope.check(id, context: context, controller: controller, route: "/v1/tenants/{id}")
                let found = try controller.directory.tenant(id: id)
                return .json(
                    .object([("tenant", try controller.directory.tenantView(found.tenant, placement: found.placement))]))
            },
            Route("GET", "/v1/regions", roles: everyRole, inline: true, tenantScoped: true) { context in
                try rejectQuery(context.request)
                let counts = controller.directory.tenantCounts
                return .json(
                    .object([
                        (
                            "regions",
                            .array(
                                controller.policies.catalog.regions.map {
                                    $0.jsonValue(tenantCount: counts[$0.id, default: 0]).adding([
                                        ("service", controller.directory.regionalServiceView(region: $0.id) ?? .null)
                                    ])
                                })
                        )
                    ]))
            },
            Route("GET", "/v1/regions/{id}", roles: everyRole, inline: true, tenantScoped: true) { context in
                let id = context.parameters["id"]!
                guard let region = controller.policies.catalog.region(id: id) else {
                    throw APIError(
                        status: 404, code: "not_found",
                        message:
                            "no region \"\(id)\"; regions: \(controller.policies.catalog.regionIDs.joined(separator: ", "))"
                    )
                }
                return .json(
                    .object([
                        (
                            "region",
                            region.jsonValue(tenantCount: controller.directory.tenantCounts[id, default: 0]).adding([
                                ("service", controller.directory.regionalServiceView(region: id) ?? .null)
                            ])
                        )
                    ]))
            },
        ]
    }

    /// The fields shared by a placement question and a signup.
    struct PlacementFields {
        var placement = PlacementRequest()
        var body: RequestBody
    }

    static func placementRequest(
        _ request: HTTPRequest, controller: Controller, extraFields: [String] = []
    ) throws(APIError)
        -> PlacementFields
    {
        let body = try RequestBody(request, fields: ["ip", "country", "region", "plan"] + extraFields)
        var fields = PlacementFields(body: body)
        let object = body.object
        if let ip = object.optional("ip"), let text = ip.string() {
            switch IPAddress.parse(text) {
            case .success(let address): fields.placement.ip = address
            case .failure(let error): ip.note("\(error)")
            }
        }
        fields.placement.declaredCountry = object.optional("country")?.country(
            in: controller.policies.catalog.countries)
        if let region = object.optional("region"), let id = region.string() {
            if controller.policies.catalog.region(id: id) == nil {
                region.problem(
                    "is not a region; accepted: \(controller.policies.catalog.regionIDs.joined(separator: ", "))")
            } else {
                fields.placement.requestedRegion = id
            }
        }
        fields.placement.plan = object.optional("plan")?.oneOf(Plan.self)
        try body.check()
        return fields
    }

    /// The placement question read straight off the parsed body when everything in it is right: a JSON object
    /// of known fields, each a string the strict reader would accept. Anything else — and so every error,
    /// with its message — is left to `placementRequest` (nil here). Same answer, without the reader's
    /// bookkeeping on the route that answers tens of thousands a second (`APIApplicationTests` holds the two
    /// readings equal).
    static func wellFormedPlacement(_ request: HTTPRequest, controller: Controller) -> PlacementRequest? {
        guard request.mediaType?.equalsIgnoringASCIICase("application/json") == true,
            case .object(let members)? = try? JSONParser.parse(request.body)
        else { return nil }
        let catalog = controller.policies.catalog
        var placement = PlacementRequest()
        for (key, value) in members {
            guard case .string(let text) = value else { return nil }
            switch key {
            case "ip":
                guard case .success(let address) = IPAddress.parse(text) else { return nil }
                placement.ip = address
            case "country":
                guard let code = CountryCode(text), code.rawValue == text,
                    !catalog.countries.isUsable || catalog.countries.contains(code)
                else { return nil }
                placement.declaredCountry = code
            case "region":
                guard catalog.region(id: text) != nil else { return nil }
                placement.requestedRegion = text
            case "plan":
                guard let plan = Plan(rawValue: text) else { return nil }
                placement.plan = plan
            default: return nil
            }
        }
        return placement
    }

    static func createTenant(_ context: RequestContext, controller: Controller) throws -> HTTPResponse
    {
        let fields = try placementRequest(context.request, controller: controller, extraFields: ["name"])
        let name = fields.body.object.required("name")?.text()
        if !fields.body.object.has("plan") { fields.body.object.reader.note("missing required field \"plan\"") }
        try fields.body.check()
        guard let name, let plan = fields.placement.plan else {
            throw APIError.badRequest("name and plan are required")
        }
        var idempotency: IdempotencyKey?
        if let key = context.request.header("idempotency-key") {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIError.badRequest(
                    "Idempotency-Key must be 1-255 visible ASCII characters", code: "invalid_header")
            }
            idempotency = IdempotencyKey(
                scope: context.caller?.tokenName ?? "", key: key, requestHash: fields.body.canonicalHash)
        }
        let signup = Signup(
            name: name, plan: plan, declaredCountry: fields.placement.declaredCountry, ip: fields.placement.ip,
            requestedRegion: fields.placement.requestedRegion)
        // Placements and signups are counted by the directory service, where they happen.
        let result = try controller.directory.signUp(
            signup, idempotency: idempotency, actor: context.caller?.tokenName ?? "system")
        var response = HTTPResponse.json(
            .object([("tenant", result.tenant.jsonValue(placement: result.placement))]), status: 201)
        response.headers.append(("Location", "/v1/tenants/\(result.tenant.id)"))
        if result.replayed { response.headers.append(("Idempotent-Replayed", "true")) }
        return response
    }

    static func listTenants(_ request: HTTPRequest, controller: Controller) throws -> HTTPResponse {
        let accepted = ["region", "status", "limit", "cursor"]
        for (name, _) in request.query where !accepted.contains(name) {
            throw APIError.badRequest(
                "unknown query parameter \"\(name)\"; accepted: \(accepted.joined(separator: ", "))",
                code: "invalid_query")
        }
        var status: TenantStatus?
        if let text = request.queryValue("status") {
            guard let value = TenantStatus(rawValue: text) else {
                throw APIError.badRequest(
                    "status: \"\(text)\"; accepted: \(TenantStatus.allCases.map(\.rawValue).joined(separator: ", "))",
                    code: "invalid_query")
            }
            status = value
        }
        var limit = 100
        if let text = request.queryValue("limit") {
            guard let value = Int(text), (1...1000).contains(value) else {
                throw APIError.badRequest("limit: \"\(text)\"; accepted: an integer 1-1000", code: "invalid_query")
            }
            limit = value
        }
        let cursor = request.queryValue("cursor")
        if let cursor, !TenantID.isWellFormed(cursor) {
            throw APIError.badRequest("cursor: \"\(cursor)\" is not a cursor this API returned", code: "invalid_query")
        }
        let page = try controller.directory.tenants(
            region: request.queryValue("region"), status: status, limit: limit, after: cursor)
        return .json(
            .object([
                ("tenants", .array(try page.tenants.map { try controller.directory.tenantView($0, inList: true) })),
                ("next_cursor", .optional(page.next)),
            ]))
    }

    static func rejectQuery(_ request: HTTPRequest) throws(APIError) {
        if let first = request.query.first {
            throw APIError.badRequest(
                "unknown query parameter \"\(first.name)\"; this route takes none", code: "invalid_query")
        }
    }

    /// Each enrolled region's service: whether it answers, when it last did, what it holds and what it has queued.
    /// One series per region of the catalog that has a service (a closed set: the catalog's regions).
    static func regionalServiceMetrics(_ controller: Controller) -> String {
        var up = "# HELP residency_region_service_up 1 when the region's service answered its last health call.\n# TYPE residency_region_service_up gauge\n"
        var contact = "# HELP residency_region_service_last_contact_seconds Unix time of the last answer of the region's service.\n# TYPE residency_region_service_last_contact_seconds gauge\n"
        var pending = "# HELP residency_region_service_pending_events Events the region's service has queued for the ledger.\n# TYPE residency_region_service_pending_events gauge\n"
        var any = false
        for region in controller.policies.catalog.regionIDs {
            guard let view = controller.directory.regionalServiceView(region: region) else { continue }
            any = true
            let answering = view["state"] == .string("reachable") ? 1 : 0
            up += "residency_region_service_up{region=\"\(region)\"} \(answering)\n"
            if case .string(let time)? = view["last_contact_at"], let milliseconds = Timestamp.milliseconds(rfc3339: time) {
                contact += "residency_region_service_last_contact_seconds{region=\"\(region)\"} \(milliseconds / 1000)\n"
            }
            if case .number(let count)? = view["pending_events"] {
                pending += "residency_region_service_pending_events{region=\"\(region)\"} \(count)\n"
            }
        }
        return any ? up + contact + pending : ""
    }
}
