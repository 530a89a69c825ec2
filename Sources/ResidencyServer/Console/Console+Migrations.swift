import Foundation
import ResidencyController
import ResidencyCore

// MARK: Migrations

extension Console {
    /// The latest migrations with approve and cancel for operations, and the forms to file one (with its policy
    /// check shown first) and to plan a bulk move.
    func migrations(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow(
            [.ops, .compliance, .admin], unscoped: true, visitor, context, "migrations take an ops or compliance token")
        try context.request.acceptQuery(["done", "migration"])
        let list = try controller.migrations.migrations(tenant: nil, state: nil, plan: nil, limit: 100)
        let mayAct = [.ops, .admin].contains(visitor.caller.role)
        let rows = list.reversed().map { migration -> [String] in
            let id = HTML.escape(migration.id)
            return [
                "<a href=\"/console/migrations/\(id)\">\(id)</a>",
                "<a href=\"/console/tenants/\(HTML.escape(migration.tenant))\">\(HTML.escape(migration.tenant))</a>",
                "\(HTML.escape(migration.fromRegion)) → \(HTML.escape(migration.toRegion))/\(HTML.escape(migration.toSite))",
                HTML.escape(migration.state.rawValue), HTML.escape(migration.reason),
                HTML.escape(migration.requestedBy),
                mayAct ? actions(for: migration, visitor) : "",
            ]
        }
        var notice = ""
        if let done = context.request.queryValue("done"), ["approved", "cancelled"].contains(done) {
            notice =
                #"<p class="notice" role="status">Migration \#(HTML.escape(context.request.queryValue("migration") ?? "")) \#(done).</p>"#
        }
        let regions = controller.policies.catalog.regionIDs
        let forms =
            mayAct
            ? """
            <h2>File a migration</h2>
            \(fileForm(tenant: "", region: nil, site: "", reason: "", regions: regions))
            <h2>Plan a bulk move</h2>
            \(planForm(regions: regions))
            """ : ""
        return page(
            "Migrations", visitor,
            """
            \(notice)
            \(HTML.table(caption: "Latest migrations", columns: ["Migration", "Tenant", "Move", "State", "Reason", "Filed by", "Actions"], rows: rows, empty: "No migration yet."))
            \(forms)
            """)
    }

    func actions(for migration: Migration, _ visitor: ConsoleVisitor) -> String {
        let id = HTML.escape(migration.id)
        let csrf = HTML.escape(visitor.session.csrf)
        var actions = ""
        if migration.state == .requested {
            actions +=
                #"<form class="inline" method="post" action="/console/migrations/\#(id)/approve"><input type="hidden" name="csrf" value="\#(csrf)"><button type="submit">Approve</button></form>"#
        }
        if [.requested, .approved, .copying, .frozen, .syncing, .verifying].contains(migration.state) {
            actions +=
                #"<form class="inline" method="post" action="/console/migrations/\#(id)/cancel"><input type="hidden" name="csrf" value="\#(csrf)"><button type="submit">Cancel</button></form>"#
        }
        return actions
    }

    func fileForm(tenant: String, region: String?, site: String, reason: String, regions: [String]) -> String {
        let options = regions.map {
            "<option value=\"\(HTML.escape($0))\"\($0 == region ? " selected" : "")>\(HTML.escape($0))</option>"
        }.joined()
        return """
            <form method="get" action="/console/migrations/new" class="search">
            <label for="m-tenant">Tenant id<input id="m-tenant" name="tenant" required value="\(HTML.escape(tenant))" size="28"></label>
            <label for="m-region">To region<select id="m-region" name="to_region">\(options)</select></label>
            <label for="m-site">To site (optional)<input id="m-site" name="to_site" value="\(HTML.escape(site))" size="18"></label>
            <label for="m-reason">Reason<input id="m-reason" name="reason" required maxlength="500" value="\(HTML.escape(reason))" size="30"></label>
            <button type="submit">Check against the policy</button></form>
            """
    }

