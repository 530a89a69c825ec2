import Foundation
import ResidencyController
import ResidencyCore
import Testing

@testable import ResidencyServer

/// The console without a browser: a token exchanged for a session cookie (HttpOnly, SameSite=Strict), pages that
/// refuse the signed-out, forms that refuse a missing or foreign CSRF token, decisions that are the API's use case
/// (separation of duties included), hostile text shown as text, a revoked token ending its session at once.
@Suite struct ConsoleTests {
    let api: APIHarness
    init() throws { api = try APIHarness() }

    func page(
        _ method: String, _ path: String, cookie: String? = nil, form: String? = nil, origin: String? = nil
    )
        -> (status: Int, text: String, headers: [(name: String, value: String)])
    {
        // A target the parser refuses never reaches the console: the server answers it 400 itself.
        var probe = HTTPRequestParser()
        probe.append(Array("GET \(path) HTTP/1.1\r\nHost: test\r\n\r\n".utf8))
        if (try? probe.next()) == nil { return (400, "", []) }
        var headers: [(String, String)] = []
        if let cookie { headers.append(("Cookie", "\(ConsoleRoutes.cookieName)=\(cookie)")) }
        if let origin { headers.append(("Origin", origin)) }
        let answer = api.send(
            method, path, role: nil, body: form, contentType: "application/x-www-form-urlencoded", headers: headers)
        return (answer.status, String(decoding: answer.response.body, as: UTF8.self), answer.response.headers)
    }

    /// Signs in with `role`'s token; answers the session id.
    func signIn(_ role: Role) throws -> String {
        let answer = page("POST", "/console/sign-in", form: "token=\(api.tokens[role]!)")
        #expect(answer.status == 303)
        let cookie = try #require(answer.headers.first { $0.name == "Set-Cookie" }?.value)
        #expect(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict") && cookie.contains("Path=/console"))
        #expect(!cookie.contains(api.tokens[role]!))
        let value = cookie.split(separator: ";")[0].split(separator: "=")[1]
        return String(value)
    }

    static func csrf(in text: String) -> String? {
        guard let range = text.range(of: #"name="csrf" value="([0-9a-f]{64})""#, options: .regularExpression) else {
            return nil
        }
        return String(text[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
    }

    @Test func signedOutVisitorsAreSentToSignInAndBadTokensRefused() throws {
        let home = page("GET", "/console")
        #expect(home.status == 303 && home.headers.contains { $0.name == "Location" && $0.value == "/console/sign-in" })
        let form = page("GET", "/console/sign-in")
        #expect(form.status == 200 && form.text.contains(#"type="password""#))
        #expect(
            form.headers.contains { $0.name == "Content-Security-Policy" && $0.value.contains("default-src 'none'") })
        #expect(page("POST", "/console/sign-in", form: "token=rsd_nonsense").status == 401)
        #expect(page("POST", "/console/sign-in", form: "token=x&extra=1").status == 400)
        #expect(
            page("POST", "/console/sign-in", form: "token=\(api.tokens[.admin]!)", origin: "https://evil.example")
                .status == 403)
        // A forged or unknown session cookie is no session.
        #expect(page("GET", "/console", cookie: String(repeating: "a", count: 64)).status == 303)
    }

