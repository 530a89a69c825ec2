import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

@testable import ResidencyServer

/// Access-log lines captured by a test.
final class LogLines: Sendable {
    let lines = Mutex<[String]>([])
}

/// An API over an in-memory store with a token per role.
final class APIHarness: Sendable {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let application: APIApplication
    let controller: Controller
    let tokens: [Role: String]
    let log = LogLines()

    init() throws {
        let policies = try PolicySet.load(
            regions: Self.root.appendingPathComponent("Regions"), policies: Self.root.appendingPathComponent("Policies")
        )
        let locator = try GeoLocator(path: Self.root.appendingPathComponent("Regions/dbip-country-lite.mmdb").path)
        let pool = try DatabasePool(inMemory: ())
        controller = try Controller(policies: policies, locator: locator, pool: pool)
        var tokens: [Role: String] = [:]
        for role in Role.allCases {
            tokens[role] = try TokenService.createToken(name: "t-\(role.rawValue)", role: role, pool: pool)
        }
        self.tokens = tokens
        let log = self.log
        application = APIApplication(controller: controller) { line in
            log.lines.withLock { $0.append(String(decoding: line, as: UTF8.self)) }
        }
    }

    func send(
        _ method: String, _ target: String, role: Role? = .admin, token: String? = nil, body: String? = nil,
        contentType: String = "application/json", headers: [(String, String)] = []
    ) -> (status: Int, json: JSONValue?, response: HTTPResponse) {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
        if let token = token ?? role.flatMap({ tokens[$0] }) { text += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        if let body {
            text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        guard case .request(let request) = try! parser.next() else { fatalError("unparseable test request") }
        var response = application.respond(to: request)
        // A streamed body is run to its end here, as a server would send it (HEAD sends none).
        if response.stream != nil {
            if method != "HEAD" { response.body = try! response.collectedBody() }
            response.stream = nil
        }
        return (response.status, try? JSONParser.parse(response.body), response)
    }
}

@Suite struct APIApplicationTests {
    let api: APIHarness
    init() throws { api = try APIHarness() }

    @Test func operationalEndpointsArePublic() throws {
        #expect(api.send("GET", "/healthz", role: nil).json?["status"] == .string("ok"))
        #expect(api.send("GET", "/readyz", role: nil).json?["status"] == .string("ready"))
        let openAPI = api.send("GET", "/openapi.json", role: nil)
        #expect(openAPI.json?["openapi"] == .string("3.1.0"))
        let metrics = api.send("GET", "/metrics", role: nil)
        #expect(metrics.status == 200)
        #expect(
            String(decoding: metrics.response.body, as: UTF8.self).contains(
                "# TYPE residency_http_requests_total counter"))
    }

    @Test(arguments: [
        ("POST", "/v1/placements"), ("POST", "/v1/tenants"), ("GET", "/v1/tenants"),
        ("GET", "/v1/tenants/tn_0000000000000000000000"),
        ("GET", "/v1/regions"), ("GET", "/v1/regions/eu"),
    ])
    func everyV1RouteNeedsAValidToken(method: String, path: String) throws {
        let none = api.send(method, path, role: nil, body: method == "POST" ? "{}" : nil)
        #expect(none.status == 401)
        #expect(none.json?["error"]?["code"] == .string("unauthenticated"))
        #expect(none.response.header("WWW-Authenticate") == "Bearer realm=\"residency\"")
        let forged = api.send(
            method, path, token: "rsd_" + String(repeating: "0", count: 64), body: method == "POST" ? "{}" : nil)
        #expect(forged.status == 401)
        #expect(forged.json?["error"]?["code"] == .string("invalid_token"))
        #expect(api.send(method, path, token: "garbage").status == 401)
    }

    @Test func revokedTokenFailsAtOnce() throws {
        #expect(api.send("GET", "/v1/regions", role: .ops).status == 200)
        try TokenService.revokeToken(name: "t-ops", pool: api.controller.pool)
        #expect(api.send("GET", "/v1/regions", role: .ops).status == 401)
    }

    @Test func rolesAreEnforced() {
        let denied = api.send("POST", "/v1/tenants", role: .support, body: #"{"name":"A","plan":"free"}"#)
        #expect(denied.status == 403)
        #expect(
            denied.json?["error"]?["message"]
                == .string("role support may not POST /v1/tenants; roles accepted: signup, admin"))
        #expect(api.send("POST", "/v1/placements", role: .billing, body: "{}").status == 403)
        #expect(api.send("POST", "/v1/placements", role: .signup, body: "{}").status == 200)
        #expect(api.send("GET", "/v1/tenants", role: .billing).status == 403)
        #expect(api.send("GET", "/v1/regions", role: .billing).status == 200)
    }

    @Test func unknownRoutesAndMethods() {
        #expect(api.send("GET", "/v2/nothing").status == 404)
        let wrongMethod = api.send("DELETE", "/v1/tenants")
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.response.header("Allow") == "POST, GET")
    }

