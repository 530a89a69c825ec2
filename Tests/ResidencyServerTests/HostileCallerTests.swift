import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyServer

/// Every route of the API, tried by callers who should not get through: no token, a forged one, a revoked
/// one, the wrong role, another tenant's scoped token, hostile identifiers in every path parameter, and
/// broken bodies. Nothing that should be refused succeeds, nothing answers 5xx, nothing is half-written,
/// and every refusal that policy cares about (a known token used beyond its rights) is in the ledger.
@Suite struct HostileCallerTests {
    let directory: URL
    let controller: Controller
    let application: APIApplication
    let tokens: [Role: String]
    let revoked: String
    let tenant: String
    let other: String
    let request: String
    let migration: String
    /// An application token scoped to `tenant`, and a compliance (tenant administrator) token scoped to it.
    let scopedApplication: String
    let scopedCompliance: String

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-hostile-\(UUID())")
        let root = APIHarness.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(directory: DataDirectory(directory))
        controller = try Controller(policies: policies, locator: nil, pool: pool, dataDirectory: directory)
        var tokens: [Role: String] = [:]
        for role in Role.allCases {
            tokens[role] = try TokenService.createToken(name: "t-\(role.rawValue)", role: role, pool: pool)
        }
        self.tokens = tokens
        revoked = try TokenService.createToken(name: "gone", role: .admin, pool: pool)
        try TokenService.revokeToken(name: "gone", pool: pool)
        tenant = try controller.directory.signUp(Signup(name: "A", plan: .paid, declaredCountry: CountryCode("FR"))).tenant.id
        other = try controller.directory.signUp(Signup(name: "B", plan: .paid, declaredCountry: CountryCode("DE"))).tenant.id
        scopedApplication = try TokenService.createToken(name: "app-a", role: .application, pool: pool, tenant: tenant)
        scopedCompliance = try TokenService.createToken(name: "admin-a", role: .compliance, pool: pool, tenant: tenant)
        application = APIApplication(controller: controller) { _ in }
        // An access request and a migration for the other tenant, so `{id}` routes reach real objects.
        let filing =
            #"{"tenant": "\#(other)", "staff": {"id": "s-1", "entity": "Residency Inc.", "role": "support engineer", "office": "austin"}, "physical_country": "US", "justification": "customer_support", "detail": "T-1", "scope": {"data_classes": ["customer_data"], "mode": "read"}}"#
        var sent = Self.send(application, "POST", "/v1/access-requests", token: tokens[.support], body: filing)
        guard case .string(let request) = sent.json?["access_request"]?["id"] ?? .null else {
            throw FixtureFailure("no access request: \(String(describing: sent.json))")
        }
        self.request = request
        sent = Self.send(
            application, "POST", "/v1/tenants/\(other)/migrations", token: tokens[.ops],
            body: #"{"to_region": "eu", "to_site": "eu-ie-dublin", "reason": "test"}"#)
        guard case .string(let migration) = sent.json?["migration"]?["id"] ?? .null else {
            throw FixtureFailure("no migration: \(String(describing: sent.json))")
        }
        self.migration = migration
    }

