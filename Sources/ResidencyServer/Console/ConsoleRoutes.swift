import Foundation
import ResidencyController
import ResidencyCore

/// The console at `/console`: HTML pages for the people who decide, served by the controller, working without
/// JavaScript. A token is exchanged once for a server-side session; each page checks the session's token again
/// (a revoked token ends it), its role and tenant scope as the API does, and each action is the API's own use
/// case — the same refusals and the same ledger entries. Every state-changing form carries the session's CSRF
/// token; every page is sent with a Content-Security-Policy that allows no inline script or style and no frames; the one
/// script (live updates of a migration) comes from the console itself, and every page works without it.
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
            Route("GET", "/console/assets/live.js", roles: nil, inline: true) { _ in
                HTTPResponse(
                    status: 200,
                    headers: [
                        ("Content-Type", "text/javascript; charset=utf-8"), ("Cache-Control", "max-age=3600"),
                        ("X-Content-Type-Options", "nosniff"),
                    ],
                    body: Array(LiveScript.source.utf8))
            },
            Route("GET", "/console/sign-in", roles: nil) { context in console.signInPage(message: nil, status: 200) },
            Route("POST", "/console/sign-in", roles: nil) { context in console.signIn(context.request) },
            Route("POST", "/console/sign-out", roles: nil) { context in console.signOut(context.request) },
            Route("GET", "/console/access", roles: nil) { context in
                console.respond(context) { try console.access($0, context) }
            },
            Route("GET", "/console/tenants", roles: nil) { context in
                console.respond(context) { try console.tenants($0, context) }
            },
            Route("GET", "/console/tenants/{id}", roles: nil) { context in
                console.respond(context) { try console.tenant($0, context) }
            },
            Route("GET", "/console/reports", roles: nil) { context in
                console.respond(context) { try console.reports($0, context) }
            },
            Route("GET", "/console/ledger", roles: nil) { context in
                console.respond(context) { try console.ledger($0, context) }
            },
            Route("GET", "/console/migrations", roles: nil) { context in
                console.respond(context) { try console.migrations($0, context) }
            },
            Route("GET", "/console/migrations/new", roles: nil) { context in
                console.respond(context) { try console.migrationPreview($0, context) }
            },
            Route("POST", "/console/migrations/new", roles: nil) { context in
                console.respond(context, changes: true) { try console.fileMigration($0, context) }
            },
            Route("GET", "/console/migrations/plan", roles: nil) { context in
                console.respond(context) { try console.migrationPlan($0, context) }
            },
            Route("GET", "/console/migrations/{id}", roles: nil) { context in
                console.respond(context) { try console.migrationPage($0, context) }
            },
            Route("GET", "/console/migrations/{id}/live.json", roles: nil) { context in
                console.respond(context) { try console.migrationLive($0, context) }
            },
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
        // Scripts only from the console itself (live.js), never inline, never eval; fetch only to the console.
        (
            "Content-Security-Policy",
            "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
        ),
        // `same-origin`, not `no-referrer`: under `no-referrer` Chromium sends `Origin: null` with the console's own
        // form posts, which the same-origin check (rightly) refuses — the browser test found it.
        ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "same-origin"), ("Cache-Control", "no-store"),
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
                if pair.count == 2, pair[0] == ConsoleRoutes.cookieName, pair[1].utf8.count == 64 {
                    return String(pair[1])
                }
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
    func respond(
        _ context: RequestContext, changes: Bool = false, _ page: (ConsoleVisitor) throws -> HTTPResponse
    )
        -> HTTPResponse
    {
        let now = controller.clock.now()
        guard let id = Self.sessionID(context.request), let session = sessions.touch(id, at: now) else {
            return changes
                ? failure(status: 403, "your session has ended; sign in again", visitor: nil)
                : redirect("/console/sign-in")
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
                title: "Not done",
                signedIn: visitor.map { ($0.caller.tokenName, $0.caller.role.rawValue, $0.session.csrf) },
                body:
                    #"<p class="error" role="alert">\#(HTML.escape(message))</p><p><a href="/console">Back to the overview</a></p>"#
            ),
            status: status)
    }

    func checkCSRF(_ form: FormBody, _ visitor: ConsoleVisitor) throws(APIError) {
        guard let given = form.values["csrf"],
            HMACSHA256.constantTimeEqual(Array(given.utf8), Array(visitor.session.csrf.utf8))
        else {
            throw APIError(
                status: 403, code: "csrf",
                message: "the form is stale or did not come from this console; reload the page and try again")
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
        guard Self.isSameOrigin(request) else {
            return signInPage(message: "a sign-in from another site is refused", status: 403)
        }
        let form: FormBody
        do { form = try FormBody(request, fields: ["token"]) } catch {
            return signInPage(message: error.message, status: error.status)
        }
        let token = form.values["token"]?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        switch controller.tokens.authentication(bearer: token) {
        case .caller:
            let session = sessions.open(token: token, at: controller.clock.now())
            return redirect("/console", extra: [cookie(session.id, maxAge: Int(sessions.absoluteTimeout / 1000))])
        case .unavailable:
            return signInPage(
                message: "the token could not be checked now (the database is not reachable); try again shortly",
                status: 503)
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
            return html(
                HTML.page(
                    title: "Not done", signedIn: nil,
                    body: #"<p class="error" role="alert">the sign-out form is stale; reload the page</p>"#),
                status: 403)
        }
        sessions.close(session.id)
        return redirect("/console/sign-in", extra: [cookie("", maxAge: 0)])
    }

    // MARK: Pages

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
                <section class="request" aria-labelledby="r-\(id)"><h2 id="r-\(id)">Request \(id)</h2>
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
                <button type="submit" aria-describedby="r-\(id)">Approve</button></form>
                <form class="decide" method="post" action="/console/access/\(id)/deny">
                <input type="hidden" name="csrf" value="\(csrf)">
                <label>Reason<input name="reason" required maxlength="500"></label>
                <button type="submit" aria-describedby="r-\(id)">Deny</button></form>
                </section>
                """
        }
        // Break-glass grants waiting for their after-the-fact review, and grants in force.
        let all = try controller.access.accessRequests(tenant: visitor.caller.tenant, state: nil, region: nil)
        let reviews = all.filter { $0.isBreakGlass && $0.reviewedAt == nil }
        if !reviews.isEmpty {
            body += "<h2 id=\"reviews\">Break-glass reviews due</h2>"
            for request in reviews {
                let id = HTML.escape(request.id)
                let due = request.reviewDueAt.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-"
                let overdue = request.isReviewOverdue(at: now) ? " (overdue)" : ""
                body +=
                    "<form class=\"decide\" method=\"post\" action=\"/console/access/\(id)/review\">"
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
            body +=
                "<p>\(HTML.escape(request.id)): \(HTML.escape(request.staff.id)) from \(HTML.escape(request.physicalCountry.rawValue)), \(HTML.escape(request.scope.mode.rawValue)) \(HTML.escape(scope)) of \(HTML.escape(request.tenant)) until \(until) (\(HTML.escape(request.state.rawValue)))</p>"
        }
        return html(
            HTML.page(
                title: "Access requests",
                signedIn: (visitor.caller.tokenName, visitor.caller.role.rawValue, visitor.session.csrf),
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
        default:
            throw APIError(
                status: 404, code: "not_found", message: "the console decides approve or deny, or records a review")
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
