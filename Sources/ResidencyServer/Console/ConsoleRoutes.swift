import Foundation
import ResidencyController
import ResidencyCore

/// The console at `/console`: HTML pages for the people who decide, served by the controller, working without
/// JavaScript. A token is exchanged once for a server-side session; each page checks the session's token again
/// (a revoked token ends it), its role and tenant scope as the API does, and each action is the API's own use
/// case — the same refusals and the same ledger entries. Every state-changing form carries the session's CSRF
/// token; every page is sent with a Content-Security-Policy that allows no script, no inline style, no frames.
enum ConsoleRoutes {
    static let cookieName = "residency_session"

    static func all(controller: Controller, sessions: ConsoleSessions, secure: Bool) -> [Route] {
        let console = Console(controller: controller, sessions: sessions, secure: secure)
        return [
            Route("GET", "/console", roles: nil) { context in console.respond(context) { try console.overview($0) } },
            Route("GET", "/console/style.css", roles: nil, inline: true) { _ in
                HTTPResponse(
                    status: 200,
                    headers: [("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "max-age=3600")],
                    body: Array(HTML.styleSheet.utf8))
            },
            Route("GET", "/console/sign-in", roles: nil) { context in console.signInPage(message: nil, status: 200) },
            Route("POST", "/console/sign-in", roles: nil) { context in console.signIn(context.request) },
            Route("POST", "/console/sign-out", roles: nil) { context in console.signOut(context.request) },
            Route("GET", "/console/access", roles: nil) { context in console.respond(context) { try console.access($0, context) } },
            Route("GET", "/console/tenants", roles: nil) { context in console.respond(context) { try console.tenants($0, context) } },
            Route("GET", "/console/tenants/{id}", roles: nil) { context in console.respond(context) { try console.tenant($0, context) } },
            Route("GET", "/console/reports", roles: nil) { context in console.respond(context) { try console.reports($0, context) } },
            Route("GET", "/console/ledger", roles: nil) { context in console.respond(context) { try console.ledger($0, context) } },
            Route("GET", "/console/migrations", roles: nil) { context in console.respond(context) { try console.migrations($0, context) } },
            Route("POST", "/console/migrations/{id}/{action}", roles: nil) { context in
                console.respond(context, changes: true) { try console.actOnMigration($0, context) }
            },
            Route("POST", "/console/access/{id}/{decision}", roles: nil) { context in
                console.respond(context, changes: true) { try console.decide($0, context) }
            },
        ]
    }
}

/// A signed-in request: the session and the caller its token stands for now.
struct ConsoleVisitor {
    let session: ConsoleSessions.Session
    let caller: Caller
}

struct Console: Sendable {
    let controller: Controller
    let sessions: ConsoleSessions
    let secure: Bool

    static let securityHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"), ("Cache-Control", "no-store"),
        ("X-Frame-Options", "DENY"),
    ]

    func html(_ page: String, status: Int = 200, extra: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(
            status: status, headers: [("Content-Type", "text/html; charset=utf-8")] + Self.securityHeaders + extra,
            body: Array(page.utf8))
    }

    func redirect(_ location: String, extra: [(name: String, value: String)] = []) -> HTTPResponse {
        HTTPResponse(status: 303, headers: [("Location", location)] + Self.securityHeaders + extra, body: [])
    }

    func cookie(_ value: String, maxAge: Int) -> (name: String, value: String) {
        (
            "Set-Cookie",
            "\(ConsoleRoutes.cookieName)=\(value); Path=/console; HttpOnly; SameSite=Strict; Max-Age=\(maxAge)"
                + (secure ? "; Secure" : "")
        )
    }

    static func sessionID(_ request: HTTPRequest) -> String? {
        for (name, value) in request.headers where name == "cookie" {
            for part in value.split(separator: ";") {
                let pair = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if pair.count == 2, pair[0] == ConsoleRoutes.cookieName, pair[1].utf8.count == 64 { return String(pair[1]) }
            }
        }
        return nil
    }

    /// A cross-site form post is refused even before the CSRF token is checked: a browser names the page's origin.
    static func isSameOrigin(_ request: HTTPRequest) -> Bool {
        guard let origin = request.header("origin") else { return true }
        guard let host = request.header("host") else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Runs `page` for a signed-in visitor; the sign-in page for anyone else. With `changes`, the form's CSRF
    /// token must be the session's.
    func respond(_ context: RequestContext, changes: Bool = false, _ page: (ConsoleVisitor) throws -> HTTPResponse)
        -> HTTPResponse
    {
        let now = controller.clock.now()
        guard let id = Self.sessionID(context.request), let session = sessions.touch(id, at: now) else {
            return changes ? failure(status: 403, "your session has ended; sign in again", visitor: nil) : redirect("/console/sign-in")
        }
        guard case .caller(let caller) = controller.tokens.authentication(bearer: session.token) else {
            sessions.close(session.id)
            return redirect("/console/sign-in", extra: [cookie("", maxAge: 0)])
        }
        let visitor = ConsoleVisitor(session: session, caller: caller)
        do {
            return try page(visitor)
        } catch let error as APIError {
            return failure(status: error.status, error.message, visitor: visitor)
        } catch let error as ControllerError {
            let api = APIError(error)
            return failure(status: api.status, api.message, visitor: visitor)
        } catch {
            return failure(status: 500, "\(error)", visitor: visitor)
        }
    }

    func failure(status: Int, _ message: String, visitor: ConsoleVisitor?) -> HTTPResponse {
        html(
            HTML.page(
                title: "Not done", signedIn: visitor.map { ($0.caller.tokenName, $0.caller.role.rawValue, $0.session.csrf) },
                body: #"<p class="error" role="alert">\#(HTML.escape(message))</p><p><a href="/console">Back to the overview</a></p>"#),
            status: status)
    }

    func checkCSRF(_ form: FormBody, _ visitor: ConsoleVisitor) throws(APIError) {
        guard let given = form.values["csrf"],
            HMACSHA256.constantTimeEqual(Array(given.utf8), Array(visitor.session.csrf.utf8))
        else {
            throw APIError(status: 403, code: "csrf", message: "the form is stale or did not come from this console; reload the page and try again")
        }
    }

    // MARK: Sign-in

    func signInPage(message: String?, status: Int) -> HTTPResponse {
        let notice = message.map { #"<p class="error" role="alert">\#(HTML.escape($0))</p>"# } ?? ""
        return html(
            HTML.page(
                title: "Sign in", signedIn: nil,
                body: """
                    \(notice)
                    <form method="post" action="/console/sign-in">
                    <label for="token">Your Residency token</label>
                    <input id="token" name="token" type="password" autocomplete="off" required size="60">
                    <button type="submit">Sign in</button>
                    </form>
                    <p>The token is exchanged for a session here; your browser keeps only the session.</p>
                    """), status: status)
    }

    func signIn(_ request: HTTPRequest) -> HTTPResponse {
        guard Self.isSameOrigin(request) else { return signInPage(message: "a sign-in from another site is refused", status: 403) }
        let form: FormBody
        do { form = try FormBody(request, fields: ["token"]) } catch { return signInPage(message: error.message, status: error.status) }
        let token = form.values["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        switch controller.tokens.authentication(bearer: token) {
        case .caller:
            let session = sessions.open(token: token, at: controller.clock.now())
            return redirect("/console", extra: [cookie(session.id, maxAge: Int(sessions.absoluteTimeout / 1000))])
        case .unavailable:
            return signInPage(message: "the token could not be checked now (the database is not reachable); try again shortly", status: 503)
        case .revoked, .unknown:
            return signInPage(message: "that token is unknown or revoked", status: 401)
        }
    }

    func signOut(_ request: HTTPRequest) -> HTTPResponse {
        guard let id = Self.sessionID(request), let session = sessions.touch(id, at: controller.clock.now()) else {
            return redirect("/console/sign-in", extra: [cookie("", maxAge: 0)])
        }
        guard Self.isSameOrigin(request), let form = try? FormBody(request, fields: ["csrf"]),
            let given = form.values["csrf"], HMACSHA256.constantTimeEqual(Array(given.utf8), Array(session.csrf.utf8))
        else {
            return html(HTML.page(title: "Not done", signedIn: nil, body: #"<p class="error" role="alert">the sign-out form is stale; reload the page</p>"#), status: 403)
        }
        sessions.close(session.id)
        return redirect("/console/sign-in", extra: [cookie("", maxAge: 0)])
    }

    // MARK: Pages

    func overview(_ visitor: ConsoleVisitor) throws -> HTTPResponse {
        let counts = controller.directory.tenantCounts
        var rows = ""
        for region in controller.policies.catalog.regions {
            var service = "in process"
            if let view = controller.directory.regionalServiceView(region: region.id), case .string(let state)? = view["state"] {
                service = state
            }
            rows += "<tr><th scope=\"row\">\(HTML.escape(region.id))</th><td>\(HTML.escape(region.name))</td><td>\(HTML.escape(region.status.rawValue))</td><td>\(counts[region.id, default: 0]) of \(region.capacity)</td><td>\(HTML.escape(service))</td></tr>"
        }
        var pending = ""
        if [.compliance, .admin].contains(visitor.caller.role) {
            let requests = try controller.access.accessRequests(tenant: visitor.caller.tenant, state: .pending, region: nil)
            pending = "<p><a href=\"/console/access\">\(requests.count) access request\(requests.count == 1 ? "" : "s") waiting for a decision</a></p>"
        }
        var inFlight = ""
        if visitor.caller.tenant == nil, [.ops, .compliance, .admin].contains(visitor.caller.role) {
            let running = try controller.migrations.migrations(tenant: nil, state: nil, plan: nil, limit: 1000)
                .filter { ![.completed, .failed, .cancelled].contains($0.state) }
            inFlight = "<p><a href=\"/console/migrations\">\(running.count) migration\(running.count == 1 ? "" : "s") in flight</a></p>"
        }
        var reviews = ""
        if [.compliance, .admin].contains(visitor.caller.role) {
            let now = controller.clock.now()
            let due = try controller.access.accessRequests(tenant: visitor.caller.tenant, state: nil, region: nil)
                .filter { $0.isBreakGlass && $0.reviewedAt == nil }
            let overdue = due.filter { $0.isReviewOverdue(at: now) }.count
            reviews = "<p>\(due.count) break-glass review\(due.count == 1 ? "" : "s") due (\(overdue) overdue)</p>"
        }
        let published = try controller.publisher.latestPublished()
        let checkpoint = published.map { "The latest published checkpoint covers \($0.size) ledger entries." } ?? "No checkpoint is published yet."
        return html(
            HTML.page(
                title: "Overview", signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: """
                    \(pending)\(reviews)\(inFlight)
                    \(WorldMap.svg(regions: controller.policies.catalog.regions, tenants: counts))
                    <table><caption>Regions</caption>
                    <thead><tr><th scope="col">Region</th><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Tenants</th><th scope="col">Service</th></tr></thead>
                    <tbody>\(rows)</tbody></table>
                    <p>\(checkpoint)</p>
                    """))
    }

    func access(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow([.compliance, .admin], unscoped: false, visitor, context, "deciding access takes a compliance token")
        let now = controller.clock.now()
        let pending = try controller.access.accessRequests(tenant: visitor.caller.tenant, state: .pending, region: nil)
        var body = ""
        if let done = context.request.queryValue("done"), ["approved", "denied", "reviewed"].contains(done),
            let id = context.request.queryValue("request")
        {
            body += #"<p class="notice" role="status">Request \#(HTML.escape(id)) \#(done).</p>"#
        }
        if pending.isEmpty { body += "<p>No access request is waiting for a decision.</p>" }
        for request in pending {
            let csrf = HTML.escape(visitor.session.csrf)
            let id = HTML.escape(request.id)
            body += """
                <section aria-labelledby="r-\(id)"><h2 id="r-\(id)">\(id)</h2>
                <table><tbody>
                <tr><th scope="row">Tenant</th><td>\(HTML.escape(request.tenant)) (region \(HTML.escape(request.region)))</td></tr>
                <tr><th scope="row">Staff member</th><td>\(HTML.escape(request.staff.id)), \(HTML.escape(request.staff.jobRole)), \(HTML.escape(request.staff.entity)) — office \(HTML.escape(request.staff.office)), now in \(HTML.escape(request.physicalCountry.rawValue))</td></tr>
                <tr><th scope="row">Why</th><td>\(HTML.escape(request.justification)): \(HTML.escape(request.detail))</td></tr>
                <tr><th scope="row">Scope</th><td>\(HTML.escape(request.scope.mode.rawValue)) \(HTML.escape(request.scope.dataClasses.map(\.rawValue).sorted().joined(separator: ", "))) for \(request.requestedHours) h</td></tr>
                <tr><th scope="row">Filed by</th><td>\(HTML.escape(request.filedBy ?? "-")), waits until \(Timestamp.rfc3339(milliseconds: request.pendingUntil))</td></tr>
                </tbody></table>
                <form class="decide" method="post" action="/console/access/\(id)/approve">
                <input type="hidden" name="csrf" value="\(csrf)">
                <label>Reason<input name="reason" required maxlength="500"></label>
                <label>Hours<input name="hours" inputmode="numeric" size="4" value="\(request.requestedHours)"></label>
                <button type="submit">Approve</button></form>
                <form class="decide" method="post" action="/console/access/\(id)/deny">
                <input type="hidden" name="csrf" value="\(csrf)">
                <label>Reason<input name="reason" required maxlength="500"></label>
                <button type="submit">Deny</button></form>
                </section>
                """
        }
        // Break-glass grants waiting for their after-the-fact review, and grants in force.
        let all = try controller.access.accessRequests(tenant: visitor.caller.tenant, state: nil, region: nil)
        let reviews = all.filter { $0.isBreakGlass && $0.reviewedAt == nil }
        if !reviews.isEmpty {
            body += "<h2>Break-glass reviews due</h2>"
            for request in reviews {
                let id = HTML.escape(request.id)
                let due = request.reviewDueAt.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-"
                let overdue = request.isReviewOverdue(at: now) ? " (overdue)" : ""
                body += "<form class=\"decide\" method=\"post\" action=\"/console/access/\(id)/review\">"
                    + "<input type=\"hidden\" name=\"csrf\" value=\"\(HTML.escape(visitor.session.csrf))\">"
                    + "<span>\(id): \(HTML.escape(request.staff.id)) on \(HTML.escape(request.tenant)), \(HTML.escape(request.justification)): \(HTML.escape(request.detail)); review due \(due)\(overdue)</span>"
                    + "<label>Review note<input name=\"note\" required maxlength=\"2000\"></label>"
                    + "<button type=\"submit\">Record review</button></form>"
            }
        }
        let granted = all.filter { $0.state.isGranted }
        body += "<h2>Grants in force</h2>"
        if granted.isEmpty { body += "<p>None.</p>" }
        for request in granted {
            let until = request.grantExpiresAt.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-"
            let scope = request.scope.dataClasses.map(\.rawValue).sorted().joined(separator: ", ")
            body += "<p>\(HTML.escape(request.id)): \(HTML.escape(request.staff.id)) from \(HTML.escape(request.physicalCountry.rawValue)), \(HTML.escape(request.scope.mode.rawValue)) \(HTML.escape(scope)) of \(HTML.escape(request.tenant)) until \(until) (\(HTML.escape(request.state.rawValue)))</p>"
        }
        return html(
            HTML.page(
                title: "Access requests", signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: body))
    }

    func decide(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        guard Console.isSameOrigin(context.request) else {
            throw APIError(status: 403, code: "forbidden", message: "a form from another site is refused")
        }
        try allow([.compliance, .admin], unscoped: false, visitor, context, "deciding access takes a compliance token")
        let decision: AccessLifecycle.Decision
        switch context.parameters["decision"] {
        case "approve": decision = .approve
        case "deny": decision = .deny
        case "review": return try review(visitor, context)
        default: throw APIError(status: 404, code: "not_found", message: "the console decides approve or deny, or records a review")
        }
        let form = try FormBody(context.request, fields: ["csrf", "reason", "hours"])
        try checkCSRF(form, visitor)
        let id = context.parameters["id"]!
        // A tenant's administrator sees and decides only its own tenant's requests, as in the API.
        let request = try controller.access.accessRequest(id: id)
        if let tenant = visitor.caller.tenant, request.tenant != tenant {
            throw APIError(status: 404, code: "not_found", message: "no access request \"\(id)\"")
        }
        var hours: Int?
        if decision == .approve, let text = form.values["hours"], !text.isEmpty {
            guard let value = Int(text), (1...720).contains(value) else {
                throw APIError.badRequest("hours: \"\(text.prefix(20))\"; accepted: 1-720")
            }
            hours = value
        }
        let reason = form.values["reason"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !reason.isEmpty else { throw APIError.badRequest("a decision needs a reason") }
        _ = try controller.access.decideAccess(id: id, decision, by: visitor.caller, reason: reason, hours: hours)
        let done = decision == .approve ? "approved" : "denied"
        return redirect("/console/access?done=\(done)&request=\(id)")
    }
}

// MARK: Tenants

extension Console {
    /// Tenants: one by id, or a page of the directory filtered by region (the API's listing, as a table).
    func tenants(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow([.ops, .compliance, .support, .signup, .admin], unscoped: true, visitor, context, "the directory takes an ops, compliance, support or signup token")
        let query = context.request.queryValue("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        if TenantID.isWellFormed(query) { return redirect("/console/tenants/\(query)") }
        var region: String?
        if !query.isEmpty {
            guard controller.policies.catalog.region(id: query) != nil else {
                throw APIError.badRequest(
                    "search by a tenant id (tn_…) or a region (\(controller.policies.catalog.regionIDs.joined(separator: ", ")))")
            }
            region = query
        }
        let page = try controller.directory.tenants(region: region, status: nil, limit: 100, after: context.request.queryValue("after"))
        var rows = ""
        for tenant in page.tenants {
            let id = HTML.escape(tenant.id)
            rows += "<tr><td><a href=\"/console/tenants/\(id)\">\(id)</a></td><td>\(HTML.escape(tenant.name))</td><td>\(HTML.escape(tenant.country?.rawValue ?? "-"))</td><td>\(HTML.escape(tenant.region)) / \(HTML.escape(tenant.site))</td><td>\(HTML.escape(tenant.status.rawValue))</td></tr>"
        }
        let next = page.next.map { #"<p><a href="/console/tenants?q=\#(HTML.escape(query))&amp;after=\#(HTML.escape($0))">Next page</a></p>"# } ?? ""
        return html(
            HTML.page(
                title: "Tenants", signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: """
                    <form method="get" action="/console/tenants" role="search">
                    <label for="q">Tenant id or region</label><input id="q" name="q" value="\(HTML.escape(query))">
                    <button type="submit">Search</button></form>
                    <table><thead><tr><th scope="col">Tenant</th><th scope="col">Name</th><th scope="col">Country</th><th scope="col">Region / site</th><th scope="col">Status</th></tr></thead>
                    <tbody>\(rows)</tbody></table>\(next)
                    """))
    }

    /// One tenant: where it lives and why (the placement decision and its reasons), its clocks, where its data is
    /// served, and every ledger entry about it with its inclusion proof checked against the published checkpoint.
    func tenant(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameters["id"]!
        if let scoped = visitor.caller.tenant, scoped != id {
            throw APIError(status: 404, code: "not_found", message: "no tenant \"\(id)\"")
        }
        guard TenantID.isWellFormed(id) else { throw APIError(status: 404, code: "not_found", message: "no tenant \"\(id)\"") }
        let found = try controller.directory.tenant(id: id)
        let view = try controller.directory.tenantView(found.tenant, placement: found.placement)
        let route = try controller.directory.route(tenant: id)
        var reasons = ""
        if case .array(let list)? = found.placement["reasons"] {
            for reason in list {
                if case .string(let message)? = reason["message"] { reasons += "<li>\(HTML.escape(message))</li>" }
            }
        }
        var history = "<p>No published checkpoint covers this tenant's entries yet.</p>"
        if let page = try? controller.transparency.transparency(tenant: id, limit: 200) {
            let checked: String
            do {
                let verified = try page.bundle.verify(trust: controller.transparency.trustPolicy)
                checked = "Every entry below is proven included in the published checkpoint of size \(verified.checkpoint.size), checked against the log's key\(controller.publisher.policy.quorum > 0 ? " and the witness quorum" : "")."
            } catch {
                checked = "The proofs did not check: \(error)"
            }
            var rows = ""
            for item in page.bundle.items {
                let entry = (try? JSONParser.parse(item.entry)) ?? .null
                var kind = "?"
                if case .string(let text)? = entry["kind"] { kind = text }
                var time = ""
                if case .number(let number)? = entry["time"], let milliseconds = number.int64Value {
                    time = Timestamp.rfc3339(milliseconds: milliseconds)
                }
                rows += "<tr><td>\(item.index)</td><td>\(HTML.escape(time))</td><td>\(HTML.escape(kind))</td><td><code>\(HTML.escape(String(decoding: item.entry.prefix(400), as: UTF8.self)))</code></td></tr>"
            }
            history = """
                <p>\(HTML.escape(checked)) Offline: <code>residency ledger verify-entry --bundle FILE --trust FILE</code>
                with the bundle from <code>GET /v1/tenants/\(HTML.escape(id))/transparency</code>.</p>
                <table><thead><tr><th scope="col">Index</th><th scope="col">Time</th><th scope="col">Kind</th><th scope="col">Entry</th></tr></thead>
                <tbody>\(rows)</tbody></table>
                """
        }
        func field(_ key: String) -> String {
            switch view[key] {
            case .string(let text)?: return HTML.escape(text)
            case nil, .null?: return "-"
            case let value?: return HTML.escape(value.encoded())
            }
        }
        var served = "this controller"
        if case .string(let endpoint)? = route["endpoint"] { served = "the regional service at \(HTML.escape(endpoint))" }
        return html(
            HTML.page(
                title: "Tenant \(found.tenant.name)", signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
                body: """
                    <table><tbody>
                    <tr><th scope="row">Id</th><td>\(HTML.escape(id))</td></tr>
                    <tr><th scope="row">Status</th><td>\(field("status")) — \(field("status_reason"))</td></tr>
                    <tr><th scope="row">Plan</th><td>\(field("plan"))</td></tr>
                    <tr><th scope="row">Region / site</th><td>\(field("region")) / \(field("site")); data served by \(served)</td></tr>
                    <tr><th scope="row">Next action</th><td>\(field("next_action"))</td></tr>
                    <tr><th scope="row">Clocks</th><td>\(field("lifecycle"))</td></tr>
                    </tbody></table>
                    <h2>Why it lives there</h2><ol>\(reasons)</ol>
                    <h2>Ledger history</h2>\(history)
                    """))
    }
}

extension Console {
    /// The after-the-fact review of a break-glass grant: the API's use case, with its refusals.
    func review(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        let form = try FormBody(context.request, fields: ["csrf", "note"])
        try checkCSRF(form, visitor)
        let id = context.parameters["id"]!
        let request = try controller.access.accessRequest(id: id)
        if let tenant = visitor.caller.tenant, request.tenant != tenant {
            throw APIError(status: 404, code: "not_found", message: "no access request \"\(id)\"")
        }
        let note = form.values["note"]?.trimmingCharacters(in: .whitespaces) ?? ""
        guard !note.isEmpty else { throw APIError.badRequest("a review needs a note") }
        _ = try controller.access.reviewAccess(id: id, by: visitor.caller, note: note)
        return redirect("/console/access?done=reviewed&request=\(id)")
    }
}

extension Console {
    /// Lets `roles` (and admin) through, and with `unscoped` only tokens not scoped to a tenant; anyone else is
    /// refused 403 and the refused call recorded, as the API records it (`api.refused`, reason role or scope).
    func allow(
        _ roles: Set<Role>, unscoped: Bool, _ visitor: ConsoleVisitor, _ context: RequestContext, _ message: String
    ) throws(APIError) {
        let caller = visitor.caller
        let roleAllowed = caller.role == .admin || roles.contains(caller.role)
        let scopeAllowed = !unscoped || caller.tenant == nil
        guard !roleAllowed || !scopeAllowed else { return }
        controller.tokens.recordRefusedCall(
            RefusedCall(
                caller: caller, reason: roleAllowed ? .tenantScope : .role, method: context.request.method,
                route: "/" + context.request.pathSegments.prefix(2).joined(separator: "/"), tenant: nil,
                requestID: context.requestID))
        throw APIError(status: 403, code: "forbidden", message: message)
    }
}
