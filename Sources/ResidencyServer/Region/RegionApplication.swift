import Foundation
import ResidencyController
import ResidencyCore
import ResidencyTLS

/// The HTTP face of a regional service, behind mutual TLS (only the controller's pinned key, and any
/// application keys its operator pinned, pass the handshake):
/// - `PUT /internal/v1/assignments/{tenant}`: a signed assignment from the controller;
/// - `GET /internal/v1/health`: region, site, version, tenants, free disk, events waiting;
/// - `GET /internal/v1/outbox?limit=N` and `POST /internal/v1/outbox/ack`: events for the controller's ledger;
/// - the tenant data routes (`/v1/tenants/{id}/data/{collection}[/{key}]`), for tenants assigned here only:
///   another region's tenant gets 421 naming its region and endpoint, an unknown one 404.
package final class RegionApplication: Sendable {
    package let node: RegionNode
    /// The controller's key pin: only it may call the internal routes (assignments, grants, the outbox, the
    /// witness); the application keys pinned beside it reach the tenant data routes only.
    let controllerPin: String?
    let version: String
    let log: @Sendable (String) -> Void
    /// The server's TLS context and the pins it accepts besides the peer services' (the controller's and the
    /// operator's application keys): a new peer list replaces the context's pins with these and the peers'.
    let tls: TLSContext?
    let basePins: Set<String>

    package init(
        node: RegionNode, version: String, tls: TLSContext? = nil, basePins: Set<String> = [],
        log: @escaping @Sendable (String) -> Void
    ) {
        self.node = node
        self.tls = tls
        self.basePins = basePins
        self.controllerPin = TLSIdentity.pin(ofEd25519: node.configuration.controllerKey)
        self.version = version
        self.log = log
    }

    package func respond(to request: HTTPRequest) -> HTTPResponse {
        let response: HTTPResponse
        do {
            response = try route(request)
        } catch let error as APIError {
            response = error.response
        } catch let refusal as RegionNode.Refusal {
            response = Self.response(for: refusal)
        } catch {
            response = APIError(status: 500, code: "internal", message: "\(error)").response
        }
        log(
            JSONValue.object([
                ("time", .string(Timestamp.rfc3339(milliseconds: Clock.system.now()))), ("region", .string(node.region)),
                ("method", .string(String(request.method.prefix(16)))), ("path", .string(String(request.path.prefix(200)))),
                ("status", .integer(response.status)),
            ]).encoded())
        return response
    }

    package func rejection(status: Int, message: String) -> HTTPResponse {
        APIError(status: status, code: "bad_request", message: message).response
    }

    static func response(for refusal: RegionNode.Refusal) -> HTTPResponse {
        switch refusal {
        case .unknownTenant: return APIError(status: 404, code: "unknown_tenant", message: refusal.description).response
        case .elsewhere(_, let region, let endpoint):
            var error = APIError(status: 421, code: "misdirected", message: refusal.description)
            error.details = [("region", .string(region)), ("endpoint", .string(endpoint))]
            return error.response
        case .notServed(_, let status):
            return APIError(status: 409, code: "tenant_\(status.rawValue)", message: refusal.description).response
        case .frozen:
            var error = APIError(status: 409, code: "migration_in_progress", message: refusal.description)
            error.headers = [("Retry-After", "1")]
            return error.response
        case .invalid(let message): return APIError.badRequest(message, code: "invalid_field").response
        case .accessRefused(let code, let message): return APIError(status: 403, code: code, message: message).response
        case .storage: return APIError(status: 503, code: "storage_unavailable", message: refusal.description).response
        case .orderRefused(let code, let message): return APIError(status: 403, code: code, message: message).response
        case .migrationConflict(let code, let message): return APIError(status: 409, code: code, message: message).response
        case .peerUnavailable(let message): return APIError(status: 502, code: "peer_unavailable", message: message).response
        }
    }

    private func route(_ request: HTTPRequest) throws -> HTTPResponse {
        let segments = request.pathSegments
        if segments.first == "internal", request.peerPin == nil || request.peerPin != controllerPin {
            // An application's key passed the handshake but may not deliver assignments or grants, nor drain the
            // outbox before the controller recorded it.
            throw APIError(
                status: 403, code: "controller_only",
                message: "the internal routes answer only the controller this service enrolled with")
        }
        let isPeer = node.isPeer(pin: request.peerPin) && request.peerPin != controllerPin
        if segments.first == "peer" || isPeer {
            // A peer service's key reaches the migration files it was ordered to receive, nothing else; the peer
            // routes answer peer services only.
            guard isPeer, segments.first == "peer" else {
                throw APIError(
                    status: 403, code: "peer_only",
                    message: "a peer regional service reaches only /peer/v1/migrations/…, and only peer services reach it")
            }
            guard segments.count == 5, segments[1] == "v1", segments[2] == "migrations" else {
                throw APIError(status: 404, code: "not_found", message: "accepted: /peer/v1/migrations/{id}/{snapshot|changes|stream}")
            }
            return try peerMigrationRoute(request, migration: segments[3], what: segments[4])
        }
        switch (request.method, segments.count, segments.first) {
        case (_, 3, "internal") where segments[1] == "v1" && segments[2] == "peers":
            return try peersRoute(request)
        case (_, 5, "internal") where segments[1] == "v1" && segments[2] == "migrations":
            return try internalMigrationRoute(request, migration: segments[3], step: segments[4])
        case ("GET", 3, "internal") where segments[1] == "v1" && segments[2] == "health":
            return .json(node.health(version: version))
        case ("PUT", 4, "internal") where segments[1] == "v1" && segments[2] == "assignments":
            return try assignment(request, tenant: segments[3])
        case ("POST", 4, "internal") where segments[1] == "v1" && segments[2] == "witness" && segments[3] == "add-checkpoint":
            guard let witness = node.witness else {
                throw APIError(status: 404, code: "no_witness", message: "this service's enrolment carried no ledger key to witness")
            }
            let answer = witness.addCheckpoint(request.body)
            return HTTPResponse(
                status: answer.status, headers: [("Content-Type", answer.contentType)], body: Array(answer.body.utf8))
        case ("GET", 3, "internal") where segments[1] == "v1" && segments[2] == "outbox":
            try request.acceptQuery(["limit"])
            let limit = try request.limitQuery(default: 500, range: 1...1000)
            let events = try node.events(after: 0, limit: limit)
            return .json(
                .object([
                    (
                        "events",
                        .array(
                            events.map { event in
                                .object([
                                    ("seq", .integer(event.seq)), ("kind", .string(event.kind)),
                                    ("time", .string(Timestamp.rfc3339(milliseconds: event.time))),
                                    ("body", (try? JSONParser.parse(event.body)) ?? .null),
                                ])
                            })
                    )
                ]))
        case ("POST", 4, "internal") where segments[1] == "v1" && segments[2] == "outbox" && segments[3] == "ack":
            let body = try RequestBody(request, fields: ["through"])
            let through = body.object.required("through")?.integer(in: 0...Int64.max)
            try body.check()
            try node.acknowledge(through: through ?? 0)
            return .json(.object([("acknowledged_through", .integer(through ?? 0))]))
        case (_, 4, "internal") where segments[1] == "v1" && segments[2] == "grants":
            guard request.method == "PUT" else {
                throw APIError(status: 405, code: "method_not_allowed", message: "a grant is delivered with PUT")
            }
            do {
                let signed = try SignedSupportGrant(parsing: request.body)
                guard signed.grant.request == segments[3] else {
                    throw RegionEnrolmentError("the grant is \(signed.grant.request), not \(segments[3])")
                }
                switch try node.accept(grant: request.body) {
                case .stored: return .json(.object([("outcome", .string("stored"))]))
                case .unchanged: return .json(.object([("outcome", .string("unchanged"))]))
                case .stale(let held):
                    return APIError(status: 409, code: "stale_grant", message: "a newer grant (issued \(held)) is held").response
                }
            } catch let error as RegionEnrolmentError {
                node.recordRefusal(tenant: nil, reason: "grant refused", detail: error.description)
                return APIError(status: 403, code: "grant_refused", message: error.description).response
            }
        case (_, 6, "v1") where segments[1] == "tenants" && segments[3] == "support":
            return try support(request, tenant: segments[2], collection: segments[4], key: segments[5])
        case (_, 5, "v1") where segments[1] == "tenants" && segments[3] == "data",
            (_, 6, "v1") where segments[1] == "tenants" && segments[3] == "data":
            return try data(request, tenant: segments[2], collection: segments[4], key: segments.count == 6 ? segments[5] : nil)
        default:
            throw APIError(
                status: 404, code: "not_found",
                message: "no such endpoint on a regional service; it serves /internal/v1/{health,assignments,outbox} and /v1/tenants/{id}/data/…")
        }
    }

    private func assignment(_ request: HTTPRequest, tenant: String) throws -> HTTPResponse {
        do {
            let signed = try SignedAssignment(parsing: request.body)
            guard signed.assignment.tenant == tenant else {
                throw RegionEnrolmentError("the assignment names tenant \(signed.assignment.tenant), not \(tenant)")
            }
            switch try node.accept(assignment: request.body) {
            case .stored: return .json(.object([("outcome", .string("stored"))]))
            case .unchanged: return .json(.object([("outcome", .string("unchanged"))]))
            case .stale(let held):
                node.recordRefusal(tenant: tenant, reason: "stale", detail: "epoch \(signed.assignment.epoch) is older than the epoch \(held) held")
                return APIError(
                    status: 409, code: "stale_assignment",
                    message: "epoch \(signed.assignment.epoch) is older than the epoch \(held) held; the newer one stands"
                ).response
            }
        } catch let error as RegionEnrolmentError {
            node.recordRefusal(tenant: TenantIDRule.isWellFormed(tenant) ? tenant : nil, reason: "refused", detail: error.description)
            return APIError(status: 403, code: "assignment_refused", message: error.description).response
        }
    }

    /// Support staff's access to one record, under their grant: `X-Residency-Grant` (the access request id),
    /// `X-Residency-Staff` (who), `X-Residency-Country` (where they are now). GET reads; PUT writes (a write grant).
    private func support(_ request: HTTPRequest, tenant: String, collection name: String, key: String) throws -> HTTPResponse {
        guard let collection = TenantCollection(rawValue: name) else {
            throw APIError(status: 404, code: "not_found", message: "no collection \"\(name)\"")
        }
        guard TenantCollection.isValidKey(key) else {
            throw APIError.badRequest("key: \"\(key)\"; accepted: \(TenantCollection.keyRule)", code: "invalid_field")
        }
        var headers: [String: String] = [:]
        for name in ["x-residency-grant", "x-residency-staff", "x-residency-country"] {
            guard let value = request.header(name), !value.isEmpty, value.utf8.count <= 64 else {
                throw APIError.badRequest(
                    "a support request carries X-Residency-Grant (the access request id), X-Residency-Staff and X-Residency-Country (ISO 3166 code); \(name) is missing or longer than 64 bytes",
                    code: "invalid_field")
            }
            headers[name] = value
        }
        let mode: AccessScope.Mode
        switch request.method {
        case "GET": mode = .read
        case "PUT": mode = .write
        default: throw APIError(status: 405, code: "method_not_allowed", message: "support access takes GET or PUT")
        }
        // Tenant records are the customer's own data.
        let database = try node.supportUse(
            tenant: tenant, grant: headers["x-residency-grant"]!, staff: headers["x-residency-staff"]!,
            physicalCountry: headers["x-residency-country"]!, method: request.method,
            resource: "\(collection.rawValue)/\(key)", dataClass: AccessScope.DataClass.customerData.rawValue, mode: mode)
        if mode == .read {
            guard let record = try node.record(in: database, tenant: tenant, collection, key: key) else {
                throw APIError(status: 404, code: "not_found", message: "no \(collection.rawValue) record \"\(key)\"")
            }
            return .json(.object([("record", record.jsonValue)]))
        }
        let body = try RequestBody(request, fields: collection.fields.map(\.name))
        let record = TenantRecord.read(body.object, collection: collection, key: key, updatedAt: Clock.system.now())
        try body.check()
        guard let record else { throw APIError.badRequest("not a \(collection.rawValue) record") }
        try node.put(tenant: tenant, record)
        return .json(.object([("record", record.jsonValue)]))
    }

    private func data(_ request: HTTPRequest, tenant: String, collection name: String, key: String?) throws -> HTTPResponse {
        guard let collection = TenantCollection(rawValue: name) else {
            throw APIError(
                status: 404, code: "not_found",
                message: "no collection \"\(name)\"; accepted: \(TenantCollection.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        if let key, !TenantCollection.isValidKey(key) {
            throw APIError.badRequest("key: \"\(key)\"; accepted: \(TenantCollection.keyRule)", code: "invalid_field")
        }
        switch (request.method, key) {
        case ("PUT", let key?):
            let body = try RequestBody(request, fields: collection.fields.map(\.name))
            let record = TenantRecord.read(body.object, collection: collection, key: key, updatedAt: Clock.system.now())
            try body.check()
            guard let record else { throw APIError.badRequest("not a \(collection.rawValue) record") }
            try node.put(tenant: tenant, record)
            return .json(.object([("record", record.jsonValue)]))
        case ("GET", let key?):
            guard let record = try node.record(tenant: tenant, collection, key: key) else {
                throw APIError(status: 404, code: "not_found", message: "no \(collection.rawValue) record \"\(key)\"")
            }
            return .json(.object([("record", record.jsonValue)]))
        case ("DELETE", let key?):
            guard try node.delete(tenant: tenant, collection, key: key) else {
                throw APIError(status: 404, code: "not_found", message: "no \(collection.rawValue) record \"\(key)\"")
            }
            return HTTPResponse(status: 204, headers: [], body: [])
        case ("GET", nil):
            try request.acceptQuery(["after", "limit"])
            let limit = try request.limitQuery(default: 100, range: 1...1000)
            let records = try node.records(tenant: tenant, collection, after: request.queryValue("after"), limit: limit)
            return .json(.object([("records", .array(records.map(\.jsonValue)))]))
        default:
            throw APIError(
                status: 405, code: "method_not_allowed",
                message: "\(request.method) is not served here; a record takes PUT, GET, DELETE; a collection GET")
        }
    }
}
