extension CrossBorderReport {
    public func rendered(_ format: ReportFormat) -> String {
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

    public var jsonValue: JSONValue {
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
                    ("accesses", .integer(accesses.count)), ("break_glass", .integer(breakGlass.count)),
                    ("overdue_reviews", .integer(overdueReviews)), ("refused", .integer(refusals.count)),
                    ("grants_decided_by_filer", .integer(grantsDecidedByFiler)),
                    ("by_destination", Self.countsJSON(byDestination)), ("by_basis", Self.countsJSON(byBasis)),
                    ("by_justification", Self.countsJSON(byJustification)), ("by_staff", Self.countsJSON(byStaff)),
                ])
            ),
            (
                "accesses",
                .array(
                    accesses.map { a in
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
                        ])
                    })
            ),
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
                        ])
                    })
            ),
        ])
    }

    /// One table: a `section` column says what each row is; summary rows first, then every line with its
    /// ledger index, then the checkpoint that covers them. `decided_by_filer` is the last column so that the
    /// columns before it keep the positions spreadsheets already read them at.
    public var csv: String {
        var writer = CSVWriter()
        writer.row([
            "section", "ledger_index", "time", "tenant", "region", "request", "staff", "destination", "data_class",
            "mode", "justification", "ticket", "basis", "basis_rule", "decision", "decided_by", "review", "code",
            "rule",
            "key", "count", "decided_by_filer",
        ])
        func summary(_ name: String, _ counts: [(key: String, count: Int)]) {
            for item in counts {
                writer.row([name] + Array(repeating: "", count: 18) + [item.key, String(item.count), ""])
            }
        }
        summary("decided_by_filer", [("grants", grantsDecidedByFiler)])
        summary("by_destination", byDestination)
        summary("by_basis", byBasis)
        summary("by_justification", byJustification)
        summary("by_staff", byStaff)
        for a in accesses {
            writer.row([
                "access", String(a.ledgerIndex), Self.time(a.time), a.tenant, a.region, a.request, a.staff,
                a.destination, a.dataClass, a.mode, a.justification, a.ticket, a.basis, a.basisRule, a.decision,
                a.decidedBy, "", "", "", "", "", a.decidedByFiler ? "true" : "false",
            ])
        }
        for b in breakGlass {
            writer.row([
                "break_glass", String(b.ledgerIndex), Self.time(b.time), b.tenant, b.region, b.request, b.staff,
                b.destination, "", "", b.justification, "", "", "", "", "", b.review, "", "", "", "", "",
            ])
        }
        for r in refusals {
            writer.row([
                "refused", String(r.ledgerIndex), Self.time(r.time), r.tenant, r.region, "", r.staff, r.destination, "",
                "", "", "", "", "", "", "", "", r.code, r.rule, r.stage, "", "",
            ])
        }
        writer.row(
            ["checkpoint", String(checkpoint.size)] + Array(repeating: "", count: 17) + ["root", checkpoint.root, ""])
        return writer.text
    }

    public var html: String {
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
                [[HTMLReport.grouped(accesses.count), HTMLReport.grouped(breakGlass.count),
                    HTMLReport.grouped(overdueReviews), HTMLReport.grouped(refusals.count),
                    HTMLReport.grouped(grantsDecidedByFiler)]],
                numeric: [0, 1, 2, 3, 4]))
            <div class="charts">
            \(HTMLReport.barChart(title: "Accesses by destination country", byDestination))
            \(HTMLReport.barChart(title: "Accesses by transfer basis", byBasis))
            \(HTMLReport.barChart(title: "Accesses by justification", byJustification))
            \(HTMLReport.barChart(title: "Accesses by staff member", byStaff))
            </div>
            """
        body += "<h2>Every access</h2>"
        body += HTMLReport.table(
            [
                "ledger", "time", "tenant", "region", "staff", "from", "class", "mode", "justification", "ticket",
                "basis",
                "decision",
            ],
            accesses.map { a in
                [
                    String(a.ledgerIndex), Self.time(a.time), a.tenant, a.region, a.staff, a.destination, a.dataClass,
                    a.mode, a.justification, a.ticket, "\(a.basis) (\(a.basisRule))",
                    a.decision + (a.decidedBy.isEmpty ? "" : " by \(a.decidedBy)")
                        + (a.decidedByFiler ? " (decided by its filer)" : ""),
                ]
            }, numeric: [0])
        body += "<h2>Break-glass grants</h2>"
        body += HTMLReport.table(
            ["ledger", "time", "tenant", "staff", "from", "justification", "review"],
            breakGlass.map { b in
                [String(b.ledgerIndex), Self.time(b.time), b.tenant, b.staff, b.destination, b.justification, b.review]
            }, numeric: [0]
        ).replacingOccurrences(of: "<td>overdue</td>", with: "<td class=\"overdue\">overdue</td>")
        body += "<h2>Refused attempts</h2>"
        body += HTMLReport.table(
            ["ledger", "time", "tenant", "stage", "staff", "from", "code", "rule", "message"],
            refusals.map { r in
                [
                    String(r.ledgerIndex), Self.time(r.time), r.tenant, r.stage, r.staff, r.destination, r.code, r.rule,
                    r.message,
                ]
            }, numeric: [0])
        body += """
            <h2>Ledger checkpoint</h2>
            <p>Every line above names its ledger entry; each can be checked against this signed checkpoint (size \
            \(checkpoint.size), root \(HTMLReport.escape(checkpoint.root))) with an inclusion proof \
            (<code>residency ledger prove INDEX --size \(checkpoint.size)</code>).</p>
            <div class="note">\(HTMLReport.escape(checkpoint.note))</div>
            """
        return HTMLReport.page(title: "Cross-border access report", subtitle: subtitle, body: body)
    }
}