    static func send(
        _ application: APIApplication, _ method: String, _ target: String, token: String?, body: String? = nil,
        contentType: String = "application/json"
    ) -> (status: Int, json: JSONValue?) {
        var text = "\(method) \(target) HTTP/1.1\r\nHost: test\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        if let body {
            text += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
        } else {
            text += "\r\n"
        }
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        let parsed: HTTPRequestParser.Next
        do {
            parsed = try parser.next()
        } catch {
            // Refused by the parser before any route: the server answers 400 with this message.
            return (400, .object([("error", .object([("message", .string("\(error)"))]))]))
        }
        guard case .request(let request) = parsed else { return (400, nil) }
        let response = application.respond(to: request)
        return (response.status, try? JSONParser.parse(response.body))
    }

    func send(
        _ method: String, _ target: String, token: String?, body: String? = nil
    ) -> (status: Int, json: JSONValue?) {
        Self.send(application, method, target, token: token, body: body)
    }

    var routes: [Route] { application.router.routes }

    /// A route's path with every parameter filled by a real value, or by `hostile` for `parameter`.
    func path(_ route: Route, hostile: (parameter: String, value: String)? = nil) -> String {
        var path = route.template
        let real = [
            "id": route.template.hasPrefix("/v1/access-requests")
                ? request
                : route.template.hasPrefix("/v1/migrations")
                    ? migration
                    : route.template.hasPrefix("/v1/regions") ? "eu" : other,
            "collection": "contacts", "key": "c-1",
        ]
        for (name, value) in real {
            let chosen = hostile?.parameter == name ? hostile!.value : value
            path = path.replacingOccurrences(of: "{\(name)}", with: chosen)
        }
        return path
    }

    func ledgerEntries(kind: String) throws -> [JSONValue] {
        try controller.pool.read { database in
            var entries: [JSONValue] = []
            try LedgerRepository(database).forEachEntry(kinds: [kind], below: Int.max) { _, bytes in
                entries.append(try JSONParser.parse(Array(bytes)))
            }
            return entries
        }
    }

    func tenantCount() throws -> Int64 {
        try controller.pool.read { try $0.scalarInteger("SELECT count(*) FROM tenants") } ?? -1
    }

    @Test func noTokenForgedTokensAndRevokedTokensAreRefusedEverywhere() throws {
        let before = try ledgerEntries(kind: "api.refused").count
        var protected = 0
        for route in routes where route.roles != nil {
            protected += 1
            let path = path(route)
            let body = route.method == "GET" || route.method == "DELETE" ? nil : "{}"
            for token in [
                nil, "rsd_" + String(repeating: "0", count: 64), "' OR '1'='1", String(repeating: "a", count: 5000),
                String(tokens[.admin]!.dropLast()) + "x", revoked,
            ] as [String?] {
                let answer = send(route.method, path, token: token, body: body)
                #expect(
                    answer.status == 401, "\(route.method) \(route.template) with \(token?.prefix(12) ?? "no token")")
            }
        }
        #expect(protected > 35)
        // Each use of the revoked token is on record; the forged ones are not (anyone can send those).
        let refused = try ledgerEntries(kind: "api.refused").dropFirst(before)
        #expect(refused.count == protected)
        #expect(
            refused.allSatisfy { $0["body"]?["reason"] == .string("revoked_token") && $0["actor"] == .string("gone") })
    }

    @Test func everyRoleOutsideARouteIsRefusedAndRecorded() throws {
        let tenants = try tenantCount()
        let before = try ledgerEntries(kind: "api.refused").count
        var expected = 0
        for route in routes {
            guard let roles = route.roles else { continue }
            for role in Role.allCases where role != .admin && !roles.contains(role) {
                let body = route.method == "GET" || route.method == "DELETE" ? nil : "{}"
                let answer = send(route.method, path(route), token: tokens[role], body: body)
                #expect(answer.status == 403, "\(role) on \(route.method) \(route.template): \(answer.status)")
                #expect(answer.json?["error"]?["code"] == .string("forbidden"))
                expected += 1
            }
        }
        let refused = try ledgerEntries(kind: "api.refused").dropFirst(before)
        #expect(refused.count == expected)
        #expect(refused.allSatisfy { $0["body"]?["reason"] == .string("role") })
        #expect(refused.contains { $0["tenant"] == .string(other) }, "refusals aimed at a tenant name it")
        #expect(try tenantCount() == tenants)
    }

    @Test func aScopedTokenCannotReachAnotherTenant() throws {
        let before = try ledgerEntries(kind: "api.refused").count
        let attempts: [(String, String, String, String?)] = [
            (
                scopedApplication, "PUT", "/v1/tenants/\(other)/data/contacts/c-1",
                #"{"name": "x", "email": "x@example.com"}"#
            ),
            (scopedApplication, "GET", "/v1/tenants/\(other)/data/contacts/c-1", nil),
            (scopedApplication, "GET", "/v1/tenants/\(other)/data/contacts", nil),
            (scopedApplication, "DELETE", "/v1/tenants/\(other)/data/contacts/c-1", nil),
            (scopedCompliance, "GET", "/v1/access-requests/\(request)", nil),
            (scopedCompliance, "POST", "/v1/access-requests/\(request)/approve", #"{"reason": "mine now"}"#),
            (scopedCompliance, "POST", "/v1/tenants/\(other)/customer-approval", #"{"enabled": true}"#),
            (scopedCompliance, "GET", "/v1/reports/cross-border?tenant=\(other)", nil),
        ]
        for (token, method, target, body) in attempts {
            let answer = send(method, target, token: token, body: body)
            #expect(answer.status == 404, "\(method) \(target): \(answer.status)")
        }
        let refused = try ledgerEntries(kind: "api.refused").dropFirst(before)
        #expect(refused.count == attempts.count)
        #expect(refused.allSatisfy { $0["body"]?["reason"] == .string("tenant_scope") })
        // The scoped token still works for its own tenant.
        #expect(
            send(
                "PUT", "/v1/tenants/\(tenant)/data/contacts/c-1", token: scopedApplication,
                body: #"{"name": "x", "email": "x@example.com"}"#
            ).status == 200)
    }

    static let hostileIdentifiers = [
        "'%20OR%20'1'='1", "1;DROP%20TABLE%20tenants", "..", "..%2F..%2Fetc%2Fpasswd", "%2e%2e", "%00", "tn_%00",
        "%25s%25s%25n", String(repeating: "a", count: 4000), "tn_0193a2b4c5d6e7f8091a2b%27", "%F0%9F%98%80", "%C0%AE",
        "*", "%22%7D", "\\x27",
    ]

    @Test func hostileIdentifiersInEveryPathParameterAreRefused() throws {
        let tenants = try tenantCount()
        let ledger = try controller.ledger.size()
        // The console's pages answer HTML, not the API's JSON errors: ConsoleTests holds them to the same ids.
        for route in routes where !route.template.hasPrefix("/console") {
            let parameters = route.pattern.compactMap { if case .parameter(let name) = $0 { name } else { nil } }
            for parameter in parameters {
                for value in Self.hostileIdentifiers {
                    let body: String? =
                        route.method == "GET" || route.method == "DELETE"
                        ? nil : #"{"name": "x", "email": "x@example.com"}"#
                    let answer = send(
                        route.method, path(route, hostile: (parameter, value)), token: tokens[.admin], body: body)
                    #expect(
                        (400..<500).contains(answer.status),
                        "\(route.method) \(route.template) {\(parameter)}=\(value.prefix(30)): \(answer.status)")
                    #expect(
                        answer.json?["error"]?["message"] != nil,
                        "\(route.method) \(route.template) {\(parameter)}=\(value.prefix(30)): \(answer.status), no error body"
                    )
                }
            }
        }
        #expect(try tenantCount() == tenants)
        // Refused residency checks and signups are on record by design; nothing else was written.
        let written = try controller.pool.read { database in
            try database.scalarInteger(
                "SELECT count(*) FROM ledger_entries WHERE idx >= ? AND kind NOT LIKE 'checkpoint%'",
                [.integer(Int64(ledger))])
        }
        #expect(written == 0)
        #expect(try controller.pool.read { try $0.scalarText("PRAGMA integrity_check") } == "ok")
    }

    static let brokenBodies = [
        "", "{", "}", "[]", "null", "\"text\"", "{\"a\":", "{\"name\": \"x\",}", "{\"name\": \"x\" \"plan\": 1}",
        String(repeating: "[", count: 10_000), "{\"__proto__\": {}}", "{\"name\": \"\\ud800\"}", "{\"name\": 1e999}",
        "\u{FEFF}{}", "{\"name\": \"x\", \"name\": \"y\"}", "{\"name\": \"x\"}\u{0}",
        "{\"tenant\": \"' OR 1=1 --\", \"country\": \"../../x\", \"region\": \"eu; DROP TABLE tenants\"}",
    ]

    @Test func brokenBodiesAreRefusedOnEveryWriteRoute() throws {
        let tenants = try tenantCount()
        // The console's forms are URL-encoded and answered in HTML (ConsoleTests holds them to bad forms).
        for route in routes where (route.method == "POST" || route.method == "PUT") && !route.template.hasPrefix("/console") {
            // Approving or cancelling a migration takes no body, so an empty one is the right request there.
            // Nor does asking for a recorded audit run with the residency map.
            let optionalBody =
                route.template.hasPrefix("/v1/migrations/") || route.template == "/v1/reports/residency-map"
            for body in Self.brokenBodies where !(optionalBody && body.isEmpty) {
                let answer = send(route.method, path(route), token: tokens[.admin], body: body)
                #expect(
                    (400..<500).contains(answer.status),
                    "\(route.method) \(route.template) with \(body.prefix(40).debugDescription): \(answer.status)")
            }
            // The right body under the wrong content type is refused too.
            var text =
                "\(route.method) \(path(route)) HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(tokens[.admin]!)\r\n"
            text += "Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"
            var parser = HTTPRequestParser()
            parser.append(Array(text.utf8))
            if case .request(let request) = try parser.next() {
                let status = application.respond(to: request).status
                #expect(status == 415 || status == 400, "\(route.method) \(route.template): \(status)")
            }
        }
        #expect(try tenantCount() == tenants)
    }

    @Test func sqlInValuesIsStoredAsTextNotRun() throws {
        let name = "Robert'); DROP TABLE tenants; --"
        let created = send(
            "POST", "/v1/tenants", token: tokens[.signup],
            body: #"{"name": "\#(name)", "plan": "paid", "country": "FR"}"#)
        #expect(created.status == 201)
        #expect(created.json?["tenant"]?["name"] == .string(name))
        let put = send(
            "PUT", "/v1/tenants/\(tenant)/data/contacts/c-2", token: tokens[.application],
            body: #"{"name": "x' OR '1'='1", "email": "a@b.c\"; DELETE FROM contacts; --"}"#)
        #expect(put.status == 200)
        let read = send("GET", "/v1/tenants/\(tenant)/data/contacts/c-2", token: tokens[.application])
        #expect(read.json?["record"]?["name"] == .string("x' OR '1'='1"))
        #expect(try tenantCount() == 3)
    }
}

extension HostileCallerTests {
    /// A tenant administrator's token sees its own tenant and nothing of the others: another tenant's entry is
    /// "not found", and the routes spanning every tenant (the directory, migrations, the residency map, the
    /// ledger's entries, the retention schedule, residency checks) refuse it — each attempt on the ledger.
    @Test func aScopedTokenSeesNothingOfOtherTenants() throws {
        let before = try ledgerEntries(kind: "api.refused").count
        #expect(send("GET", "/v1/tenants/\(other)", token: scopedCompliance).status == 404)
        let spanning = [
            ("GET", "/v1/tenants", nil), ("GET", "/v1/migrations", nil), ("GET", "/v1/reports/residency-map", nil),
            ("GET", "/v1/ledger/entries", nil), ("GET", "/v1/lifecycle/due", nil),
            (
                "POST", "/v1/residency/checks",
                #"{"tenant": "\#(other)", "data_class": "customer_data", "location": "us"}"#
            ),
        ]
        for (method, target, body) in spanning {
            let answer = send(method, target, token: scopedCompliance, body: body)
            #expect(answer.status == 403, "\(method) \(target): \(answer.status)")
            guard case .string(let message)? = answer.json?["error"]?["message"] else {
                Issue.record("\(target): no error message")
                continue
            }
            #expect(message.contains("scoped to tenant \(tenant)"), "\(message)")
        }
        let refused = try ledgerEntries(kind: "api.refused").dropFirst(before)
        #expect(refused.count == 1 + spanning.count)
        #expect(refused.allSatisfy { $0["body"]?["reason"] == .string("tenant_scope") })
        // Its own tenant, the regions and the ledger's checkpoint (no tenant's data) stay open to it.
        #expect(send("GET", "/v1/tenants/\(tenant)", token: scopedCompliance).status == 200)
        #expect(send("GET", "/v1/regions", token: scopedCompliance).status == 200)
        #expect(send("GET", "/v1/ledger/checkpoint", token: scopedCompliance).status == 200)
    }
}