    @Test(arguments: [
        (#"{"country": "FR""#, "application/json", 400, "malformed_json"),
        (#"[1]"#, "application/json", 400, "invalid_field"),
        (#"{"country": "FR", "colour": "blue"}"#, "application/json", 400, "invalid_field"),
        (#"{"ip": "999.1.1.1"}"#, "application/json", 400, "invalid_field"),
        (#"{"country": "XX"}"#, "application/json", 400, "invalid_field"),
        (#"{"region": "mars"}"#, "application/json", 400, "invalid_field"),
        (#"{"plan": "gold"}"#, "application/json", 400, "invalid_field"),
        (#"{"country": 33}"#, "application/json", 400, "invalid_field"),
        (#"{"country": "FR"}"#, "text/plain", 415, "unsupported_media_type"),
    ])
    func badPlacementBodies(body: String, contentType: String, status: Int, code: String) {
        let result = api.send("POST", "/v1/placements", body: body, contentType: contentType)
        #expect(result.status == status, "\(body)")
        #expect(result.json?["error"]?["code"] == .string(code), "\(String(describing: result.json))")
    }

    @Test func errorsNameTheFieldAndWhatIsAccepted() {
        let unknown = api.send("POST", "/v1/placements", body: #"{"colour": "blue"}"#)
        #expect(
            unknown.json?["error"]?["message"]
                == .string("$.colour: unknown field \"colour\"; accepted fields: ip, country, region, plan"))
        let ip = api.send("POST", "/v1/placements", body: #"{"ip": "010.0.0.1"}"#)
        guard case .string(let message) = ip.json?["error"]?["message"] else {
            Issue.record("no message")
            return
        }
        #expect(message.contains("invalid IP address \"010.0.0.1\": leading zeros"))
    }

    @Test func placementAnswersWithoutStoring() {
        let result = api.send("POST", "/v1/placements", role: .signup, body: #"{"ip": "81.2.69.160", "plan": "trial"}"#)
        #expect(result.status == 200)
        #expect(result.json?["decision"]?["region"] == .string("uk"))
        #expect(api.controller.directory.tenantCounts.isEmpty)
        let refused = api.send("POST", "/v1/placements", body: #"{"country": "KP"}"#)
        #expect(refused.status == 200)
        #expect(refused.json?["decision"]?["refusal"]?["rule"] == .string("sanctions"))
    }

    @Test func signupCreatesAndIdempotencyReplays() throws {
        let body = #"{"name": "Acme GmbH", "plan": "paid", "country": "DE", "ip": "81.2.69.160"}"#
        let first = api.send(
            "POST", "/v1/tenants", role: .signup, body: body, headers: [("Idempotency-Key", "order-1")])
        #expect(first.status == 201)
        let tenant = try #require(first.json?["tenant"])
        #expect(tenant["region"] == .string("eu"))
        #expect(tenant["placement"]?["reasons"] != nil)
        guard case .string(let id) = tenant["id"] else { throw FixtureFailure("no id") }
        #expect(first.response.header("Location") == "/v1/tenants/\(id)")

        // The same body, spelled differently, replays the same tenant.
        let respaced = #"{ "plan":"paid","name":"Acme GmbH","ip":"81.2.69.160","country":"DE" }"#
        let again = api.send(
            "POST", "/v1/tenants", role: .signup, body: respaced, headers: [("Idempotency-Key", "order-1")])
        #expect(again.status == 201)
        #expect(again.json?["tenant"]?["id"] == .string(id))
        #expect(again.response.header("Idempotent-Replayed") == "true")

        let conflict = api.send(
            "POST", "/v1/tenants", role: .signup, body: #"{"name": "Other", "plan": "paid"}"#,
            headers: [("Idempotency-Key", "order-1")])
        #expect(conflict.status == 409)
        #expect(conflict.json?["error"]?["code"] == .string("idempotency_conflict"))

        // Keys are scoped to the token: another caller's "order-1" is a different key.
        #expect(
            api.send("POST", "/v1/tenants", role: .admin, body: body, headers: [("Idempotency-Key", "order-1")]).json?[
                "tenant"]?["id"] != .string(id))
        #expect(api.controller.directory.tenantCounts["eu"] == 2)

        let fetched = api.send("GET", "/v1/tenants/\(id)", role: .support)
        #expect(fetched.status == 200)
        #expect(fetched.json?["tenant"]?["name"] == .string("Acme GmbH"))
    }

    @Test func refusedSignupIs422WithTheRuleAndStoresNothing() {
        let refused = api.send(
            "POST", "/v1/tenants", body: #"{"name": "Le Shop", "plan": "free", "country": "FR", "region": "us"}"#)
        #expect(refused.status == 422)
        #expect(refused.json?["error"]?["code"] == .string("region_not_permitted"))
        #expect(refused.json?["error"]?["rule"] == .string("eea-in-eu"))
        #expect(api.controller.directory.tenantCounts.isEmpty)
        #expect(api.send("POST", "/v1/tenants", body: #"{"name": "x", "plan": "free", "country": "KP"}"#).status == 422)
    }

    @Test func signupValidation() {
        #expect(
            api.send("POST", "/v1/tenants", body: #"{"plan": "free"}"#).json?["error"]?["message"]
                == .string("$.name: is required; accepted: the customer's name"))
        #expect(
            api.send("POST", "/v1/tenants", body: #"{"name": "A"}"#).json?["error"]?["message"]
                == .string("$.plan: is required; accepted: trial, free, paid"))
        #expect(api.send("POST", "/v1/tenants", body: #"{"name": "   ", "plan": "free"}"#).status == 400)
        #expect(
            api.send(
                "POST", "/v1/tenants", body: #"{"name": "A", "plan": "free"}"#,
                headers: [("Idempotency-Key", String(repeating: "k", count: 300))]
            ).status == 400)
    }

    @Test func directoryPagesWithACursor() throws {
        for index in 0..<7 {
            _ = api.send(
                "POST", "/v1/tenants",
                body: #"{"name": "T\#(index)", "plan": "free", "country": "\#(index % 2 == 0 ? "DE" : "US")"}"#)
        }
        var seen: [JSONValue] = []
        var cursor: String?
        repeat {
            let page = api.send(
                "GET", "/v1/tenants?region=eu&limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""), role: .ops)
            #expect(page.status == 200)
            guard case .array(let tenants) = page.json?["tenants"] else { throw FixtureFailure("no tenants") }
            seen += tenants
            if case .string(let next) = page.json?["next_cursor"] { cursor = next } else { cursor = nil }
        } while cursor != nil
        #expect(seen.count == 4)
        #expect(seen.allSatisfy { $0["region"] == .string("eu") })
        #expect(api.send("GET", "/v1/tenants?limit=0").status == 400)
        #expect(api.send("GET", "/v1/tenants?limit=abc").status == 400)
        #expect(api.send("GET", "/v1/tenants?region=mars").json?["error"]?["code"] == .string("invalid_field"))
        #expect(api.send("GET", "/v1/tenants?status=zombie").status == 400)
        #expect(api.send("GET", "/v1/tenants?cursor=x'%20OR%201=1").status == 400)
        #expect(api.send("GET", "/v1/tenants?colour=blue").status == 400)
        #expect(api.send("GET", "/v1/tenants/tn_0000000000000000000000").status == 404)
        #expect(api.send("GET", "/v1/tenants/..%2F..%2Fetc%2Fpasswd").status == 404)
    }

    @Test func regions() {
        let list = api.send("GET", "/v1/regions", role: .compliance)
        guard case .array(let regions) = list.json?["regions"] else {
            Issue.record("no regions")
            return
        }
        #expect(regions.count == 8)
        #expect(api.send("GET", "/v1/regions/eu").json?["region"]?["sites"] != nil)
        #expect(api.send("GET", "/v1/regions/mars").status == 404)
    }

    @Test func accessLogNamesTheTokenNeverTheSecret() throws {
        _ = api.send("GET", "/v1/regions", role: .ops, headers: [("X-Request-Id", "abc-123")])
        let line = try #require(api.log.lines.withLock { $0.last })
        let entry = try JSONParser.parse(line)
        #expect(entry["token"] == .string("t-ops"))
        #expect(entry["request_id"] == .string("abc-123"))
        #expect(entry["status"] == .integer(200))
        #expect(entry["route"] == .string("/v1/regions"))
        for secret in api.tokens.values { #expect(!line.contains(secret)) }
    }

    @Test func metricsCountRequestsPlacementsAndTenants() {
        _ = api.send("POST", "/v1/tenants", body: #"{"name": "M", "plan": "free", "country": "IN"}"#)
        _ = api.send("GET", "/v1/regions")
        let text = String(decoding: api.send("GET", "/metrics", role: nil).response.body, as: UTF8.self)
        #expect(text.contains(#"residency_http_requests_total{route="/v1/tenants",method="POST",status="201"} 1"#))
        #expect(text.contains(#"residency_placements_total{region="india",outcome="placed"} 1"#))
        #expect(text.contains(#"residency_tenants{region="india"} 1"#))
        #expect(text.contains(#"residency_http_request_duration_seconds_count{route="/v1/regions"} 1"#))
    }
}

struct FixtureFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}

@Suite struct LedgerAPITests {
    let api: APIHarness
    init() throws { api = try APIHarness() }

    @Test func ledgerRoutesNeedComplianceAndAnswerProofs() throws {
        for country in ["FR", "US", "IN", "JP", "ZA"] {
            #expect(
                api.send(
                    "POST", "/v1/tenants", role: .signup,
                    body: #"{"name": "T", "plan": "free", "country": "\#(country)"}"#
                ).status == 201)
        }
        #expect(api.send("GET", "/v1/ledger/checkpoint", role: .ops).status == 403)
        #expect(api.send("GET", "/v1/ledger/checkpoint", role: nil).status == 401)
        let checkpoint = api.send("GET", "/v1/ledger/checkpoint", role: .compliance)
        #expect(checkpoint.status == 200)
        guard case .string(let note) = checkpoint.json?["note"],
            case .string(let key) = checkpoint.json?["verifier_key"],
            case .number(let sizeNumber) = checkpoint.json?["size"], let size = sizeNumber.int64Value
        else { throw FixtureFailure("malformed checkpoint") }
        let verified = try Checkpoint.verified(note: note, verifier: try NoteVerifier(encoded: key))
        #expect(verified.size == Int(size))
        // policy.loaded, a token.created per role, 5 tenant.created, and the ops token's refused call.
        let roles = Role.allCases.count
        #expect(size == 1 + roles + 5 + 1)

        let entries = api.send("GET", "/v1/ledger/entries?from=\(1 + roles)&to=\(3 + roles)", role: .compliance)
        guard case .array(let rows) = entries.json?["entries"] else { throw FixtureFailure("no entries") }
        #expect(rows.count == 2)
        #expect(rows[0]["entry"]?["kind"] == .string("tenant.created"))
        // No personal data: the tenant's name and any IP address stay out of the ledger.
        let recorded = rows[0]["entry"]?.encoded() ?? ""
        #expect(rows[0]["entry"]?["body"]?["name"] == nil)
        #expect(recorded.range(of: "\"name\"") == nil)

        let inclusion = api.send("GET", "/v1/ledger/proofs/inclusion?index=8", role: .compliance)
        #expect(inclusion.status == 200)
        #expect(inclusion.json?["root"] == .string(verified.root.hex))
        let consistency = api.send("GET", "/v1/ledger/proofs/consistency?from=3&to=12", role: .admin)
        #expect(consistency.status == 200)
        #expect(api.send("GET", "/v1/ledger/proofs/inclusion?index=99", role: .compliance).status == 400)
        #expect(api.send("GET", "/v1/ledger/proofs/inclusion", role: .compliance).status == 400)
        #expect(api.send("GET", "/v1/ledger/proofs/consistency?from=-1", role: .compliance).status == 400)
        #expect(api.send("GET", "/v1/ledger/entries?from=abc", role: .compliance).status == 400)
        #expect(api.send("GET", "/v1/ledger/entries?colour=1", role: .compliance).status == 400)
    }

    @Test func refusedSignupsAreOnRecord() throws {
        #expect(
            api.send(
                "POST", "/v1/tenants", role: .signup,
                body: #"{"name": "T", "plan": "free", "country": "FR", "region": "us"}"#
            ).status == 422)
        let entries = api.send("GET", "/v1/ledger/entries", role: .compliance)
        guard case .array(let rows) = entries.json?["entries"], let last = rows.last else {
            throw FixtureFailure("no entries")
        }
        #expect(last["entry"]?["kind"] == .string("signup.refused"))
        #expect(last["entry"]?["body"]?["refusal"]?["rule"] == .string("eea-in-eu"))
        #expect(last["entry"]?["actor"] == .string("t-signup"))
    }
}

@Suite struct AccessAPITests {
    let api: APIHarness
    let tenant: String

    init() throws {
        api = try APIHarness()
        guard
            case .string(let id) = api.send(
                "POST", "/v1/tenants", role: .signup, body: #"{"name": "Acme", "plan": "paid", "country": "DE"}"#
            ).json?["tenant"]?["id"] ?? .null
        else {
            throw FixtureFailure("no tenant")
        }
        tenant = id
    }

    func filing(
        country: String = "US", office: String = "austin", justification: String = "customer_support",
        classes: String = #"["customer_data"]"#
    ) -> String {
        #"{"tenant": "\#(tenant)", "staff": {"id": "s-1", "entity": "Residency Inc.", "role": "support engineer", "office": "\#(office)"}, "physical_country": "\#(country)", "justification": "\#(justification)", "detail": "TICKET-1", "scope": {"data_classes": \#(classes), "mode": "read"}}"#
    }

    func id(_ result: (status: Int, json: JSONValue?, response: HTTPResponse)) throws -> String {
        guard case .string(let id) = result.json?["access_request"]?["id"] ?? .null else {
            throw FixtureFailure("no request: \(String(describing: result.json))")
        }
        return id
    }

    func ledgerKinds() -> [String] {
        guard case .array(let rows) = api.send("GET", "/v1/ledger/entries", role: .compliance).json?["entries"] ?? .null
        else { return [] }
        return rows.compactMap {
            if case .string(let kind) = $0["entry"]?["kind"] ?? .null { return kind } else { return nil }
        }
    }

    @Test func requestApproveUseAndRefusedUseAreAllOnRecord() throws {
        let filed = api.send(
            "POST", "/v1/access-requests", role: .support, body: filing(justification: "security_incident"))
        #expect(filed.status == 201)
        #expect(filed.json?["access_request"]?["state"] == .string("pending"))
        #expect(filed.json?["access_request"]?["transfer_basis"]?["mechanism"] == .string("eu_scc"))
        #expect(filed.json?["access_request"]?["transfer_basis"]?["tia"] == .string("TIA-EU-US-2025-01"))
        let request = try id(filed)

        #expect(
            api.send("POST", "/v1/access-requests/\(request)/approve", role: .support, body: #"{"reason": "x"}"#).status
                == 403)
        let approved = api.send(
            "POST", "/v1/access-requests/\(request)/approve", role: .compliance,
            body: #"{"reason": "incident INC-4", "hours": 2}"#)
        #expect(approved.json?["access_request"]?["state"] == .string("approved"))
        #expect(approved.json?["access_request"]?["granted_hours"] == .integer(2))
        #expect(
            api.send("POST", "/v1/access-requests/\(request)/deny", role: .compliance, body: #"{"reason": "late"}"#)
                .status == 409)

        let use =
            #"{"request": "\#(request)", "staff_id": "s-1", "physical_country": "US", "method": "ssh", "resource": "db/contacts", "data_class": "customer_data", "mode": "read"}"#
        let allowed = api.send("POST", "/v1/access-events", role: .support, body: use)
        #expect(allowed.status == 201)
        #expect(allowed.json?["access_request"]?["state"] == .string("active"))
        let elsewhere = api.send(
            "POST", "/v1/access-events", role: .support,
            body: use.replacingOccurrences(of: #""physical_country": "US""#, with: #""physical_country": "IN""#))
        #expect(elsewhere.status == 422)
        #expect(elsewhere.json?["error"]?["code"] == .string("wrong_country"))
        let writing = api.send(
            "POST", "/v1/access-events", role: .support,
            body: use.replacingOccurrences(of: #""mode": "read""#, with: #""mode": "write""#))
        #expect(writing.json?["error"]?["code"] == .string("out_of_scope"))

        #expect(
            api.send("POST", "/v1/access-requests/\(request)/complete", role: .support, body: "{}").json?[
                "access_request"]?["state"] == .string("completed"))
        #expect(api.send("POST", "/v1/access-events", role: .support, body: use).status == 409)
        let kinds = ledgerKinds()
        for kind in [
            "access.requested", "access.approved", "access.activated", "access.used", "access.use_refused",
            "access.completed",
        ] {
            #expect(kinds.contains(kind), "\(kind) missing from \(kinds)")
        }
        #expect(kinds.filter { $0 == "access.use_refused" }.count == 3)
    }

    @Test func forbiddenDestinationsAreRefusedUpFrontAndRecorded() {
        let refused = api.send("POST", "/v1/access-requests", role: .support, body: filing(country: "BR"))
        #expect(refused.status == 422)
        #expect(refused.json?["error"]?["rule"] == .string("eu-no-mechanism"))
        #expect(ledgerKinds().last == "access.refused")
        #expect(
            api.send("POST", "/v1/access-requests", role: .support, body: filing(classes: #"["secrets"]"#)).status
                == 400)
        #expect(
            api.send(
                "POST", "/v1/access-requests", role: .support,
                body: filing().replacingOccurrences(of: "\"tenant\"", with: "\"tennant\"")
            ).status == 400)
        #expect(api.send("POST", "/v1/access-requests", role: .compliance, body: filing()).status == 403)
    }

    /// An admin token may file and decide, but never both for one request; the refusal is on record.
    @Test func anAdminCannotApproveItsOwnRequest() throws {
        let request = try id(
            api.send("POST", "/v1/access-requests", role: .admin, body: filing(justification: "security_incident")))
        let own = api.send("POST", "/v1/access-requests/\(request)/approve", role: .admin, body: #"{"reason": "me"}"#)
        #expect(own.status == 403)
        #expect(own.json?["error"]?["code"] == .string("separation_of_duties"))
        #expect(ledgerKinds().last == "access.refused")
        #expect(
            api.send("GET", "/v1/access-requests/\(request)", role: .compliance).json?["access_request"]?["state"]
                == .string("pending"))
        let approved = api.send(
            "POST", "/v1/access-requests/\(request)/approve", role: .compliance, body: #"{"reason": "INC-4"}"#)
        #expect(approved.status == 200)
        #expect(approved.json?["access_request"]?["filed_by"] == .string("t-admin"))
        #expect(approved.json?["access_request"]?["decided_by"] == .string("t-compliance"))
    }

    /// Customer approval the tenant's administrator switched on is the tenant's to lift; staff's own is staff's.
    @Test func onlyTheTenantLiftsCustomerApprovalItRequired() throws {
        let adminToken = try TokenService.createToken(
            name: "acme-admin", role: .compliance, pool: api.controller.pool, tenant: tenant)
        func set(_ enabled: Bool, role: Role? = nil, token: String? = nil) -> (status: Int, json: JSONValue?) {
            let result = api.send(
                "POST", "/v1/tenants/\(tenant)/customer-approval", role: role, token: token,
                body: #"{"enabled": \#(enabled)}"#)
            return (result.status, result.json)
        }
        #expect(set(true, token: adminToken).status == 200)
        #expect(set(true, role: .ops).status == 200)  // switching it on again does not make it staff's
        for role in [Role.ops, .admin, .compliance] {
            let lifted = set(false, role: role)
            #expect(lifted.status == 403, "\(role)")
            #expect(lifted.json?["error"]?["code"] == .string("customer_approval_set_by_tenant"))
        }
        #expect(ledgerKinds().last == "tenant.customer_approval_refused")
        let request = try id(api.send("POST", "/v1/access-requests", role: .support, body: filing()))
        #expect(
            api.send("GET", "/v1/access-requests/\(request)", role: .compliance).json?["access_request"]?["state"]
                == .string("pending"))
        #expect(set(false, token: adminToken).status == 200)
        #expect(set(true, role: .ops).status == 200)
        #expect(set(false, role: .ops).status == 200)
    }

    @Test func customerApprovalIsTheTenantAdministratorsCall() throws {
        #expect(
            api.send("POST", "/v1/tenants/\(tenant)/customer-approval", role: .ops, body: #"{"enabled": true}"#).status
                == 200)
        let request = try id(api.send("POST", "/v1/access-requests", role: .support, body: filing()))
        #expect(
            api.send("GET", "/v1/access-requests/\(request)", role: .compliance).json?["access_request"]?["state"]
                == .string("pending"))
        let byStaff = api.send(
            "POST", "/v1/access-requests/\(request)/approve", role: .compliance, body: #"{"reason": "ok"}"#)
        #expect(byStaff.status == 403)
        #expect(byStaff.json?["error"]?["code"] == .string("customer_approval_required"))

        let adminToken = try TokenService.createToken(
            name: "acme-admin", role: .compliance, pool: api.controller.pool, tenant: tenant)
        let approved = api.send(
            "POST", "/v1/access-requests/\(request)/approve", token: adminToken,
            body: #"{"reason": "we opened TICKET-1"}"#)
        #expect(approved.json?["access_request"]?["state"] == .string("approved"))
        #expect(approved.json?["access_request"]?["decided_by"] == .string("acme-admin"))

        // Another tenant's administrator sees nothing of it.
        guard
            case .string(let other) = api.send(
                "POST", "/v1/tenants", role: .signup, body: #"{"name": "B", "plan": "paid", "country": "FR"}"#
            ).json?["tenant"]?["id"] ?? .null
        else {
            throw FixtureFailure("no tenant")
        }
        let otherAdmin = try TokenService.createToken(
            name: "b-admin", role: .compliance, pool: api.controller.pool, tenant: other)
        #expect(api.send("GET", "/v1/access-requests/\(request)", token: otherAdmin).status == 404)
        guard
            case .array(let visible) = api.send("GET", "/v1/access-requests", token: otherAdmin).json?[
                "access_requests"] ?? .null
        else {
            throw FixtureFailure("no list")
        }
        #expect(visible.isEmpty)
    }

    @Test func breakGlassIsActiveAtOnceAndReviewedLater() throws {
        let opened = api.send(
            "POST", "/v1/access-requests/break-glass", role: .support,
            body: filing(country: "IN", office: "bengaluru", justification: "production_alert"))
        #expect(opened.status == 201)
        #expect(opened.json?["access_request"]?["state"] == .string("active"))
        #expect(opened.json?["access_request"]?["break_glass"] == .bool(true))
        #expect(opened.json?["access_request"]?["review_overdue"] == .bool(false))
        let request = try id(opened)
        #expect(
            api.send(
                "POST", "/v1/access-requests/break-glass", role: .support,
                body: filing(justification: "customer_support")
            ).json?["error"]?["code"] == .string("break_glass_not_allowed"))
        let reviewed = api.send(
            "POST", "/v1/access-requests/\(request)/review", role: .compliance,
            body: #"{"note": "alert P1-77 justified it"}"#)
        #expect(reviewed.json?["access_request"]?["reviewed_by"] == .string("t-compliance"))
        #expect(
            api.send("POST", "/v1/access-requests/\(request)/review", role: .compliance, body: #"{"note": "again"}"#)
                .status == 409)
        #expect(ledgerKinds().contains("access.break_glass"))
        #expect(ledgerKinds().contains("access.reviewed"))
        #expect(api.send("GET", "/v1/access-requests?state=active&region=eu", role: .support).status == 200)
        #expect(api.send("GET", "/v1/access-requests?state=sleeping", role: .support).status == 400)
    }
}

@Suite struct ResidencyCheckAPITests {
    let api: APIHarness
    let tenant: String

    init() throws {
        api = try APIHarness()
        guard
            case .string(let id) = api.send(
                "POST", "/v1/tenants", role: .signup, body: #"{"name": "Acme", "plan": "paid", "country": "DE"}"#
            ).json?["tenant"]?["id"] ?? .null
        else {
            throw FixtureFailure("no tenant")
        }
        tenant = id
    }

    @Test func singleAndBatchChecksWithRefusalsOnRecord() throws {
        let allowed = api.send(
            "POST", "/v1/residency/checks", role: .ops,
            body: #"{"tenant": "\#(tenant)", "data_class": "customer_data", "location": "eu-ie-dublin"}"#)
        #expect(allowed.status == 200)
        #expect(allowed.json?["result"]?["allowed"] == .bool(true))
        #expect(allowed.json?["result"]?["country"] == .string("IE"))
        #expect(allowed.json?["result"]?["policy_version"] == .string(api.controller.policies.version.hex))

        let batch = api.send(
            "POST", "/v1/residency/checks", role: .support,
            body:
                #"{"checks": [{"tenant": "\#(tenant)", "data_class": "backups", "location": "GB"}, {"tenant": "\#(tenant)", "data_class": "logs", "location": "US", "purpose": "vendor log shipping"}]}"#
        )
        guard case .array(let results) = batch.json?["results"] ?? .null else { throw FixtureFailure("no results") }
        #expect(results.count == 2)
        #expect(results[0]["allowed"] == .bool(true))
        #expect(results[0]["rule"] == .string("eu-backups-in-uk"))
        #expect(results[1]["allowed"] == .bool(false))
        guard case .number(let index) = results[1]["ledger_index"] ?? .null, let ledgerIndex = index.int64Value else {
            throw FixtureFailure("refusal not recorded")
        }
        let entry = api.send("GET", "/v1/ledger/entries?from=\(ledgerIndex)&to=\(ledgerIndex + 1)", role: .compliance)
        guard case .array(let rows) = entry.json?["entries"] ?? .null else { throw FixtureFailure("no entry") }
        #expect(rows.first?["entry"]?["kind"] == .string("residency.check_refused"))
        #expect(rows.first?["entry"]?["body"]?["purpose"] == .string("vendor log shipping"))
    }

    @Test(arguments: [
        (#"{"tenant": "T", "data_class": "telemetry", "location": "DE"}"#, 400),
        (#"{"tenant": "T", "data_class": "logs", "location": "Atlantis"}"#, 400),
        (#"{"tenant": "T", "data_class": "logs"}"#, 400),
        (#"{"tenant": "T", "data_class": "logs", "location": "DE", "checks": []}"#, 400),
        (#"{"checks": []}"#, 400),
        (#"{"tenant": "tn_0000000000000000000000", "data_class": "logs", "location": "DE"}"#, 404),
    ])
    func badChecks(body: String, status: Int) {
        let result = api.send(
            "POST", "/v1/residency/checks", role: .ops,
            body: body.replacingOccurrences(of: "\"T\"", with: "\"\(tenant)\""))
        #expect(result.status == status, "\(body): \(String(describing: result.json))")
    }
}

/// `POST /v1/placements` reads a body that is right in every way straight off the parsed JSON and leaves
/// everything else to the strict reader. The two readings must agree wherever the quick one answers, and the
/// quick one must answer for ordinary bodies (or the route would quietly pay for the slow one).
@Suite struct QuickPlacementReadingTests {
    static func request(_ body: String, contentType: String = "application/json") -> HTTPRequest {
        let text =
            "POST /v1/placements HTTP/1.1\r\nHost: t\r\nContent-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        guard case .request(let request) = try! parser.next() else { fatalError("unparseable test request") }
        return request
    }

    @Test func theQuickReadingAgreesWithTheStrictOne() throws {
        let harness = try APIHarness()
        let bodies = [
            #"{"ip":"81.2.69.160","plan":"trial"}"#, #"{"country":"DE"}"#, #"{"country":"JP","region":"singapore"}"#,
            #"{"ip":"2a00:1450:4001::1","country":"FR","region":"eu","plan":"paid"}"#, "{}",
            #"{"ip":"10.0.0.1"}"#, #"{"ip":"::ffff:81.2.69.160","plan":"free"}"#,
            // Each of these is wrong in one way; the quick reading must step aside for the strict one's error.
            #"{"ip":"81.2.69.999"}"#, #"{"ip":"081.2.69.1"}"#, #"{"country":"de"}"#, #"{"country":"XX"}"#,
            #"{"country":"DEU"}"#, #"{"region":"mars"}"#, #"{"plan":"gold"}"#, #"{"plan":null}"#, #"{"ip":7}"#,
            #"{"ip":"81.2.69.160","extra":1}"#, #"{"ip":"81.2.69.160","ip":"81.2.69.161"}"#, "[]", "\"x\"",
            "{", "", #"{"country":"D\u0045"}"#, #"{"region":"EU"}"#, #"{"plan":"Trial"}"#, #"{"ip":" 81.2.69.160"}"#,
        ]
        var quickAnswers = 0
        for contentType in ["application/json", "Application/JSON; charset=utf-8", "text/plain"] {
            for body in bodies {
                let request = Self.request(body, contentType: contentType)
                let quick = APIRoutes.wellFormedPlacement(request, controller: harness.controller)
                let strict = try? APIRoutes.placementRequest(request, controller: harness.controller)
                if let quick {
                    quickAnswers += 1
                    #expect(quick == strict, "\(contentType) \(body)")
                }
            }
        }
        #expect(quickAnswers == 2 * 8)  // the eight good bodies, under both JSON content types
    }
}

/// Lifecycle events over the API with the controller's clock in the test's hands: a backdated event is refused,
/// and what a late one makes due is listed as held, apart from what is due.
/// A clock the test moves by hand.
final class ManualClock: Sendable {
    let time = Mutex<Int64>(1_800_000_000_000)
    var now: Int64 { time.withLock { $0 } }
    func advance(_ milliseconds: Int64) { time.withLock { $0 += milliseconds } }
}

@Suite struct LateEventAPITests {
    static let day: Int64 = 86_400_000
    let time = ManualClock()
    let controller: Controller
    let application: APIApplication
    let billing: String
    let ops: String

    init() throws {
        let root = APIHarness.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(inMemory: ())
        let time = self.time
        controller = try Controller(
            policies: policies, locator: nil, pool: pool, clock: Clock { time.now })
        billing = try TokenService.createToken(name: "billing", role: .billing, pool: pool)
        ops = try TokenService.createToken(name: "ops", role: .ops, pool: pool)
        application = APIApplication(controller: controller) { _ in }
    }

    func event(_ tenant: String, _ body: String) -> (status: Int, json: JSONValue?) {
        HostileCallerTests.send(application, "POST", "/v1/tenants/\(tenant)/events", token: billing, body: body)
    }

    @Test func aBillingTokenCannotBackdateAnEventIntoADeletion() throws {
        let tenant = try controller.directory.signUp(Signup(name: "A", plan: .paid, declaredCountry: CountryCode("FR"))).tenant.id
        let backdated = event(tenant, #"{"type": "cancelled", "at": "2020-01-01T00:00:00Z"}"#)
        #expect(backdated.status == 422)
        #expect(backdated.json?["error"]?["code"] == .string("event_before_creation"))
        let created = Timestamp.rfc3339(milliseconds: time.now)
        guard case .string(let message) = backdated.json?["error"]?["message"] ?? .null else {
            throw FixtureFailure("no message")
        }
        #expect(message.contains("accepted: a time from \(created) up to now"))
        let later = Timestamp.rfc3339(milliseconds: time.now + 60_000)
        #expect(event(tenant, #"{"type": "cancelled", "at": "\#(later)"}"#).status == 200)
        let reactivated = event(tenant, #"{"type": "reactivated", "at": "\#(created)"}"#)
        #expect(reactivated.status == 409)
        #expect(reactivated.json?["error"]?["code"] == .string("event_out_of_order"))
    }

    @Test func heldActionsAreListedApartFromDueOnes() throws {
        let tenant = try controller.directory.signUp(Signup(name: "A", plan: .paid, declaredCountry: CountryCode("FR"))).tenant.id
        time.advance(100 * Self.day)
        #expect(event(tenant, #"{"type": "plan_changed", "plan": "free"}"#).status == 200)
        let plan = HostileCallerTests.send(application, "GET", "/v1/lifecycle/due", token: ops)
        #expect(plan.status == 200)
        #expect(plan.json?["due"] == .array([]))
        guard case .array(let held) = plan.json?["held"] ?? .null, let first = held.first else {
            throw FixtureFailure("nothing held: \(String(describing: plan.json))")
        }
        #expect(held.count == 1)
        #expect(first["rule"] == .string("free-inactive"))
        #expect(first["held"] == .bool(true))
        let graceEnd = Timestamp.rfc3339(milliseconds: time.now + 7 * Self.day)
        #expect(first["due_at"] == .string(graceEnd))
        guard case .string(let deferred) = first["deferred"] ?? .null else { throw FixtureFailure("no reason") }
        #expect(deferred.hasPrefix("held until \(graceEnd): a late event recorded at"))
    }
}
