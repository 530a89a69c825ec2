import Foundation
import ResidencyController
import ResidencyCore

// MARK: Reports

extension Console {
    /// The compliance reports for a chosen period: a form, then the report shown (its own HTML) or downloaded as
    /// JSON, CSV or HTML — the API's reports, with the same scope rules (a tenant's administrator gets its own).
    func reports(_ visitor: ConsoleVisitor, _ context: RequestContext) throws -> HTTPResponse {
        let caller = visitor.caller
        try allow(
            [.compliance, .ops, .admin], unscoped: false, visitor, context, "reports take a compliance or ops token")
        let request = context.request
        try request.acceptQuery(
            ["kind", "from", "to", "region", "format", "download", "after", "break_glass_after", "refusals_after"])
        guard let kind = request.queryValue("kind") else {
            return html(
                HTML.page(
                    title: "Reports", signedIn: (caller.tokenName, caller.role.rawValue, visitor.session.csrf),
                    body: form(regions: controller.policies.catalog.regionIDs)))
        }
        var format = ReportFormat.html
        if let text = request.queryValue("format") {
            guard let chosen = ReportFormat(rawValue: text) else {
                throw APIError.badRequest(
                    "format: accepted: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = chosen
        }
        let text: String
        let name: String
        var stream: ResponseStream?
        switch kind {
        case "cross-border":
            guard caller.role != .ops else {
                throw APIError(
                    status: 403, code: "forbidden", message: "the cross-border report takes a compliance token")
            }
            let now = controller.clock.now()
            // Whole days (UTC), so that the period's figures are the kept day rows: by default the 30 days to the
            // end of today.
            let endOfToday = (now / 86_400_000 + 1) * 86_400_000
            let to = try day(request.queryValue("to"), "to").map { $0 + 86_400_000 } ?? endOfToday
            let from = try day(request.queryValue("from"), "from") ?? to - 30 * 86_400_000
            guard from < to else { throw APIError.badRequest("from must be before to") }
            var region = request.queryValue("region")
            if region == "" { region = nil }
            if let region, controller.policies.catalog.region(id: region) == nil {
                throw APIError.badRequest("region: \"\(region.prefix(20))\" is not a region")
            }
            if format == .html && request.queryValue("download") == nil {
                // Shown in the browser: the whole summary and a page of the lines, with links to the next page
                // and to the full report. Its cost follows the period's days, not its accesses.
                // Each list pages on its own (keyset: after a ledger index); its links keep the others' places.
                let cursors = CrossBorderPageCursors(
                    accesses: try ledgerIndex(request, "after"),
                    breakGlass: try ledgerIndex(request, "break_glass_after"),
                    refusals: try ledgerIndex(request, "refusals_after"))
                let page = try controller.reports.crossBorderPage(
                    from: from, to: to, region: region, tenant: caller.tenant, after: cursors.accesses,
                    limit: Self.reportPageLines, cursors: cursors)
                text = page.report.pagedHTML(
                    heading: cursors.accesses.map { "Accesses after ledger entry \($0)" } ?? "Accesses, first page",
                    pager: reportPager(request, page: page),
                    breakGlass: listPager(
                        request, parameter: "break_glass_after", title: "break-glass grants",
                        current: cursors.breakGlass, next: page.nextBreakGlassAfter),
                    refusals: listPager(
                        request, parameter: "refusals_after", title: "refused attempts", current: cursors.refusals,
                        next: page.nextRefusalsAfter))
                name = "cross-border"
                break
            }
            // Streamed as the API streams it: summed up here, the lines sent as chunks while they are read.
            let prepared = try controller.reports.prepareCrossBorderReport(
                from: from, to: to, region: region, tenant: caller.tenant)
            stream = ReportRoutes.streamed(prepared, format, controller: controller)
            text = ""
            name = "cross-border"
        case "residency-map":
            guard caller.tenant == nil else {
                throw APIError(status: 403, code: "forbidden", message: "the residency map covers every tenant")
            }
            // Shown in the browser, the migrations and violations are listed up to a page (and counted in full);
            // a download lists every one.
            let shown = format == .html && request.queryValue("download") == nil
            text = try controller.reports.residencyMapReport(
                recordAudit: false, listed: shown ? Self.reportPageLines : .max, by: caller.tokenName
            ).rendered(format)
            name = "residency-map"
        default:
            throw APIError.badRequest("kind: accepted: cross-border, residency-map")
        }
        var headers: [(name: String, value: String)] = [
            ("Content-Type", format.contentType), ("Cache-Control", "no-store"),
        ]
        if request.queryValue("download") != nil || format != .html {
            headers.append(("Content-Disposition", "attachment; filename=\"\(name).\(format.rawValue)\""))
        }
        // The report's own HTML carries its style sheet inline; it runs no script and may load nothing.
        headers += [
            (
                "Content-Security-Policy",
                "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
            ),
            ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
        ]
        if let stream { return HTTPResponse(status: 200, headers: headers, stream: stream) }
        return HTTPResponse(status: 200, headers: headers, body: Array(text.utf8))
    }

    /// Access lines on one page of a report shown in the browser (and rows on a page of its break-glass grants and of
    /// its refused attempts).
    static let reportPageLines = 100

    /// A page cursor from the query: a ledger index, 0 or more; nil when absent or empty (the first page).
    private func ledgerIndex(_ request: HTTPRequest, _ name: String) throws -> Int? {
        guard let text = request.queryValue(name), !text.isEmpty else { return nil }
        guard let value = Int(text), value >= 0 else {
            throw APIError.badRequest("\(name): \"\(text.prefix(20))\"; accepted: a ledger index, 0 or more")
        }
        return value
    }

    /// The query of the page shown, with `parameter` set to `value` (removed when nil): the report and the other
    /// lists' places are kept, so following one list's link does not send the others back to their first page.
    private func reportQuery(_ request: HTTPRequest, setting parameter: String, to value: Int?) -> String {
        var pairs = ["kind", "from", "to", "region", "after", "break_glass_after", "refusals_after"].compactMap {
            name -> String? in
            guard name != parameter, let value = request.queryValue(name), !value.isEmpty else { return nil }
            return "\(name)=\(Self.percentEncoded(value))"
        }
        if let value { pairs.append("\(parameter)=\(value)") }
        return pairs.joined(separator: "&")
    }

    /// How a list after the access lines is shown: its place in the heading, and links to its next and first page
    /// (plain links, so paging works with JavaScript off).
    private func listPager(
        _ request: HTTPRequest, parameter: String, title: String, current: Int?, next: Int?
    ) -> CrossBorderReport.ListPage {
        var links: [String] = []
        if let next {
            links.append(
                "<a href=\"/console/reports?\(HTML.escape(reportQuery(request, setting: parameter, to: next)))\">Next page of \(title)</a>"
            )
        }
        if current != nil {
            links.append(
                "<a href=\"/console/reports?\(HTML.escape(reportQuery(request, setting: parameter, to: nil)))\">First page of \(title)</a>"
            )
        }
        let qualifier: String? =
            current.map { "after ledger entry \($0)" } ?? (next == nil ? nil : "first page")
        let pager =
            links.isEmpty
            ? "" : "<nav aria-label=\"Pages of \(title)\"><p>" + links.joined(separator: " · ") + "</p></nav>"
        return CrossBorderReport.ListPage(qualifier: qualifier, pager: pager)
    }

    /// The links under a page of access lines: the next page, the first, and the full report to download.
    private func reportPager(_ request: HTTPRequest, page: CrossBorderPage) -> String {
        let kept = ["kind", "from", "to", "region"].compactMap { name in
            request.queryValue(name).map { "\(name)=\(Self.percentEncoded($0))" }
        }.joined(separator: "&")
        var links: [String] = []
        if let next = page.nextAfter {
            links.append(
                "<a href=\"/console/reports?\(HTML.escape(reportQuery(request, setting: "after", to: next)))\">Next page</a>"
            )
        }
        if request.queryValue("after") != nil {
            links.append(
                "<a href=\"/console/reports?\(HTML.escape(reportQuery(request, setting: "after", to: nil)))\">First page</a>"
            )
        }
        for format in [ReportFormat.html, .csv, .json] {
            links.append(
                "<a href=\"/console/reports?\(HTML.escape(kept))&amp;format=\(format.rawValue)&amp;download=1\">Every line, \(format.rawValue.uppercased())</a>"
            )
        }
        return "<nav aria-label=\"Report pages\"><p>" + links.joined(separator: " · ") + "</p></nav>"
    }

    /// A date field (`YYYY-MM-DD`) as the start of that day in milliseconds, UTC.
    private func day(_ text: String?, _ field: String) throws -> Int64? {
        guard let text, !text.isEmpty else { return nil }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: text + "T00:00:00Z") else {
            throw APIError.badRequest("\(field): \"\(text.prefix(20))\"; accepted: a date, YYYY-MM-DD")
        }
        return milliseconds
    }

    private func form(regions: [String]) -> String {
        let options = regions.map { "<option value=\"\(HTML.escape($0))\">\(HTML.escape($0))</option>" }.joined()
        return """
            <form method="get" action="/console/reports">
            <fieldset><legend>Report</legend>
            <label><span>Kind</span><select name="kind"><option value="cross-border">Cross-border access</option><option value="residency-map">Residency map</option></select></label>
            <label><span>From (cross-border)</span><input type="date" name="from"></label>
            <label><span>To (cross-border, inclusive)</span><input type="date" name="to"></label>
            <label><span>Region (cross-border)</span><select name="region"><option value="">every region</option>\(options)</select></label>
            <label><span>Format</span><select name="format"><option value="html">HTML</option><option value="csv">CSV</option><option value="json">JSON</option></select></label>
            </fieldset>
            <button type="submit">Show</button> <button type="submit" name="download" value="1">Download</button>
            </form>
            """
    }
}