    func filedRequest(justificationDetail: String) throws -> AccessRequest {
        let tenant = try api.controller.directory.signUp(
            Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))
        ).tenant.id
        return try api.controller.access.fileAccess(
            AccessDesk.AccessFiling(
                tenant: tenant,
                staff: StaffMember(id: "s-1", entity: "Residency UK Ltd", jobRole: "sre", office: "london"),
                physicalCountry: CountryCode("GB")!, justification: "security_incident", detail: justificationDetail,
                scope: AccessScope(dataClasses: [.logs], mode: .read), hours: 3),
            breakGlass: false, by: "t-support")
    }

    @Test func aComplianceOfficerDecidesWithTheCSRFTokenAndHostileTextStaysText() throws {
        let request = try filedRequest(justificationDetail: #"<script>alert(1)</script>"#)
        let session = try signIn(.compliance)
        let queue = page("GET", "/console/access", cookie: session)
        #expect(queue.status == 200)
        #expect(queue.text.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !queue.text.contains("<script>"))
        let csrf = try #require(Self.csrf(in: queue.text))
        // Without the CSRF token, with another one, or from another site: refused, nothing decided.
        #expect(page("POST", "/console/access/\(request.id)/approve", cookie: session, form: "reason=ok").status == 403)
        #expect(
            page(
                "POST", "/console/access/\(request.id)/approve", cookie: session,
                form: "csrf=\(String(repeating: "0", count: 64))&reason=ok"
            ).status == 403)
        #expect(
            page(
                "POST", "/console/access/\(request.id)/approve", cookie: session, form: "csrf=\(csrf)&reason=ok",
                origin: "https://evil.example"
            ).status == 403)
        #expect(try api.controller.access.accessRequest(id: request.id).state == .pending)
        let approved = page(
            "POST", "/console/access/\(request.id)/approve", cookie: session,
            form: "csrf=\(csrf)&reason=Ticket+checked&hours=2")
        #expect(approved.status == 303)
        let decided = try api.controller.access.accessRequest(id: request.id)
        #expect(decided.state == .approved && decided.decidedBy == "t-compliance" && decided.grantedHours == 2)
        let after = page("GET", "/console/access?done=approved&request=\(request.id)", cookie: session).text
        #expect(after.contains("approved") && after.contains("Grants in force") && after.contains("until"))
    }

    @Test func aBreakGlassGrantIsReviewedFromTheConsole() throws {
        let tenant = try api.controller.directory.signUp(
            Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))
        ).tenant.id
        let grant = try api.controller.access.fileAccess(
            AccessDesk.AccessFiling(
                tenant: tenant,
                staff: StaffMember(id: "s-2", entity: "Residency UK Ltd", jobRole: "sre", office: "london"),
                physicalCountry: CountryCode("GB")!, justification: "security_incident", detail: "INC-9",
                scope: AccessScope(dataClasses: [.logs], mode: .read), hours: 1),
            breakGlass: true, by: "t-support")
        let session = try signIn(.compliance)
        let queue = page("GET", "/console/access", cookie: session)
        #expect(queue.text.contains("Break-glass reviews due") && queue.text.contains(grant.id))
        let csrf = try #require(Self.csrf(in: queue.text))
        #expect(
            page("POST", "/console/access/\(grant.id)/review", cookie: session, form: "csrf=\(csrf)&note=").status
                == 400)
        #expect(
            page("POST", "/console/access/\(grant.id)/review", cookie: session, form: "csrf=\(csrf)&note=Checked+INC-9")
                .status == 303)
        #expect(try api.controller.access.accessRequest(id: grant.id).reviewedBy == "t-compliance")
        #expect(
            page("POST", "/console/access/\(grant.id)/review", cookie: session, form: "csrf=\(csrf)&note=again").status
                == 409)
    }

    @Test func theSameRefusalsAsTheAPI() throws {
        // The support token that filed it cannot decide it: separation of duties, as the API answers it (its role
        // is refused first: the console's access page takes compliance).
        let request = try filedRequest(justificationDetail: "T-1")
        let support = try signIn(.support)
        #expect(page("GET", "/console/access", cookie: support).status == 403)
        let admin = try signIn(.admin)
        let csrf = try #require(Self.csrf(in: page("GET", "/console/access", cookie: admin).text))
        let bad = page(
            "POST", "/console/access/\(request.id)/approve", cookie: admin, form: "csrf=\(csrf)&reason=ok&hours=9999")
        #expect(bad.status == 400 && bad.text.contains("accepted: 1-720"))
        let denied = page("POST", "/console/access/\(request.id)/deny", cookie: admin, form: "csrf=\(csrf)&reason=no")
        #expect(denied.status == 303)
        let again = page("POST", "/console/access/\(request.id)/approve", cookie: admin, form: "csrf=\(csrf)&reason=ok")
        #expect(again.status == 409 && again.text.contains("role=\"alert\""))
    }

    @Test func aRevokedTokenOrSignOutEndsTheSession() throws {
        let session = try signIn(.compliance)
        let overview = page("GET", "/console", cookie: session)
        #expect(
            overview.status == 200 && overview.text.contains("<svg role=\"img\"")
                && overview.text.contains("break-glass review"))
        try TokenService.revokeToken(name: "t-compliance", pool: api.controller.pool)
        #expect(page("GET", "/console", cookie: session).status == 303)
        let admin = try signIn(.admin)
        let csrf = try #require(Self.csrf(in: page("GET", "/console", cookie: admin).text))
        #expect(page("POST", "/console/sign-out", cookie: admin, form: "csrf=bad").status == 403)
        #expect(page("POST", "/console/sign-out", cookie: admin, form: "csrf=\(csrf)").status == 303)
        #expect(page("GET", "/console", cookie: admin).status == 303)
    }

    @Test func aTenantsPageShowsWhyItLivesThereAndItsProvenHistory() throws {
        let tenant = try api.controller.directory.signUp(
            Signup(name: #"Acme <img src=x onerror=alert(1)>"#, plan: .paid, declaredCountry: CountryCode("FR"))
        ).tenant
        try api.controller.publisher.publish()
        let ops = try signIn(.ops)
        let list = page("GET", "/console/tenants?q=eu", cookie: ops)
        #expect(list.status == 200 && list.text.contains(tenant.id))
        #expect(list.text.contains("Acme &lt;img src=x onerror=alert(1)&gt;") && !list.text.contains("<img"))
        #expect(page("GET", "/console/tenants?q=\(tenant.id)", cookie: ops).status == 303)
        // Anything else is the start of a name (case ignored), a country or a region, each through an index.
        #expect(page("GET", "/console/tenants?q=nowhere", cookie: ops).text.contains("No tenant matches"))
        #expect(page("GET", "/console/tenants?q=acme", cookie: ops).text.contains(tenant.id))
        #expect(page("GET", "/console/tenants?q=fr", cookie: ops).text.contains(tenant.id))
        #expect(!page("GET", "/console/tenants?q=DE&by=country", cookie: ops).text.contains(tenant.id))
        #expect(page("GET", "/console/tenants?q=tn_x&by=id", cookie: ops).status == 400)
        #expect(page("GET", "/console/tenants?q=x&by=shoe", cookie: ops).status == 400)
        let one = page("GET", "/console/tenants/\(tenant.id)", cookie: ops)
        #expect(one.status == 200)
        #expect(one.text.contains("Why it lives there") && one.text.contains("<li>"))
        #expect(one.text.contains("proven included in the published checkpoint"))
        #expect(one.text.contains("tenant.created"))
        #expect(page("GET", "/console/tenants/tn_0193a2b4c5d6e7f8091a2b", cookie: ops).status == 404)
        // A tenant's own administrator sees its tenant only, and not the directory.
        let administrator = try TokenService.createToken(
            name: "acme-admin", role: .compliance, pool: api.controller.pool, tenant: tenant.id)
        let signed = page("POST", "/console/sign-in", form: "token=\(administrator)")
        let cookie = String(
            try #require(signed.headers.first { $0.name == "Set-Cookie" }?.value).split(separator: ";")[0].split(
                separator: "=")[1])
        #expect(page("GET", "/console/tenants/\(tenant.id)", cookie: cookie).status == 200)
        #expect(page("GET", "/console/tenants", cookie: cookie).status == 403)
        let other = try api.controller.directory.signUp(
            Signup(name: "Other", plan: .paid, declaredCountry: CountryCode("DE"))
        ).tenant
        #expect(page("GET", "/console/tenants/\(other.id)", cookie: cookie).status == 404)
    }

    @Test func theLedgerPageProvesAnEntryAndMigrationActionsNeedTheCSRFToken() throws {
        _ = try api.controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR")))
        try api.controller.publisher.publish()
        let compliance = try signIn(.compliance)
        let ledger = page("GET", "/console/ledger?index=1", cookie: compliance)
        #expect(ledger.status == 200 && ledger.text.contains("is proven included in the published checkpoint"))
        #expect(ledger.text.contains("verify-entry"))
        #expect(page("GET", "/console/ledger?index=99999", cookie: compliance).status == 400)
        #expect(page("GET", "/console/migrations", cookie: compliance).status == 200)
        let ops = try signIn(.ops)
        let size = try api.controller.ledger.size()
        #expect(page("GET", "/console/ledger", cookie: ops).status == 403)
        // Refused like the API refuses: on the ledger as api.refused.
        let recorded = try api.controller.ledger.entries(from: size, to: nil).compactMap {
            try? JSONParser.parse($0.entry)
        }
        #expect(recorded.contains { $0["kind"] == .string("api.refused") && $0["body"]?["reason"] == .string("role") })
        let csrf = try #require(Self.csrf(in: page("GET", "/console/migrations", cookie: ops).text))
        #expect(page("POST", "/console/migrations/mg_missing/cancel", cookie: ops, form: "csrf=nope").status == 403)
        #expect(page("POST", "/console/migrations/mg_missing/cancel", cookie: ops, form: "csrf=\(csrf)").status == 404)
        #expect(
            page("POST", "/console/migrations/mg_missing/cancel", cookie: compliance, form: "csrf=\(csrf)").status
                == 403)
    }

    @Test func reportsAreShownOrDownloadedForAChosenPeriod() throws {
        let compliance = try signIn(.compliance)
        #expect(page("GET", "/console/reports", cookie: compliance).text.contains(#"name="kind""#))
        let shown = page(
            "GET", "/console/reports?kind=cross-border&from=2026-01-01&to=2026-12-31&region=&format=html",
            cookie: compliance)
        #expect(shown.status == 200 && shown.text.contains("<html"))
        #expect(!shown.headers.contains { $0.name == "Content-Disposition" })
        let csv = page("GET", "/console/reports?kind=residency-map&format=csv", cookie: compliance)
        #expect(
            csv.status == 200
                && csv.headers.contains { $0.name == "Content-Disposition" && $0.value.contains("residency-map.csv") })
        #expect(page("GET", "/console/reports?kind=cross-border&from=yesterday", cookie: compliance).status == 400)
        #expect(
            page("GET", "/console/reports?kind=cross-border&from=2026-12-31&to=2026-01-01", cookie: compliance).status
                == 400)
        #expect(page("GET", "/console/reports?kind=other", cookie: compliance).status == 400)
        #expect(page("GET", "/console/reports?kind=cross-border&x=1", cookie: compliance).status == 400)
        let ops = try signIn(.ops)
        #expect(page("GET", "/console/reports?kind=cross-border", cookie: ops).status == 403)
        #expect(page("GET", "/console/reports?kind=residency-map", cookie: ops).status == 200)
    }

    /// A cross-border report page lists at most a page of break-glass grants and of refused attempts (counted in
    /// full in its summary), each with plain "next page" links carrying its own ledger-index cursor and keeping the
    /// other lists' places: paging works with JavaScript off, and every row is reached once.
    @Test func theReportsBreakGlassAndRefusalListsArePaged() throws {
        let rows = Console.reportPageLines
        let base = try #require(Timestamp.milliseconds(rfc3339: "2026-03-01T00:00:00Z"))
        try api.controller.pool.write { database in
            for i in 0..<(rows + 7) {
                try Ledger.append(
                    in: database, time: base + Int64(i) * 60_000, kind: .accessBreakGlass, actor: "desk",
                    tenant: "tn_glass\(i)", region: "eu",
                    body: .object([
                        ("request", .string("ar_glass\(i)")), ("staff", .string("s-1")),
                        ("physical_country", .string("US")), ("justification", .string("security_incident")),
                        ("break_glass", .bool(true)),
                    ]))
                try Ledger.append(
                    in: database, time: base + Int64(i) * 60_000 + 1, kind: .accessRefused, actor: "desk",
                    tenant: "tn_refused\(i)", region: "eu",
                    body: .object([
                        ("staff", .string("s-2")), ("physical_country", .string("RU")),
                        ("code", .string("forbidden_destination")), ("rule", .string("no-ru")),
                    ]))
            }
        }
        _ = try api.controller.ledger.signCheckpoint(force: true)
        let compliance = try signIn(.compliance)
        /// The rows of the table under `heading` (up to the next heading), and the page's links by their text.
        func table(_ text: String, _ heading: String) -> [String] {
            guard let start = text.range(of: "<h2>" + heading) else { return [] }
            let rest = text[start.upperBound...]
            let section = rest[..<(rest.range(of: "<h2>")?.lowerBound ?? rest.endIndex)]
            return section.components(separatedBy: "<tr><td").dropFirst().map { String($0.prefix(200)) }
        }
        func link(_ text: String, _ label: String) -> String? {
            guard let end = text.range(of: "\">\(label)</a>") else { return nil }
            guard let start = text[..<end.lowerBound].range(of: "href=\"", options: .backwards) else { return nil }
            return text[start.upperBound..<end.lowerBound].replacingOccurrences(of: "&amp;", with: "&")
        }
        let first = page("GET", "/console/reports?kind=cross-border&from=2026-01-01&to=2026-12-31", cookie: compliance)
        #expect(first.status == 200)
        #expect(first.text.contains("<td class=\"n\">\(rows + 7)</td>"))  // the summary counts them all
        #expect(table(first.text, "Break-glass grants").count == rows)
        #expect(table(first.text, "Refused attempts").count == rows)
        #expect(first.text.contains("<h2>Break-glass grants, first page</h2>"))
        let nextGlass = try #require(link(first.text, "Next page of break-glass grants"))
        #expect(nextGlass.hasPrefix("/console/reports?kind=cross%2Dborder&from=2026%2D01%2D01&to=2026%2D12%2D31&"))
        #expect(nextGlass.contains("break_glass_after=") && !nextGlass.contains("refusals_after="))
        #expect(!first.text.contains("First page of break-glass grants"))

        // The break-glass list's next page: the 7 left, its first-page link, the refusals where they were.
        let second = page("GET", nextGlass, cookie: compliance)
        #expect(second.status == 200)
        let glass = table(second.text, "Break-glass grants")
        #expect(glass.count == 7 && glass.allSatisfy { $0.contains("tn_glass") })
        #expect(glass.first?.contains("tn_glass\(rows)") == true)
        #expect(link(second.text, "Next page of break-glass grants") == nil)
        #expect(link(second.text, "First page of break-glass grants") != nil)
        #expect(table(second.text, "Refused attempts").count == rows)
        // The refusals' next page from there keeps the break-glass list on its second page.
        let nextRefused = try #require(link(second.text, "Next page of refused attempts"))
        #expect(nextRefused.contains("break_glass_after="))
        let third = page("GET", nextRefused, cookie: compliance)
        #expect(table(third.text, "Refused attempts").count == 7)
        #expect(table(third.text, "Break-glass grants").count == 7)
        #expect(
            page("GET", "/console/reports?kind=cross-border&refusals_after=-1", cookie: compliance).status == 400)
        #expect(
            page("GET", "/console/reports?kind=cross-border&break_glass_after=x", cookie: compliance).status == 400)
    }

    /// The API's hostile identifiers in every console path parameter, signed in as admin: a 4xx page, the
    /// identifier never echoed as markup, nothing written.
    @Test func hostileIdentifiersInConsolePathsAreRefused() throws {
        let admin = try signIn(.admin)
        let csrf = try #require(Self.csrf(in: page("GET", "/console", cookie: admin).text))
        let ledger = try api.controller.ledger.size()
        for value in HostileCallerTests.hostileIdentifiers {
            for (method, path, form) in [
                ("GET", "/console/tenants/\(value)", nil),
                ("POST", "/console/access/\(value)/approve", "csrf=\(csrf)&reason=x"),
                ("POST", "/console/access/x/\(value)", "csrf=\(csrf)&reason=x"),
                ("POST", "/console/migrations/\(value)/cancel", "csrf=\(csrf)"),
            ] as [(String, String, String?)] {
                let answer = page(method, path, cookie: admin, form: form)
                #expect((400..<500).contains(answer.status), "\(method) \(path.prefix(60)): \(answer.status)")
                #expect(!answer.text.contains("<script") && !answer.text.contains("'1'='1"), "\(path.prefix(60))")
            }
        }
        #expect(try api.controller.ledger.size() == ledger)
    }

    /// Filing a migration from the console: the policy check shown first (allowed with its transfer, or refused with
    /// its rule and no form to file it), then the API's own use case — here, with no data plane, the API's own
    /// refusal word for word. A bulk plan says who moves and who stays, and why.
    @Test func aMigrationIsCheckedAgainstThePolicyBeforeItIsFiled() throws {
        let tenant = try api.controller.directory.signUp(
            Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))
        ).tenant
        let ops = try signIn(.ops)
        let refused = page("GET", "/console/migrations/new?tenant=\(tenant.id)&to_region=us&reason=x", cookie: ops)
        #expect(
            refused.status == 200 && refused.text.contains("Refused by the policy")
                && refused.text.contains("eea-in-eu"))
        #expect(!refused.text.contains("File this migration"))
        let otherSite = tenant.site == "eu-ie-dublin" ? "eu-de-frankfurt" : "eu-ie-dublin"
        let allowed = page(
            "GET", "/console/migrations/new?tenant=\(tenant.id)&to_region=eu&to_site=\(otherSite)&reason=closer",
            cookie: ops)
        #expect(
            allowed.status == 200 && allowed.text.contains("Allowed under policy")
                && allowed.text.contains("File this migration"))
        let csrf = try #require(Self.csrf(in: allowed.text))
        let form = "tenant=\(tenant.id)&to_region=eu&to_site=\(otherSite)&reason=closer"
        let size = try api.controller.ledger.size()
        #expect(page("POST", "/console/migrations/new", cookie: ops, form: form).status == 403)
        #expect(
            page(
                "POST", "/console/migrations/new", cookie: ops, form: "csrf=\(csrf)&\(form)",
                origin: "https://evil.example"
            ).status == 403)
        let compliance = try signIn(.compliance)
        let complianceCSRF = try #require(Self.csrf(in: page("GET", "/console", cookie: compliance).text))
        #expect(
            page("POST", "/console/migrations/new", cookie: compliance, form: "csrf=\(complianceCSRF)&\(form)").status
                == 403)
        #expect(
            page("GET", "/console/migrations/new?tenant=\(tenant.id)&to_region=eu&reason=x", cookie: compliance).status
                == 403)
        // The same answer as POST /v1/tenants/{id}/migrations on this controller (no data plane, so no mover).
        let viaAPI = api.send(
            "POST", "/v1/tenants/\(tenant.id)/migrations", role: .ops,
            body: #"{"to_region":"eu","to_site":"\#(otherSite)","reason":"closer"}"#)
        let viaConsole = page("POST", "/console/migrations/new", cookie: ops, form: "csrf=\(csrf)&\(form)")
        #expect(viaConsole.status == viaAPI.status && viaAPI.status == 409)
        if case .string(let message)? = viaAPI.json?["error"]?["message"] {
            #expect(viaConsole.text.contains(HTML.escape(message)))
        }
        // Nothing filed by the refused forms; the role refusal is on record like the API's.
        let recorded = try api.controller.ledger.entries(from: size, to: nil).compactMap {
            try? JSONParser.parse($0.entry)
        }
        #expect(!recorded.contains { $0["kind"] == .string("migration.requested") })
        #expect(recorded.contains { $0["kind"] == .string("api.refused") && $0["actor"] == .string("t-compliance") })
        let plan = page("GET", "/console/migrations/plan?from=eu&to=us", cookie: ops)
        #expect(
            plan.status == 200 && plan.text.contains("would move") && plan.text.contains("stays")
                && plan.text.contains(tenant.id))
        #expect(page("GET", "/console/migrations/plan?from=eu&to=moon", cookie: ops).status == 400)
        #expect(page("GET", "/console/migrations/plan?from=eu&to=us&country=xyz", cookie: ops).status == 400)
    }

    /// The one script: served by the console, allowed by a CSP with no inline script; it writes text, never markup.
    @Test func theLiveScriptIsTheConsolesOwnAndWritesOnlyText() throws {
        let script = page("GET", "/console/assets/live.js")
        #expect(
            script.status == 200
                && script.headers.contains { $0.name == "Content-Type" && $0.value.hasPrefix("text/javascript") })
        #expect(
            script.text.contains("textContent") && !script.text.contains("innerHTML") && !script.text.contains("eval("))
        let ops = try signIn(.ops)
        let migrations = page("GET", "/console/migrations", cookie: ops)
        let policy = try #require(migrations.headers.first { $0.name == "Content-Security-Policy" }?.value)
        #expect(
            policy.contains("script-src 'self'") && !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval")
        )
        #expect(!migrations.text.contains("<script>"))
        #expect(page("GET", "/console/migrations/mg_missing", cookie: ops).status == 404)
        #expect(page("GET", "/console/migrations/mg_missing/live.json", cookie: ops).status == 404)
    }

    @Test func theOverviewShowsWhatWaitsAndATenantsDataClasses() throws {
        let tenant = try api.controller.directory.signUp(
            Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))
        ).tenant
        try api.controller.publisher.publish()
        let admin = try signIn(.admin)
        let overview = page("GET", "/console", cookie: admin).text
        #expect(overview.contains("waiting for a decision") && overview.contains("0</strong> migrations in flight"))
        #expect(overview.contains("latest signed checkpoint covers"))
        #expect(overview.contains("1 of 2000000"))
        let one = page("GET", "/console/tenants/\(tenant.id)", cookie: admin).text
        #expect(
            one.contains("Data classes and where they live") && one.contains("customer_data")
                && one.contains("site \(tenant.site)"))
        #expect(one.contains("File a migration for this tenant"))
    }

    @Test func sessionsExpireAndAreBounded() {
        let sessions = ConsoleSessions(idleTimeout: 1000, absoluteTimeout: 5000, maximumSessions: 3)
        let first = sessions.open(token: "a", at: 0)
        #expect(sessions.touch(first.id, at: 900) != nil)
        #expect(sessions.touch(first.id, at: 1800) != nil)
        #expect(sessions.touch(first.id, at: 2900) == nil)
        let second = sessions.open(token: "b", at: 0)
        for time in stride(from: Int64(900), through: 4900, by: 900) {
            #expect(sessions.touch(second.id, at: time) != nil)
        }
        #expect(sessions.touch(second.id, at: 5000) == nil)
        for index in 0..<10 { _ = sessions.open(token: "t\(index)", at: 100 + Int64(index)) }
        #expect(sessions.count == 3)
    }
}
