import Foundation
import ResidencyCore
import ResidencyStore

/// Compliance reports. The cross-border report is read from the ledger itself, so every line is an entry
/// an auditor can prove; the residency map from the directory, the migrations and a fresh audit. Each names
/// the signed checkpoint that covers it.
extension Controller {
    public func crossBorderReport(from: Int64, to: Int64, region: String?, tenant: String?) throws -> CrossBorderReport {
        guard from < to else {
            throw ControllerError.invalidField(field: "from", message: "must be before \"to\"")
        }
        if let region, policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: "region",
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))")
        }
        struct Filed {
            var body: JSONValue
            var decision = "pending"
            var decidedBy = ""
        }
        let now = clock.now()
        let checkpoint = try ledger.currentCheckpoint()
        var filed: [String: Filed] = [:]
        var accesses: [CrossBorderReport.Access] = []
        var breakGlass: [(index: Int, time: Int64, tenant: String, region: String, body: JSONValue)] = []
        var refusals: [CrossBorderReport.Refusal] = []
        func text(_ value: JSONValue?, _ key: String) -> String {
            if case .string(let s) = value?[key] { return s }
            return ""
        }
        try pool.read { database in
            try LedgerRepository(database).forEachEntry(kindPrefix: "access.") { index, bytes in
                guard index < checkpoint.size else { return }
                let entry = try JSONParser.parse(Array(bytes))
                let kind = text(entry, "kind")
                let body = entry["body"] ?? .null
                let entryTenant = text(entry, "tenant")
                let entryRegion = text(entry, "region")
                var time: Int64 = 0
                if case .number(let n) = entry["time"], let value = n.int64Value { time = value }
                let request = text(body, "request")
                switch kind {
                case "access.requested", "access.auto_approved", "access.break_glass":
                    var record = Filed(body: body)
                    if kind != "access.requested" {
                        record.decision = kind == "access.break_glass" ? "break-glass" : "auto-approved"
                        record.decidedBy = kind == "access.break_glass" ? "" : "policy"
                    }
                    filed[request] = record
                case "access.approved", "access.denied", "access.dismissed":
                    filed[request]?.body = body
                    filed[request]?.decision = String(kind.dropFirst("access.".count))
                    filed[request]?.decidedBy = text(entry, "actor")
                default: break
                }
                guard time >= from, time < to, region == nil || entryRegion == region,
                    tenant == nil || entryTenant == tenant
                else { return }
                switch kind {
                case "access.used":
                    let grant = filed[request]
                    accesses.append(
                        CrossBorderReport.Access(
                            ledgerIndex: index, time: time, tenant: entryTenant, region: entryRegion, request: request,
                            staff: text(body, "staff"), destination: text(body, "physical_country"),
                            dataClass: text(body, "data_class"), mode: text(body, "mode"),
                            resource: text(body, "resource"), justification: text(grant?.body, "justification"),
                            ticket: text(grant?.body, "detail"), basis: text(grant?.body, "basis"),
                            basisRule: text(grant?.body, "basis_rule"), decision: grant?.decision ?? "unknown",
                            decidedBy: grant?.decidedBy ?? "", breakGlass: grant?.body["break_glass"] == .bool(true)))
                case "access.break_glass":
                    breakGlass.append((index, time, entryTenant, entryRegion, body))
                case "access.refused", "access.use_refused":
                    refusals.append(
                        CrossBorderReport.Refusal(
                            ledgerIndex: index, time: time, tenant: entryTenant, region: entryRegion,
                            stage: kind == "access.refused" ? "filing" : "use", staff: text(body, "staff"),
                            destination: text(body, "physical_country"),
                            code: kind == "access.refused" ? text(body, "code") : text(body, "refusal"),
                            rule: text(body, "rule")))
                default: break
                }
            }
        }
        let grants = try breakGlass.map { item -> CrossBorderReport.BreakGlass in
            let id = text(item.body, "request")
            let current = try pool.read { try AccessRepository($0).request(id: id) }
            let review =
                current?.reviewedAt != nil ? "reviewed" : (current?.isReviewOverdue(at: now) ?? false) ? "overdue" : "due"
            return CrossBorderReport.BreakGlass(
                ledgerIndex: item.index, time: item.time, tenant: item.tenant, region: item.region, request: id,
                staff: text(item.body, "staff"), destination: text(item.body, "physical_country"),
                justification: text(item.body, "justification"), review: review)
        }
        return CrossBorderReport(
            from: from, to: to, region: region, tenant: tenant, generatedAt: now, policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint), accesses: accesses, breakGlass: grants, refusals: refusals)
    }

    public func residencyMapReport(by actor: String) throws -> ResidencyMapReport {
        let audit = try audit(by: actor)
        let checkpoint = try ledger.currentCheckpoint()
        struct CountryKey: Hashable {
            let country: String
            let region: String
        }
        var perRegion: [String: Int] = [:]
        var perCountry: [CountryKey: Int] = [:]
        var cursor: String?
        while true {
            let page = try pool.read { try TenantRepository($0).tenants(after: cursor, limit: 1000) }
            guard let last = page.last else { break }
            cursor = last.id
            for tenant in page where tenant.status != .deleted {
                perRegion[tenant.region, default: 0] += 1
                perCountry[CountryKey(country: tenant.country?.rawValue ?? "--", region: tenant.region), default: 0] += 1
            }
        }
        let regions = policies.catalog.regions.map {
            ResidencyMapReport.RegionRow(
                region: $0.id, name: $0.name, status: $0.status.rawValue, capacity: $0.capacity,
                tenants: perRegion[$0.id, default: 0])
        }
        let countries = perCountry.map { key, count -> ResidencyMapReport.CountryRow in
            var rule: String?
            if let code = CountryCode(key.country), case .mandatory(let mandatory) = policies.residency.constraint(for: code),
                mandatory.region == key.region
            {
                rule = mandatory.rule
            }
            return ResidencyMapReport.CountryRow(
                country: key.country, region: key.region, tenants: count, pinned: rule == nil ? 0 : count, rule: rule)
        }.sorted { $0.tenants != $1.tenants ? $0.tenants > $1.tenants : ($0.country, $0.region) < ($1.country, $1.region) }
        let migrations = try pool.read { try MigrationRepository($0).migrations(tenant: nil, state: nil, plan: nil, limit: 100_000) }
            .filter { !$0.state.isFinal }
            .map {
                ResidencyMapReport.MigrationRow(
                    migration: $0.id, tenant: $0.tenant, from: "\($0.fromRegion)/\($0.fromSite)",
                    to: "\($0.toRegion)/\($0.toSite)", state: $0.state.rawValue, basis: $0.transfer.mechanism.code)
            }
        return ResidencyMapReport(
            generatedAt: clock.now(), policyVersion: policies.version.hex, checkpoint: Self.reportCheckpoint(checkpoint),
            auditLedgerIndex: audit.ledgerIndex, regions: regions, countries: countries, migrations: migrations,
            violations: audit.violations.map {
                ResidencyMapReport.ViolationRow(
                    kind: $0.kind, tenant: $0.tenant, dataClass: $0.dataClass, location: $0.location, rule: $0.rule)
            })
    }

    static func reportCheckpoint(_ stored: LedgerRepository.StoredCheckpoint) -> ReportCheckpoint {
        ReportCheckpoint(size: stored.size, root: Data(stored.root).base64EncodedString(), note: stored.note)
    }
}
