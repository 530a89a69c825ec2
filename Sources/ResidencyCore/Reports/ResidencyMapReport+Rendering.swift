extension ResidencyMapReport {
    package func rendered(_ format: ReportFormat) -> String {
        switch format {
        case .json: return jsonValue.encoded(pretty: true) + "\n"
        case .csv: return csv
        case .html: return html
        }
    }

    package var jsonValue: JSONValue {
        .object([
            ("report", .string("residency map")),
            ("generated_at", .string(Timestamp.rfc3339(milliseconds: generatedAt))),
            ("policy_version", .string(policyVersion)), ("checkpoint", checkpoint.jsonValue),
            ("audit_ledger_index", auditLedgerIndex.map { .integer($0) } ?? .null),
            (
                "summary",
                .object([
                    ("tenants", .integer(regions.reduce(0) { $0 + $1.tenants })), ("pinned", .integer(pinnedTenants)),
                    ("migrations_in_flight", .integer(migrationCount)), ("violations", .integer(violationCount)),
                ])
            ),
            (
                "regions",
                .array(
                    regions.map { r in
                        .object([
                            ("region", .string(r.region)), ("name", .string(r.name)), ("status", .string(r.status)),
                            ("capacity", .integer(r.capacity)), ("tenants", .integer(r.tenants)),
                        ])
                    })
            ),
            (
                "countries",
                .array(
                    countries.map { c in
                        .object([
                            ("country", .string(c.country)), ("region", .string(c.region)),
                            ("tenants", .integer(c.tenants)), ("pinned", .integer(c.pinned)),
                            ("rule", .optional(c.rule)), ("country_name", .optional(names.countries[c.country])),
                        ])
                    })
            ),
            (
                "migrations",
                .array(
                    migrations.map { m in
                        .object([
                            ("migration", .string(m.migration)), ("tenant", .string(m.tenant)),
                            ("from", .string(m.from)),
                            ("to", .string(m.to)), ("state", .string(m.state)), ("basis", .string(m.basis)),
                            ("tenant_name", .optional(names.tenants[m.tenant])),
                        ])
                    })
            ),
            (
                "violations",
                .array(
                    violations.map { v in
                        .object([
                            ("kind", .string(v.kind)), ("tenant", .string(v.tenant)),
                            ("data_class", .string(v.dataClass)),
                            ("location", .string(v.location)), ("rule", .optional(v.rule)),
                            ("tenant_name", .optional(names.tenants[v.tenant])),
                        ])
                    })
            ),
        ])
    }

    /// The names come last, so the columns before them keep their positions.
    package var csv: String {
        var writer = CSVWriter()
        writer.row(["section", "region", "country", "tenants", "pinned", "detail", "country_name", "tenant_name"])
        for r in regions {
            writer.row(["region", r.region, "", String(r.tenants), "", "\(r.status), capacity \(r.capacity)", "", ""])
        }
        for c in countries {
            writer.row([
                "country", c.region, c.country, String(c.tenants), String(c.pinned), c.rule ?? "",
                names.countries[c.country] ?? "", "",
            ])
        }
        for m in migrations {
            writer.row([
                "migration", m.to, "", "", "",
                "\(m.migration) \(m.tenant) \(m.from) -> \(m.to) \(m.state) (\(m.basis))", "",
                names.tenants[m.tenant] ?? "",
            ])
        }
        for v in violations {
            writer.row([
                "violation", "", "", "", "", "\(v.kind) \(v.tenant) \(v.dataClass) at \(v.location) \(v.rule ?? "")",
                "", names.tenants[v.tenant] ?? "",
            ])
        }
        writer.row(["checkpoint", "", "", String(checkpoint.size), "", checkpoint.root, "", ""])
        return writer.text
    }

    package var html: String {
        let total = regions.reduce(0) { $0 + $1.tenants }
        var body = HTMLReport.table(
            ["tenants", "pinned by a mandatory rule", "migrations in flight", "violations"],
            [
                [
                    HTMLReport.grouped(total), HTMLReport.grouped(pinnedTenants), HTMLReport.grouped(migrationCount),
                    HTMLReport.grouped(violationCount),
                ]
            ],
            numeric: [0, 1, 2, 3])
        var byCountry: [String: Int] = [:]
        for c in countries { byCountry[c.country, default: 0] += c.tenants }
        body += """
            <div class="charts">
            \(HTMLReport.barChart(title: "Tenants by region", regions.map { ($0.region, $0.tenants) }.sorted { $0.1 > $1.1 }))
            \(HTMLReport.barChart(title: "Tenants by country (top 12)", byCountry.map { ($0.key, $0.value) }.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0 < $1.0 }))
            </div>
            <h2>Regions</h2>
            """
        body += HTMLReport.table(
            ["region", "name", "status", "capacity", "tenants"],
            regions.map { [$0.region, $0.name, $0.status, String($0.capacity), String($0.tenants)] }, numeric: [3, 4])
        body += "<h2>Countries</h2>"
        body += HTMLReport.table(
            ["country", "region", "tenants", "pinned", "rule"],
            countries.map { c -> [String] in
                let country = names.countries[c.country].map { "\($0) (\(c.country))" } ?? c.country
                return [country, c.region, String(c.tenants), String(c.pinned), c.rule ?? ""]
            },
            numeric: [2, 3])
        body += "<h2>Migrations in flight</h2>"
        body += HTMLReport.table(
            ["migration", "tenant", "from", "to", "state", "basis"],
            migrations.map { [$0.migration, tenantLabel($0.tenant), $0.from, $0.to, $0.state, $0.basis] })
        body += Self.listedNote(migrations.count, of: migrationCount)
        body += "<h2>Violations (audit\(auditLedgerIndex.map { ", ledger entry \($0)" } ?? ", not recorded"))</h2>"
        body += HTMLReport.table(
            ["kind", "tenant", "data class", "location", "rule"],
            violations.map { [$0.kind, tenantLabel($0.tenant), $0.dataClass, $0.location, $0.rule ?? ""] })
        body += Self.listedNote(violations.count, of: violationCount)
        body += """
            <h2>Ledger checkpoint</h2><p>Size \(checkpoint.size), root \(HTMLReport.escape(checkpoint.root)).</p>
            <div class="note">\(HTMLReport.escape(checkpoint.note))</div>
            """
        return HTMLReport.page(
            title: "Residency map",
            subtitle:
                "Generated \(Timestamp.rfc3339(milliseconds: generatedAt)); policy \(policyVersion.prefix(12)).",
            body: body)
    }

    /// Under a table that lists only the first rows: how many there are in all.
    static func listedNote(_ listed: Int, of total: Int) -> String {
        guard total > listed else { return "" }
        return
            "<p class=\"note\">The first \(HTMLReport.grouped(listed)) of \(HTMLReport.grouped(total)) are listed here; "
            + "the JSON, CSV and HTML downloads list every one.</p>"
    }

    /// A tenant's name with its id, or the id alone once the tenant is deleted.
    func tenantLabel(_ id: String) -> String { names.tenants[id].map { "\($0) (\(id))" } ?? id }
}
