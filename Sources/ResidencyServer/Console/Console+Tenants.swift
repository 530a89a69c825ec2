import Foundation
import ResidencyController
import ResidencyCore

// MARK: Tenants

extension Console {
    /// What a tenant search is by: chosen, or read from the text (`any`).
    enum TenantSearch: String, CaseIterable {
        case any, id, name, country, region

        var label: String {
            switch self {
            case .any: return "Anything"
            case .id: return "Tenant id"
            case .name: return "Name starts with"
            case .country: return "Country (ISO code)"
            case .region: return "Region"
            }
        }
    }

    /// Tenants by id, name, country or region, a page at a time, each through an index (the directory's API
    /// listing for a region, `tenants_country` and `tenants_name` otherwise).
    func tenants(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        try allow(
            [.ops, .compliance, .support, .signup, .admin], unscoped: true, visitor, context,
            "the directory takes an ops, compliance, support or signup token")
        let request = context.request
        try request.acceptQuery(["q", "by", "after"])
        let query = request.queryValue("q")?.trimmingCharacters(in: .whitespaces) ?? ""
        guard query.utf8.count <= 200 else { throw APIError.badRequest("q: at most 200 bytes") }
        var by = TenantSearch.any
        if let text = request.queryValue("by"), !text.isEmpty {
            guard let chosen = TenantSearch(rawValue: text) else {
                throw APIError.badRequest(
                    "by: \"\(text.prefix(20))\"; accepted: \(TenantSearch.allCases.map(\.rawValue).joined(separator: ", "))"
                )
            }
            by = chosen
        }
        let regions = controller.policies.catalog.regionIDs
        if by == .any, !query.isEmpty {
            if TenantID.isWellFormed(query) {
                by = .id
            } else if regions.contains(query) {
                by = .region
            } else if query.count == 2, let code = CountryCode(query.uppercased()),
                controller.policies.catalog.countries.contains(code)
            {
                by = .country
            } else {
                by = .name
            }
        }
        let after = request.queryValue("after")
        var found: [Tenant] = []
        var next: String?
        var note = ""
        switch by {
        case .id:
            guard TenantID.isWellFormed(query) else {
                throw APIError.badRequest("a tenant id is tn_ and 22 hex digits; \"\(query.prefix(40))\" is not one")
            }
            return redirect("/console/tenants/\(query)")
        case .region:
            guard regions.contains(query) else {
                throw APIError.badRequest(
                    "region: \"\(query.prefix(20))\"; accepted: \(regions.joined(separator: ", "))")
            }
            (found, next) = try controller.directory.tenants(region: query, status: nil, limit: 100, after: after)
        case .country:
            guard let code = CountryCode(query.uppercased()) else {
                throw APIError.badRequest("country: \"\(query.prefix(20))\"; accepted: an ISO 3166 code such as FR")
            }
            (found, next) = try controller.directory.tenants(country: code, limit: 100, after: after)
        case .name:
            guard !query.isEmpty else { throw APIError.badRequest("name: type the start of a tenant's name") }
            let (tenants, more) = try controller.directory.tenants(namePrefix: query, limit: 100)
            found = tenants
            if more {
                note = "<p role=\"status\">More tenants match: the first 100 are shown; type more of the name.</p>"
            }
        case .any:
            (found, next) = try controller.directory.tenants(region: nil, status: nil, limit: 100, after: after)
        }
        let rows = found.map { tenant -> [String] in
            let id = HTML.escape(tenant.id)
            return [
                "<a href=\"/console/tenants/\(id)\">\(id)</a>", HTML.escape(tenant.name),
                HTML.escape(tenant.country?.rawValue ?? "-"),
                "\(HTML.escape(tenant.region)) / \(HTML.escape(tenant.site))",
                HTML.escape(tenant.status.rawValue),
            ]
        }
        let options = TenantSearch.allCases.map {
            "<option value=\"\($0.rawValue)\"\($0 == by ? " selected" : "")>\(HTML.escape($0.label))</option>"
        }.joined()
        let more =
            next.map {
                "<p><a href=\"/console/tenants?q=\(HTML.escape(Self.percentEncoded(query)))&amp;by=\(by.rawValue)&amp;after=\(HTML.escape($0))\">Next page</a></p>"
            } ?? ""
        return page(
            "Tenants", visitor,
            """
            <form method="get" action="/console/tenants" role="search" class="search">
            <label for="q">Search<input id="q" name="q" value="\(HTML.escape(query))" size="30"></label>
            <label for="by">By<select id="by" name="by">\(options)</select></label>
            <button type="submit">Search</button></form>
            <p>Search by a tenant id (tn_…), the start of a name, a country code (FR) or a region (\(HTML.escape(regions.joined(separator: ", ")))).</p>
            \(note)
            \(HTML.table(caption: query.isEmpty ? "Every tenant, in id order" : "Tenants found (\(by.label.lowercased()): \(query))", columns: ["Tenant", "Name", "Country", "Region / site", "Status"], rows: rows, empty: "No tenant matches."))\(more)
            """)
    }