    func planForm(regions: [String], from: String? = nil, to: String? = nil, country: String = "") -> String {
        func options(_ chosen: String?) -> String {
            regions.map {
                "<option value=\"\(HTML.escape($0))\"\($0 == chosen ? " selected" : "")>\(HTML.escape($0))</option>"
            }.joined()
        }
        return """
            <form method="get" action="/console/migrations/plan" class="search">
            <label for="p-from">From region<select id="p-from" name="from">\(options(from))</select></label>
            <label for="p-to">To region<select id="p-to" name="to">\(options(to))</select></label>
            <label for="p-country">Only tenants of country (optional)<input id="p-country" name="country" value="\(HTML.escape(country))" size="4"></label>
            <button type="submit">Plan</button></form>
            """
    }

    /// The policy check of a migration before it is filed: the same evaluation the API's filing runs (the
    /// migration planner's, for one tenant), shown with the transfer mechanism it would use or the rule that refuses
    /// it; a movable one gets the form that files it.
    func migrationPreview(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow([.ops, .admin], unscoped: true, visitor, context, "filing a migration takes an ops token")
        let request = context.request
        try request.acceptQuery(["tenant", "to_region", "to_site", "reason"])
        let tenant = request.queryValue("tenant")?.trimmingCharacters(in: .whitespaces) ?? ""
        let region = request.queryValue("to_region") ?? ""
        let site = request.queryValue("to_site")?.trimmingCharacters(in: .whitespaces) ?? ""
        let reason = request.queryValue("reason")?.trimmingCharacters(in: .whitespaces) ?? ""
        let regions = controller.policies.catalog.regionIDs
        guard !region.isEmpty else {
            return page(
                "File a migration", visitor,
                fileForm(tenant: tenant, region: nil, site: "", reason: "", regions: regions))
        }
        guard TenantID.isWellFormed(tenant) else {
            throw APIError.badRequest("tenant: \"\(tenant.prefix(40))\"; accepted: a tenant id, tn_ and 22 hex digits")
        }
        let from = try controller.directory.tenant(id: tenant).tenant
        let plan = try controller.migrations.planMigrations(
            from: from.region, to: region, toSite: site.isEmpty ? nil : site, tenants: [tenant])
        let entry = plan.entries[0]
        let verdict: String
        var file = ""
        if entry.movable {
            verdict =
                "<p class=\"notice\" role=\"status\">Allowed under policy <code>\(HTML.escape(String(plan.policyVersion.prefix(12))))</code>: \(HTML.escape(from.region)) → \(HTML.escape(region)), transfer under \(HTML.escape(entry.transfer ?? "-")).</p>"
            file = """
                <form method="post" action="/console/migrations/new" class="inline">
                <input type="hidden" name="csrf" value="\(HTML.escape(visitor.session.csrf))">
                <input type="hidden" name="tenant" value="\(HTML.escape(tenant))">
                <input type="hidden" name="to_region" value="\(HTML.escape(region))">
                <input type="hidden" name="to_site" value="\(HTML.escape(site))">
                <label for="f-reason">Reason<input id="f-reason" name="reason" required maxlength="500" value="\(HTML.escape(reason))" size="40"></label>
                <button type="submit">File this migration</button></form>
                <p>Filed, it waits for an approval; the policy is checked again then.</p>
                """
        } else {
            verdict =
                "<p class=\"error\" role=\"alert\">Refused by the policy: \(HTML.escape(entry.message ?? "-")) (code \(HTML.escape(entry.code ?? "-"))\(entry.rule.map { ", rule " + HTML.escape($0) } ?? "")). Filing it would be refused and recorded.</p>"
        }
        return page(
            "File a migration", visitor,
            """
            <table><tbody>
            <tr><th scope="row">Tenant</th><td><a href="/console/tenants/\(HTML.escape(tenant))">\(HTML.escape(tenant))</a> — \(HTML.escape(from.name)) (\(HTML.escape(from.country?.rawValue ?? "-")))</td></tr>
            <tr><th scope="row">From</th><td>\(HTML.escape(from.region)) / \(HTML.escape(from.site))</td></tr>
            <tr><th scope="row">To</th><td>\(HTML.escape(region))\(site.isEmpty ? "" : " / " + HTML.escape(site))</td></tr>
            </tbody></table>
            <h2>Policy check</h2>\(verdict)\(file)
            <h2>Change it</h2>\(fileForm(tenant: tenant, region: region, site: site, reason: reason, regions: regions))
            """)
    }

