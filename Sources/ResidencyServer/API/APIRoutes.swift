import ResidencyController
import ResidencyCore

/// Every route of API v1 and the operational endpoints, with the roles each accepts (admin always may).
enum APIRoutes {
    static func all(controller: Controller, metrics: Metrics, openAPI: [UInt8]) -> [Route] {
        let everyRole: Set<Role> = Set(Role.allCases)
        let catalog = controller.policies.catalog
        let versionText = PolicyVersionText(controller.policies.version)
        return [
            Route("GET", "/healthz", roles: nil, inline: true) { _ in .json(.object([("status", .string("ok"))])) },
            Route("GET", "/readyz", roles: nil, inline: true) { _ in
                do {
                    try controller.checkStoreHealth()
                    // Ready, and what went wrong that no caller was told: failures of background work and refused
                    // calls that could not be put on the ledger.
                    let failures = controller.failures
                    let publication = controller.publisher.status
                    return .json(
                        .object([
                            ("status", .string("ready")), ("failures", .integer(failures.count)),
                            ("unrecorded_refusals", .integer(controller.tokens.unrecordedRefusalCount)),
                            // Several controllers on one PostgreSQL store: whether this one does the periodic work.
                            ("periodic_work", .string(controller.context.lease.isHeld ? "held" : "standby")),
                            (
                                "ledger",
                                .object([
                                    ("signed_size", .integer(publication.signedSize)),
                                    ("published_size", .integer(publication.publishedSize)),
                                    ("witness_quorum", .integer(controller.publisher.policy.quorum)),
                                    (
                                        "publication",
                                        .string(
                                            publication.waitingSince == nil
                                                ? "current" : "waiting for the witness quorum")
                                    ),
                                    (
                                        "waiting_since",
                                        publication.waitingSince.map { .string(Timestamp.rfc3339(milliseconds: $0)) }
                                            ?? .null
                                    ),
                                    ("witness_problems", .array(publication.lastProblems.map { .string($0) })),
                                ])
                            ),
                            ("wal_checkpoints", walCheckpointStatus(controller)),
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
                        # HELP residency_wal_checkpoint_failures_total WAL checkpoints of the SQLite store that failed (see /readyz).
                        # TYPE residency_wal_checkpoint_failures_total counter
                        residency_wal_checkpoint_failures_total \(controller.context.pool.walCheckpointer?.status.failures ?? 0)

                        """ + regionalServiceMetrics(controller),
                    contentType: "text/plain; version=0.0.4; charset=utf-8")
            },
            Route("GET", "/openapi.json", roles: nil, inline: true) { _ in
                HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: openAPI)
            },
            Route("POST", "/v1/placements", roles: [.signup, .ops], inline: true) { context in
                let placement =
                    try wellFormedPlacement(context.request, catalog: catalog)
                    ?? placementRequest(context.request, controller: controller)
                let directory = controller.directory
                let decision = directory.place(placement)
                // {"decision":…} written directly into one buffer; the same bytes as the JSONValue form, at a
                // fraction of the cost, with the reasons the placer rendered at load copied in.
                var body = ByteWriter(capacity: 1024)
                body.append(#"{"decision":"#)
                decision.writeJSON(into: &body, versionText: versionText, placer: directory.placer)
                body.append("}\n")
                // Room for the X-Request-Id the application adds: an array literal of one grew again for it.
                var headers: [(name: String, value: String)] = []
                headers.reserveCapacity(2)
                headers.append(("Content-Type", "application/json"))
                return HTTPResponse(status: 200, headers: headers, body: body.bytes)
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
                    .object([("tenant", try controller.directory.tenantView(found.tenant, placement: found.placement))])
                )
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

    /// The signup fields of a body, read as text for `SignupInput` to parse and check (a field of the wrong type
    /// is the reader's problem), and the readers that report a problem at each field's path.
    struct SignupFields {
        var input = SignupInput()
        var readers: [SignupInput.Field: JSONReader] = [:]
        var body: RequestBody

        init(_ request: HTTPRequest, fields: [SignupInput.Field]) throws(APIError) {
            body = try RequestBody(request, fields: fields.map(\.rawValue))
            for field in fields {
                guard let reader = body.object.optional(field.rawValue) else { continue }
                readers[field] = reader
                input[field] = reader.string()
            }
        }

        /// Throws the input's problems with every other problem of the body, each at its field's path
        /// (`$.country: "XX": is not …`): the message after the path is the one the command line prints after
        /// its option's name.
        func fail(_ problems: SignupInput.Problems) throws(APIError) -> Never {
            let object = body.object.reader
            for problem in problems.problems {
                switch (readers[problem.field], problem.isMissing) {
                case (let reader?, false): reader.note(problem.message)
                // Present but not a string: the reader has said so.
                case (.some, true): break
                case (nil, _):
                    JSONReader(
                        value: .null, file: object.file, collector: object.collector,
                        path: object.path + "." + problem.field.rawValue
                    ).note(problem.message)
                }
            }
            try body.check()
            throw RequestBody.failure(body.collector)
        }
    }

    static func placementRequest(_ request: HTTPRequest, controller: Controller) throws(APIError) -> PlacementRequest {
        let fields = try SignupFields(request, fields: SignupInput.placementFields)
        let placement: PlacementRequest
        do throws(SignupInput.Problems) {
            placement = try fields.input.placementRequest(in: controller.policies.catalog)
        } catch {
            try fields.fail(error)
        }
        try fields.body.check()
        return placement
    }

    /// The placement question read straight off the parsed body when everything in it is right: a JSON object
    /// of known fields, each a string `SignupInput` accepts. Anything else — and so every error, with its
    /// message — is left to `placementRequest` (nil here). Same answer, without the reader's bookkeeping on the
    /// route that answers tens of thousands a second (`APIApplicationTests` holds the two readings equal).
    static func wellFormedPlacement(_ request: HTTPRequest, controller: Controller) -> PlacementRequest? {
        wellFormedPlacement(request, catalog: controller.policies.catalog)
    }

    /// `wellFormedPlacement` against the catalog the route took once (policies are fixed for the controller's
    /// life): reading it from the controller on each request copied the whole policy set.
    static func wellFormedPlacement(_ request: HTTPRequest, catalog: RegionCatalog) -> PlacementRequest? {
        guard request.hasMediaType("application/json") else { return nil }
        // First off the body's bytes (`JSONStringMembers`), which takes plain string members only; a body with
        // escapes or anything unusual is parsed into a tree and read the same way. The members are only collected
        // here and checked after: a closure that used the catalog would take a copy of it for every request.
        var texts: (ip: String?, country: String?, region: String?, plan: String?) = (nil, nil, nil, nil)
        let plain = JSONStringMembers.read(request.body, maximumMembers: 4) { key, value in
            // Keys compared as bytes: a String of each key was made only to be compared.
            let text = String(decoding: value, as: UTF8.self)
            if JSONObjectScanner.key(key, is: "ip") {
                texts.ip = text
            } else if JSONObjectScanner.key(key, is: "plan") {
                texts.plan = text
            } else if JSONObjectScanner.key(key, is: "country") {
                texts.country = text
            } else if JSONObjectScanner.key(key, is: "region") {
                texts.region = text
            } else {
                return false
            }
            return true
        }
        var placement = PlacementRequest()
        if plain == true {
            if let text = texts.ip, !accept("ip", text, catalog: catalog, into: &placement) { return nil }
            if let text = texts.country, !accept("country", text, catalog: catalog, into: &placement) { return nil }
            if let text = texts.region, !accept("region", text, catalog: catalog, into: &placement) { return nil }
            if let text = texts.plan, !accept("plan", text, catalog: catalog, into: &placement) { return nil }
            return placement
        }
        guard case .object(let members)? = try? JSONParser.parse(request.body) else { return nil }
        for (key, value) in members {
            guard case .string(let text) = value, accept(key, text, catalog: catalog, into: &placement) else {
                return nil
            }
        }
        return placement
    }

    /// Takes one member of a placement body into `placement` when `SignupInput` accepts it as it stands.
    private static func accept(
        _ key: String, _ text: String, catalog: RegionCatalog, into placement: inout PlacementRequest
    ) -> Bool {
        switch key {
        case "ip":
            // A dotted quad straight from its bytes (what `SignupInput.ip` makes of one, without the copy into an
            // array and the Result); anything else — IPv6, or text it refuses — through `SignupInput.ip`.
            var text = text
            if let address = text.withUTF8({ IPAddress(ipv4: UnsafeRawBufferPointer($0)) }) {
                placement.ip = address
                return true
            }
            guard case .success(let address) = SignupInput.ip(text) else { return false }
            placement.ip = address
        case "country":
            guard case .success(let code) = SignupInput.country(text, in: catalog) else { return false }
            placement.declaredCountry = code
        case "region":
            guard case .success(let region) = SignupInput.region(text, in: catalog) else { return false }
            placement.requestedRegion = region
        case "plan":
            guard case .success(let plan) = SignupInput.plan(text) else { return false }
            placement.plan = plan
        default: return false
        }
        return true
    }

    static func createTenant(_ context: RequestContext, controller: Controller) throws -> HTTPResponse {
        let fields = try SignupFields(context.request, fields: SignupInput.Field.allCases)
        let signup: Signup
        do throws(SignupInput.Problems) { signup = try fields.input.signup(in: controller.policies.catalog) } catch {
            try fields.fail(error)
        }
        try fields.body.check()
        var idempotency: IdempotencyKey?
        if let key = context.request.header("idempotency-key") {
            guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIError.badRequest(
                    "Idempotency-Key must be 1-255 visible ASCII characters", code: "invalid_header")
            }
            idempotency = IdempotencyKey(
                scope: context.caller?.tokenName ?? "", key: key, requestHash: fields.body.canonicalHash)
        }
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

    /// The SQLite store's WAL checkpoints, which run after commits, off their path: how many ran, how many failed
    /// and the latest failure. Null on PostgreSQL, which checkpoints by itself.
    static func walCheckpointStatus(_ controller: Controller) -> JSONValue {
        guard let status = controller.context.pool.walCheckpointer?.status else { return .null }
        return .object([
            ("completed", .integer(status.completed)), ("inline", .integer(status.inline)),
            ("inline_incomplete", .integer(status.inlineIncomplete)), ("busy", .integer(status.busy)),
            ("failures", .integer(status.failures)), ("latest_failure", .optional(status.latestFailure)),
        ])
    }

    /// Each enrolled region's service: whether it answers, when it last did, what it holds and what it has queued.
    /// One series per region of the catalog that has a service (a closed set: the catalog's regions).
    static func regionalServiceMetrics(_ controller: Controller) -> String {
        var up =
            "# HELP residency_region_service_up 1 when the region's service answered its last health call.\n# TYPE residency_region_service_up gauge\n"
        var contact =
            "# HELP residency_region_service_last_contact_seconds Unix time of the last answer of the region's service.\n# TYPE residency_region_service_last_contact_seconds gauge\n"
        var pending =
            "# HELP residency_region_service_pending_events Events the region's service has queued for the ledger.\n# TYPE residency_region_service_pending_events gauge\n"
        var tallied =
            "# HELP residency_region_service_order_refusals_tallied Refused migration orders the region's service has counted past a presenter's budget and not yet queued for the ledger.\n# TYPE residency_region_service_order_refusals_tallied gauge\n"
        var any = false
        for region in controller.policies.catalog.regionIDs {
            guard let view = controller.directory.regionalServiceView(region: region) else { continue }
            any = true
            let answering = view["state"] == .string("reachable") ? 1 : 0
            up += "residency_region_service_up{region=\"\(region)\"} \(answering)\n"
            if case .string(let time)? = view["last_contact_at"],
                let milliseconds = Timestamp.milliseconds(rfc3339: time)
            {
                contact +=
                    "residency_region_service_last_contact_seconds{region=\"\(region)\"} \(milliseconds / 1000)\n"
            }
            if case .number(let count)? = view["pending_events"] {
                pending += "residency_region_service_pending_events{region=\"\(region)\"} \(count)\n"
            }
            if case .number(let count)? = view["order_refusals_tallied"] {
                tallied += "residency_region_service_order_refusals_tallied{region=\"\(region)\"} \(count)\n"
            }
        }
        return any ? up + contact + pending + tallied : ""
    }
}