    static func percentEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }

    /// One tenant: where it lives and why (the placement decision and its reasons), its clocks and next action, its
    /// data classes and where each may live, and its ledger entries with their inclusion proofs checked against the
    /// published checkpoint, a page at a time.
    func tenant(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        let id = context.parameters["id"]!
        if let scoped = visitor.caller.tenant, scoped != id {
            throw APIError(status: 404, code: "not_found", message: "no tenant \"\(id)\"")
        }
        guard TenantID.isWellFormed(id) else {
            throw APIError(status: 404, code: "not_found", message: "no tenant \"\(id)\"")
        }
        try context.request.acceptQuery(["after"])
        var after = -1
        if let text = context.request.queryValue("after") {
            guard let value = Int(text), value >= -1 else { throw APIError.badRequest("after: a ledger index") }
            after = value
        }
        let found = try controller.directory.tenant(id: id)
        let view = try controller.directory.tenantView(found.tenant, placement: found.placement)
        let route = try controller.directory.route(tenant: id)
        var reasons = ""
        if case .array(let list)? = found.placement["reasons"] {
            for reason in list {
                if case .string(let message)? = reason["message"] { reasons += "<li>\(HTML.escape(message))</li>" }
            }
        }
        func field(_ key: String, in value: JSONValue? = nil) -> String {
            switch (value ?? view)[key] {
            case .string(let text)?: return HTML.escape(text)
            case nil, .null?: return "-"
            case let value?: return HTML.escape(value.encoded())
            }
        }
        var clocks: [[String]] = []
        if case .object(let members)? = view["lifecycle"] {
            for (name, value) in members {
                var text = value.encoded()
                if case .string(let string) = value { text = string }
                if case .null = value { text = "-" }
                clocks.append([HTML.escape(name.replacingOccurrences(of: "_", with: " ")), HTML.escape(text)])
            }
        }
        var served = "this controller (in process)"
        if case .string(let endpoint)? = route["endpoint"] {
            served = "the regional service at \(HTML.escape(endpoint))"
        }
        let history = try ledgerHistory(id, after: after)
        let moves =
            [.ops, .admin].contains(visitor.caller.role) && visitor.caller.tenant == nil
            ? "<p><a href=\"/console/migrations/new?tenant=\(HTML.escape(id))\">File a migration for this tenant</a></p>"
            : ""
        return page(
            "Tenant \(found.tenant.name)", visitor,
            """
            <table><tbody>
            <tr><th scope="row">Id</th><td>\(HTML.escape(id))</td></tr>
            <tr><th scope="row">Status</th><td>\(field("status"))\(view["status_reason"].map { $0 == .null ? "" : " — " + field("status_reason") } ?? "")</td></tr>
            <tr><th scope="row">Plan</th><td>\(field("plan"))</td></tr>
            <tr><th scope="row">Country</th><td>\(HTML.escape(found.tenant.country?.rawValue ?? "-"))</td></tr>
            <tr><th scope="row">Region / site</th><td>\(field("region")) / \(field("site")); data served by \(served)</td></tr>
            <tr><th scope="row">Next action</th><td>\(field("next_action"))</td></tr>
            </tbody></table>\(moves)
            <h2>Why it lives there</h2>
            <p>Placement decided under policy <code>\(field("policy_version", in: found.placement))</code>:</p><ol>\(reasons)</ol>
            \(HTML.table(caption: "Lifecycle clocks", columns: ["Clock", "Value"], rows: clocks, empty: "No lifecycle clocks."))
            \(dataClasses(of: found.tenant))
            <h2>Ledger history</h2>\(history)
            """)
    }

    /// Each data class of the tenant, the policy's rule for it and the countries where it may live.
    func dataClasses(of tenant: Tenant) -> String {
        guard let region = controller.policies.catalog.region(id: tenant.region) else { return "" }
        let site = region.sites.first { $0.id == tenant.site }
        let policy = controller.policies.dataClasses
        var rows: [[String]] = []
        for dataClass in DataClassPolicy.DataClass.allCases {
            guard let rule = policy.rules[dataClass] else { continue }
            var countries: [String]
            switch rule.within {
            case .anywhere: countries = ["anywhere"]
            case .jurisdiction: countries = region.jurisdiction.map(\.rawValue).sorted()
            case .sites: countries = Set(region.sites.map(\.country.rawValue)).sorted()
            }
            for exception in policy.exceptions where exception.region == region.id && exception.dataClass == dataClass {
                countries += exception.countries.map { "\($0.rawValue) (\(exception.rule))" }.sorted()
            }
            var stored = "-"
            if let site, [.customerData, .backups, .logs].contains(dataClass) {
                stored = "site \(site.id), \(site.city) (\(site.country.rawValue)), \(site.provider.rawValue)"
            }
            rows.append([
                HTML.escape(dataClass.rawValue), HTML.escape(rule.description), HTML.escape(stored),
                HTML.escape(countries.joined(separator: ", ")),
            ])
        }
        return HTML.table(
            caption: "Data classes and where they live", columns: ["Class", "Rule", "Stored at", "May live in"],
            rows: rows)
    }

    /// A page of the tenant's ledger entries after `after`, each proven included in the published checkpoint.
    func ledgerHistory(_ id: String, after: Int) throws -> String {
        let page: TransparencyService.TransparencyPage
        do {
            page = try controller.transparency.transparency(tenant: id, after: after, limit: 50)
        } catch let error as ControllerError {
            return "<p>\(HTML.escape(APIError(error).message))</p>"
        }
        let checked: String
        do {
            let verified = try page.bundle.verify(trust: controller.transparency.trustPolicy)
            checked =
                "<p class=\"notice\">Every entry below is proven included in the published checkpoint of size \(verified.checkpoint.size), checked against the log's key\(controller.publisher.policy.quorum > 0 ? " and the witness quorum" : "").</p>"
        } catch {
            checked = "<p class=\"error\" role=\"alert\">The proofs did not check: \(HTML.escape("\(error)"))</p>"
        }
        let rows = page.bundle.items.map { item -> [String] in
            let entry = (try? JSONParser.parse(item.entry)) ?? .null
            var kind = "?"
            if case .string(let text)? = entry["kind"] { kind = text }
            var time = "-"
            if case .number(let number)? = entry["time"], let milliseconds = number.int64Value {
                time = HTML.time(milliseconds)
            }
            return [
                "<a href=\"/console/ledger?index=\(item.index)\">\(item.index)</a>", time, HTML.escape(kind),
                "<code>\(HTML.escape(String(decoding: item.entry.prefix(400), as: UTF8.self)))</code>",
            ]
        }
        let next =
            page.next.map {
                "<p><a href=\"/console/tenants/\(HTML.escape(id))?after=\($0)\">Later entries</a></p>"
            } ?? ""
        return """
            \(checked)
            <p>Offline: <code>residency ledger verify-entry --bundle FILE --trust FILE</code> with the bundle from
            <code>GET /v1/tenants/\(HTML.escape(id))/transparency</code>.</p>
            \(HTML.table(columns: ["Index", "Time", "Kind", "Entry"], rows: rows, empty: "No entry yet."))\(next)
            """
    }
}
