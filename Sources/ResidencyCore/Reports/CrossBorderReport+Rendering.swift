extension CrossBorderReport {
    package func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .json: return jsonValue.encoded(pretty: true) + "\n"
        case .csv: return csv
        case .html: return html
        }
    }

    static func time(_ value: Int64) -> String { Timestamp.rfc3339(milliseconds: value) }

    static func countsJSON(_ counts: [(key: String, count: Int)]) -> JSONValue {
        .object(counts.map { ($0.key, .integer($0.count)) })
    }

    /// The basis spelt out: mechanism, EU SCC module, contract, TIA and reference, each when it applies.
    static func basisJSON(_ mechanism: TransferMechanism?) -> JSONValue {
        guard let mechanism else { return .null }
        var members: [(String, JSONValue)] = [
            ("mechanism", .string(mechanism.code)), ("summary", .string(mechanism.summary)),
        ]
        if let module = mechanism.sccModule { members.append(("scc_module", .integer(module))) }
        if let contract = mechanism.contract { members.append(("contract", .string(contract))) }
        if let tia = mechanism.impactAssessment { members.append(("tia", .string(tia))) }
        if let reference = mechanism.reference { members.append(("reference", .string(reference))) }
        return .object(members)
    }

    /// A code with its name beside it, for people: "Canada (CA)"; the code alone when the table lacks it.
    func country(_ code: String) -> String { names.countries[code].map { "\($0) (\(code))" } ?? code }

    /// A tenant's name with its id, or the id alone once the tenant is deleted.
    func tenantLabel(_ id: String) -> String { names.tenants[id].map { "\($0) (\(id))" } ?? id }

    package var jsonValue: JSONValue { jsonValue(accesses: .array(accesses.map { accessJSON($0, names: names) })) }

    /// One access line as the JSON report writes it, with the names in `names` (a streamed report looks its lines'
    /// names up as it reads them, so they are not all in the frame's).
    func accessJSON(_ a: Access, names: Names) -> JSONValue {
        .object([
            ("ledger_index", .integer(a.ledgerIndex)), ("time", .string(Self.time(a.time))),
            ("tenant", .string(a.tenant)), ("region", .string(a.region)),
            ("request", .string(a.request)),
            ("staff", .string(a.staff)), ("destination", .string(a.destination)),
            ("data_class", .string(a.dataClass)), ("mode", .string(a.mode)),
            ("resource", .string(a.resource)), ("justification", .string(a.justification)),
            ("ticket", .string(a.ticket)), ("basis", .string(a.basis)),
            ("basis_rule", .string(a.basisRule)),
            ("decision", .string(a.decision)), ("decided_by", .string(a.decidedBy)),
            ("break_glass", .bool(a.breakGlass)), ("decided_by_filer", .bool(a.decidedByFiler)),
            ("tenant_name", .optional(names.tenants[a.tenant])),
            ("destination_name", .optional(names.countries[a.destination])),
            ("basis_detail", Self.basisJSON(names.basis(region: a.region, rule: a.basisRule))),
        ])
    }

    /// The report with `accesses` as the value of its "accesses" member (a streamed report puts a marker there).
    func jsonValue(accesses accessesValue: JSONValue) -> JSONValue {
        .object([
            ("report", .string("cross-border access")),
            (
                "period",
                .object([("from", .string(Self.time(from))), ("to", .string(Self.time(to)))])
            ),
            ("region", .optional(region)), ("tenant", .optional(tenant)),
            ("generated_at", .string(Self.time(generatedAt))), ("policy_version", .string(policyVersion)),
            ("checkpoint", checkpoint.jsonValue),
            (
                "summary",
                .object([
                    ("accesses", .integer(accessCount)), ("break_glass", .integer(breakGlassCount)),
                    ("overdue_reviews", .integer(overdueReviews)), ("refused", .integer(refusalCount)),
                    ("grants_decided_by_filer", .integer(grantsDecidedByFiler)),
                    ("by_destination", Self.countsJSON(byDestination)), ("by_basis", Self.countsJSON(byBasis)),
                    ("by_justification", Self.countsJSON(byJustification)), ("by_staff", Self.countsJSON(byStaff)),
                ])
            ),
            ("accesses", accessesValue),
            (
                "break_glass",
                .array(
                    breakGlass.map { b in
                        .object([
                            ("ledger_index", .integer(b.ledgerIndex)), ("time", .string(Self.time(b.time))),
                            ("tenant", .string(b.tenant)), ("region", .string(b.region)),
                            ("request", .string(b.request)),
                            ("staff", .string(b.staff)), ("destination", .string(b.destination)),
                            ("justification", .string(b.justification)), ("review", .string(b.review)),
                            ("review_due_at", .optional(b.reviewDueAt.map(Self.time))),
                            ("tenant_name", .optional(names.tenants[b.tenant])),
                            ("destination_name", .optional(names.countries[b.destination])),
                        ])
                    })
            ),
            (
                "refused",
                .array(
                    refusals.map { r in
                        .object([
                            ("ledger_index", .integer(r.ledgerIndex)), ("time", .string(Self.time(r.time))),
                            ("tenant", .string(r.tenant)), ("region", .string(r.region)), ("stage", .string(r.stage)),
                            ("staff", .string(r.staff)), ("destination", .string(r.destination)),
                            ("code", .string(r.code)), ("rule", .string(r.rule)), ("message", .string(r.message)),
                            ("tenant_name", .optional(names.tenants[r.tenant])),
                            ("destination_name", .optional(names.countries[r.destination])),
                        ])
                    })
            ),
        ])
    }

    /// One table: a `section` column says what each row is; summary rows first, then every line with its
    /// ledger index, then the checkpoint that covers them. Columns added later (`decided_by_filer`, then the
    /// names, the basis spelt out and the review's due date) come last, so that the columns before them keep
    /// the positions spreadsheets already read them at.
    package var csv: String {
        var writer = CSVWriter()
        csvHead(into: &writer)
        for a in accesses { writer.row(csvAccessRow(a, names: names)) }
        csvTail(into: &writer)
        return writer.text
    }

    /// The columns added after `decided_by_filer`, in order.
    func csvAdded(
        tenant: String, destination: String, basis: TransferMechanism? = nil, reviewDue: Int64? = nil,
        names: Names? = nil
    ) -> [String] {
        let names = names ?? self.names
        return
        [
            names.tenants[tenant] ?? "", names.countries[destination] ?? "", basis?.summary ?? "",
            basis?.sccModule.map(String.init) ?? "", basis?.contract ?? "", basis?.impactAssessment ?? "",
            basis?.reference ?? "", reviewDue.map(Self.time) ?? "",
        ]
    }

    static let csvNoAdded = Array(repeating: "", count: 8)

    /// The header row and the summary rows: everything before the access lines.
    func csvHead(into writer: inout CSVWriter) {
        writer.row([
            "section", "ledger_index", "time", "tenant", "region", "request", "staff", "destination", "data_class",
            "mode", "justification", "ticket", "basis", "basis_rule", "decision", "decided_by", "review", "code",
            "rule",
            "key", "count", "decided_by_filer", "tenant_name", "destination_name", "basis_summary", "scc_module",
            "contract", "tia", "basis_reference", "review_due",
        ])
        func summary(_ name: String, _ counts: [(key: String, count: Int)]) {
            for item in counts {
                writer.row(
                    [name] + Array(repeating: "", count: 18) + [item.key, String(item.count), ""] + Self.csvNoAdded)
            }
        }
        summary("decided_by_filer", [("grants", grantsDecidedByFiler)])
        summary("by_destination", byDestination)
        summary("by_basis", byBasis)
        summary("by_justification", byJustification)
        summary("by_staff", byStaff)
    }

    func csvAccessRow(_ a: Access, names: Names) -> [String] {
        [
            "access", String(a.ledgerIndex), Self.time(a.time), a.tenant, a.region, a.request, a.staff,
            a.destination, a.dataClass, a.mode, a.justification, a.ticket, a.basis, a.basisRule, a.decision,
            a.decidedBy, "", "", "", "", "", a.decidedByFiler ? "true" : "false",
        ]
            + csvAdded(
                tenant: a.tenant, destination: a.destination,
                basis: names.basis(region: a.region, rule: a.basisRule), names: names)
    }

    /// Break-glass grants, refusals and the checkpoint: everything after the access lines.
    func csvTail(into writer: inout CSVWriter) {
        for b in breakGlass {
            writer.row(
                [
                    "break_glass", String(b.ledgerIndex), Self.time(b.time), b.tenant, b.region, b.request, b.staff,
                    b.destination, "", "", b.justification, "", "", "", "", "", b.review, "", "", "", "", "",
                ] + csvAdded(tenant: b.tenant, destination: b.destination, reviewDue: b.reviewDueAt))
        }
        for r in refusals {
            writer.row(
                [
                    "refused", String(r.ledgerIndex), Self.time(r.time), r.tenant, r.region, "", r.staff, r.destination,
                    "",
                    "", "", "", "", "", "", "", "", r.code, r.rule, r.stage, "", "",
                ] + csvAdded(tenant: r.tenant, destination: r.destination))
        }
        writer.row(
            ["checkpoint", String(checkpoint.size)] + Array(repeating: "", count: 17) + ["root", checkpoint.root, ""]
                + Self.csvNoAdded)
    }

    package var html: String {
        var page = htmlHead()
        for a in accesses { page += htmlAccessRow(a, names: names) }
        return page + htmlTail(accessesWritten: !accesses.isEmpty)
    }

    static let htmlAccessHeaders = [
        "ledger", "time", "tenant", "region", "staff", "from", "class", "mode", "justification", "ticket", "basis",
        "decision",
    ]

    /// One page of the report for a browser: the whole summary, break-glass grants, refusals and checkpoint, and
    /// of the access lines only those in `accesses` (a page of them), headed `heading` and followed by `pager` (the
    /// links to the other pages, HTML the caller built). The downloads carry every line.
    package func pagedHTML(
        heading: String, pager: String, breakGlass: ListPage = .whole, refusals: ListPage = .whole
    )
        -> String
    {
        var page = htmlHead(accessesHeading: heading)
        for a in accesses { page += htmlAccessRow(a, names: names) }
        return page
            + htmlTail(
                accessesWritten: !accesses.isEmpty, afterAccesses: pager, breakGlass: breakGlass, refusals: refusals)
    }

    /// How one of the lists after the access lines (break-glass grants, refusals) is shown on a page: its heading's
    /// qualifier ("first page", "after ledger entry 42") and the links under it.
    package struct ListPage: Sendable {
        package let qualifier: String?
        package let pager: String

        package init(qualifier: String?, pager: String) {
            self.qualifier = qualifier
            self.pager = pager
        }

        /// The whole list, nothing under it.
        package static let whole = ListPage(qualifier: nil, pager: "")

        func heading(_ title: String) -> String {
            "<h2>" + HTMLReport.escape(qualifier.map { "\(title), \($0)" } ?? title) + "</h2>"
        }
    }

    /// The page up to the first row of the access table.
    func htmlHead(accessesHeading: String = "Every access") -> String {
        let scope = [region.map { "region \($0)" }, tenant.map { "tenant \($0)" }].compactMap { $0 }
        let subtitle =
            "\(Self.time(from)) to \(Self.time(to))"
            + (scope.isEmpty ? ", all regions" : ", " + scope.joined(separator: ", "))
            + ". Generated \(Self.time(generatedAt)); policy \(policyVersion.prefix(12))."
        var body = """
            <h2>Summary</h2>
            \(HTMLReport.table(
                ["accesses", "break-glass grants", "overdue reviews", "refused attempts",
                    "grants decided by their filer"],
                [[HTMLReport.grouped(accessCount), HTMLReport.grouped(breakGlassCount),
                    HTMLReport.grouped(overdueReviews), HTMLReport.grouped(refusalCount),
                    HTMLReport.grouped(grantsDecidedByFiler)]],
                numeric: [0, 1, 2, 3, 4]))
            <div class="charts">
            \(HTMLReport.barChart(
                title: "Accesses by destination country", byDestination.map { (country($0.key), $0.count) }))
            \(HTMLReport.barChart(title: "Accesses by transfer basis", byBasis))
            \(HTMLReport.barChart(title: "Accesses by justification", byJustification))
            \(HTMLReport.barChart(title: "Accesses by staff member", byStaff))
            </div>
            """
        body += "<h2>\(HTMLReport.escape(accessesHeading))</h2>"
        body += HTMLReport.tableHead(Self.htmlAccessHeaders)
        return HTMLReport.pageHead(title: "Cross-border access report", subtitle: subtitle) + body
    }

    func htmlAccessRow(_ a: Access, names: Names) -> String {
        HTMLReport.tableRow(
            [
                String(a.ledgerIndex), Self.time(a.time), names.tenants[a.tenant].map { "\($0) (\(a.tenant))" } ?? a.tenant,
                a.region, a.staff, names.countries[a.destination].map { "\($0) (\(a.destination))" } ?? a.destination, a.dataClass, a.mode, a.justification, a.ticket,
                (names.basis(region: a.region, rule: a.basisRule)?.summary ?? a.basis) + " (rule \(a.basisRule))",
                a.decision + (a.decidedBy.isEmpty ? "" : " by \(a.decidedBy)")
                    + (a.decidedByFiler ? " (decided by its filer)" : ""),
            ], numeric: [0])
    }

    /// The rest of the page after the last access row (`accessesWritten`: whether there was one).
    func htmlTail(
        accessesWritten: Bool, afterAccesses: String = "", breakGlass breakGlassPage: ListPage = .whole,
        refusals refusalsPage: ListPage = .whole
    ) -> String {
        var body = HTMLReport.tableEnd(columns: Self.htmlAccessHeaders.count, empty: !accessesWritten) + afterAccesses
        body += breakGlassPage.heading("Break-glass grants")
        body += HTMLReport.table(
            ["ledger", "time", "tenant", "staff", "from", "justification", "review", "review due"],
            breakGlass.map { b in
                [
                    String(b.ledgerIndex), Self.time(b.time), tenantLabel(b.tenant), b.staff, country(b.destination),
                    b.justification, b.review, b.reviewDueAt.map(Self.time) ?? "",
                ]
            }, numeric: [0]
        ).replacingOccurrences(of: "<td>overdue</td>", with: "<td class=\"overdue\">overdue</td>")
        body += breakGlassPage.pager
        body += refusalsPage.heading("Refused attempts")
        body += HTMLReport.table(
            ["ledger", "time", "tenant", "stage", "staff", "from", "code", "rule", "message"],
            refusals.map { r in
                [
                    String(r.ledgerIndex), Self.time(r.time), tenantLabel(r.tenant), r.stage, r.staff,
                    country(r.destination), r.code, r.rule, r.message,
                ]
            }, numeric: [0])
        body += refusalsPage.pager
        body += """
            <h2>Ledger checkpoint</h2>
            <p>Every line above names its ledger entry; each can be checked against this signed checkpoint (size \
            \(checkpoint.size), root \(HTMLReport.escape(checkpoint.root))) with an inclusion proof \
            (<code>residency ledger prove INDEX --size \(checkpoint.size)</code>).</p>
            <div class="note">\(HTMLReport.escape(checkpoint.note))</div>
            """
        return body + HTMLReport.pageTail
    }
}