    /// Files the migration: the API's use case (`requestMigration`), with its refusals and ledger entries.
    func fileMigration(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        guard Console.isSameOrigin(context.request) else {
            throw APIError(status: 403, code: "forbidden", message: "a form from another site is refused")
        }
        try allow([.ops, .admin], unscoped: true, visitor, context, "filing a migration takes an ops token")
        let form = try FormBody(context.request, fields: ["csrf", "tenant", "to_region", "to_site", "reason"])
        try checkCSRF(form, visitor)
        let site = form.values["to_site"].flatMap { $0.isEmpty ? nil : $0 }
        let migration = try controller.migrations.requestMigration(
            .init(
                tenant: form.values["tenant"] ?? "", toRegion: form.values["to_region"] ?? "", toSite: site,
                reason: form.values["reason"] ?? ""),
            by: visitor.caller.tokenName)
        return redirect("/console/migrations/\(migration.id)")
    }

    /// Who of a region would move to another, and who would not and why: the planner the CLI's `migrations plan`
    /// runs, shown (the first 500 entries; the counts cover all).
    func migrationPlan(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow(
            [.ops, .compliance, .admin], unscoped: true, visitor, context, "plans take an ops or compliance token")
        let request = context.request
        try request.acceptQuery(["from", "to", "country"])
        let regions = controller.policies.catalog.regionIDs
        guard let from = request.queryValue("from"), let to = request.queryValue("to") else {
            return page("Plan a bulk move", visitor, planForm(regions: regions))
        }
        let countryText = request.queryValue("country")?.trimmingCharacters(in: .whitespaces) ?? ""
        var country: CountryCode?
        if !countryText.isEmpty {
            guard let code = CountryCode(countryText.uppercased()) else {
                throw APIError.badRequest(
                    "country: \"\(countryText.prefix(20))\"; accepted: an ISO 3166 code such as FR")
            }
            country = code
        }
        let plan = try controller.migrations.planMigrations(from: from, to: to, country: country)
        let movable = plan.entries.filter(\.movable).count
        let rows = plan.entries.prefix(500).map { entry -> [String] in
            [
                "<a href=\"/console/tenants/\(HTML.escape(entry.tenant))\">\(HTML.escape(entry.tenant))</a>",
                HTML.escape(entry.country?.rawValue ?? "-"),
                entry.movable ? "<span class=\"ok\">moves</span>" : "<span class=\"bad\">stays</span>",
                entry.movable
                    ? "transfer under " + HTML.escape(entry.transfer ?? "-")
                    : HTML.escape(entry.message ?? "-") + " (" + HTML.escape(entry.code ?? "-")
                        + (entry.rule.map { ", rule " + HTML.escape($0) } ?? "") + ")",
            ]
        }
        return page(
            "Plan a bulk move", visitor,
            """
            <p role="status"><strong>\(movable)</strong> of \(plan.entries.count) tenants of \(HTML.escape(from)) would move to \(HTML.escape(to))\(country.map { " (country " + $0.rawValue + ")" } ?? ""); \(plan.entries.count - movable) would stay. Policy <code>\(HTML.escape(String(plan.policyVersion.prefix(12))))</code>.\(plan.entries.count > 500 ? " The first 500 are listed." : "")</p>
            <p>Run it with <code>residency migrations plan --from \(HTML.escape(from)) --to \(HTML.escape(to)) --output plan.json</code> and <code>residency migrations run plan.json</code>.</p>
            \(HTML.table(caption: "Who moves and who stays", columns: ["Tenant", "Country", "Moves?", "Why"], rows: rows, empty: "No tenant in that region."))
            <h2>Plan another</h2>\(planForm(regions: regions, from: from, to: to, country: countryText))
            """)
    }

