import ResidencyController
import ResidencyCore

/// `GET /v1/reports/cross-border` and `GET /v1/reports/residency-map`, as JSON, CSV or HTML.
enum ReportRoutes {
    /// A prepared cross-border report written as a streamed body. A failure once the head is out cuts the
    /// connection (the reader sees a short body); it is logged here, as a reader that left is not.
    static func streamed(
        _ prepared: PreparedCrossBorderReport, _ format: ReportFormat, controller: Controller
    ) -> ResponseStream {
        let logger = controller.logger.labelled("residency.reports")
        return ResponseStream { writer in
            do {
                try prepared.write(format, to: ReportOutput(deliver: writer.write))
            } catch let gone as ResponseStreamCancelled {
                throw gone
            } catch {
                logger.error("cross-border report cut short after its first bytes", [("error", "\(error)")])
                throw error
            }
        }
    }

    static func all(controller: Controller) -> [Route] {
        @Sendable func format(_ request: HTTPRequest) throws -> ReportFormat {
            guard let text = request.queryValue("format") else { return .json }
            guard let format = ReportFormat(rawValue: text) else {
                throw APIError.badRequest(
                    "format: \"\(text)\"; accepted: \(ReportFormat.allCases.map(\.rawValue).joined(separator: ", "))",
                    code: "invalid_query")
            }
            return format
        }
        @Sendable func headers(_ format: ReportFormat, name: String) -> [(name: String, value: String)] {
            var headers = [("Content-Type", format.contentType)]
            if format == .csv { headers.append(("Content-Disposition", "attachment; filename=\"\(name).csv\"")) }
            return headers
        }
        @Sendable func respond(_ text: String, _ format: ReportFormat, name: String) -> HTTPResponse {
            HTTPResponse(status: 200, headers: headers(format, name: name), body: Array(text.utf8))
        }
        return [
            Route("GET", "/v1/reports/cross-border", roles: [.compliance], tenantScoped: true) { context in
                let request = context.request
                try request.acceptQuery(["from", "to", "region", "tenant", "format"])
                let now = controller.clock.now()
                let to = try request.timeQuery("to") ?? now + 1
                let from = try request.timeQuery("from") ?? to - 30 * 86_400_000
                let chosen = try format(request)
                var tenant = request.queryValue("tenant")
                if let scoped = context.caller?.tenant {
                    if let tenant {
                        try TenantScope.check(
                            tenant, context: context, controller: controller, route: "/v1/reports/cross-border")
                    }
                    tenant = scoped
                }
                // Checked and summed up here (a bad query is answered 4xx); the lines are read again and sent
                // as chunks while they are written, so a whole-history report is never held whole.
                let prepared = try controller.reports.prepareCrossBorderReport(
                    from: from, to: to, region: request.queryValue("region"), tenant: tenant)
                return HTTPResponse(
                    status: 200, headers: headers(chosen, name: "cross-border"),
                    stream: streamed(prepared, chosen, controller: controller))
            },
            // Reading the map records nothing (any number of reads leave the ledger as it was); POST is the audit
            // run a caller asks for, recorded as one `residency.audit` entry.
            Route("GET", "/v1/reports/residency-map", roles: [.compliance, .ops]) { context in
                try context.request.acceptQuery(["format"])
                let chosen = try format(context.request)
                let report = try controller.reports.residencyMapReport(recordAudit: false, by: context.caller!.tokenName)
                return respond(report.rendered(chosen), chosen, name: "residency-map")
            },
            Route("POST", "/v1/reports/residency-map", roles: [.compliance, .ops]) { context in
                try context.request.acceptQuery(["format"])
                guard context.request.body.isEmpty else {
                    throw APIError.badRequest("POST /v1/reports/residency-map takes no body; the format is a query parameter")
                }
                let chosen = try format(context.request)
                let report = try controller.reports.residencyMapReport(recordAudit: true, by: context.caller!.tokenName)
                return respond(report.rendered(chosen), chosen, name: "residency-map")
            },
        ]
    }
}