    /// One migration: its move, its state and every step, kept current by live.js while it runs (without
    /// JavaScript, a link loads the page again).
    func migrationPage(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow(
            [.ops, .compliance, .admin], unscoped: true, visitor, context, "migrations take an ops or compliance token")
        let migration = try controller.migrations.migration(id: context.parameters["id"]!)
        let steps = try controller.migrations.migrationSteps(id: migration.id)
        let id = HTML.escape(migration.id)
        let rows = steps.map { step in
            [HTML.escape(step.state), HTML.escape(step.phase), HTML.time(step.at), HTML.escape(step.detail)]
        }
        let finished = [.completed, .failed, .cancelled].contains(migration.state)
        let mayAct = [.ops, .admin].contains(visitor.caller.role)
        return page(
            "Migration \(migration.id)", visitor,
            """
            <table><tbody>
            <tr><th scope="row">Tenant</th><td><a href="/console/tenants/\(HTML.escape(migration.tenant))">\(HTML.escape(migration.tenant))</a></td></tr>
            <tr><th scope="row">Move</th><td>\(HTML.escape(migration.fromRegion))/\(HTML.escape(migration.fromSite)) → \(HTML.escape(migration.toRegion))/\(HTML.escape(migration.toSite))</td></tr>
            <tr><th scope="row">State</th><td id="migration-state">\(HTML.escape(migration.state.rawValue))</td></tr>
            <tr><th scope="row">Reason</th><td>\(HTML.escape(migration.reason)), filed by \(HTML.escape(migration.requestedBy))</td></tr>
            </tbody></table>
            <div id="migration-actions">\(mayAct ? actions(for: migration, visitor) : "")</div>
            <p id="live-status" role="status">\(finished ? "Finished." : "")</p>
            <p><a href="/console/migrations/\(id)">Load this page again</a> for the latest steps.</p>
            <table class="rows" data-live="/console/migrations/\(id)/live.json"><caption>Steps</caption>
            <thead><tr><th scope="col">State</th><th scope="col">Phase</th><th scope="col">At</th><th scope="col">Detail</th></tr></thead>
            <tbody>\(rows.map { row in "<tr>" + zip(["State", "Phase", "At", "Detail"], row).map { "<td data-label=\"\($0)\">\($1)</td>" }.joined() + "</tr>" }.joined())</tbody></table>
            """, script: finished ? nil : "/console/assets/live.js")
    }

    /// The migration's state and steps as JSON, for live.js.
    func migrationLive(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow(
            [.ops, .compliance, .admin], unscoped: true, visitor, context, "migrations take an ops or compliance token")
        let migration = try controller.migrations.migration(id: context.parameters["id"]!)
        let steps = try controller.migrations.migrationSteps(id: migration.id)
        let value = JSONValue.object([
            ("state", .string(migration.state.rawValue)),
            ("finished", .bool([.completed, .failed, .cancelled].contains(migration.state))),
            (
                "cancellable",
                .bool([.requested, .approved, .copying, .frozen, .syncing, .verifying].contains(migration.state))
            ),
            (
                "steps",
                .array(
                    steps.map { step in
                        .object([
                            ("state", .string(step.state)), ("phase", .string(step.phase)),
                            ("at", .string(Timestamp.rfc3339(milliseconds: step.at))), ("detail", .string(step.detail)),
                        ])
                    })
            ),
        ])
        var response = HTTPResponse.json(value)
        response.headers += Self.securityHeaders
        return response
    }

    func actOnMigration(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        guard Console.isSameOrigin(context.request) else {
            throw APIError(status: 403, code: "forbidden", message: "a form from another site is refused")
        }
        try allow(
            [.ops, .admin], unscoped: true, visitor, context, "approving or cancelling a migration takes an ops token")
        let form = try FormBody(context.request, fields: ["csrf"])
        try checkCSRF(form, visitor)
        let id = context.parameters["id"]!
        switch context.parameters["action"] {
        case "approve":
            // As the API does: an approved migration starts running in the background runner at once.
            let migration = try controller.migrations.approveMigration(id: id, by: visitor.caller.tokenName)
            controller.migrations.startMigration(id: migration.id)
            return redirect("/console/migrations/\(migration.id)")
        case "cancel":
            let migration = try controller.migrations.cancelMigration(id: id, by: visitor.caller.tokenName)
            if migration.state == .rollingBack { controller.migrations.startMigration(id: migration.id) }
            return redirect("/console/migrations?done=cancelled&migration=\(id)")
        default:
            throw APIError(status: 404, code: "not_found", message: "a migration is approved or cancelled here")
        }
    }
}
