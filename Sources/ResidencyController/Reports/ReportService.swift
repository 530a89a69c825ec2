import Foundation
import ResidencyCore
import ResidencyStore

/// The residency map: read from the directory, the migrations and a fresh audit, naming the signed
/// checkpoint that covers it. (The cross-border report is in `Controller+CrossBorderReport.swift`.)
package final class ReportService: ControllerService {
    let context: ControllerContext
    /// Residency questions the audit asks of the directory (what country a location is in).
    let directory: DirectoryService
    /// Every tenant's location and the per-region and per-country counts, kept per tenants change counter.
    let locationsMemo = TenantLocationsMemo()
    /// The last comparison of the data plane's folders with the directory, kept per listings and counter.
    let dataPlaneComparisons = DataPlaneComparison.Memo()

    init(context: ControllerContext, directory: DirectoryService) {
        self.context = context
        self.directory = directory
    }
}

extension ReportService {
    /// The map as of now. Its violations come from a fresh audit, recorded on the ledger only with
    /// `recordAudit` (an audit run the caller asked for); reading the report records nothing. `listed` bounds the
    /// migrations and violations the report lists (a page); they are counted in full whatever it is.
    package func residencyMapReport(
        recordAudit: Bool = false, listed: Int = .max, by actor: String
    ) throws
        -> ResidencyMapReport
    {
        let audit = try audit(record: recordAudit, keepViolations: listed, by: actor)
        let checkpoint = try ledger.currentCheckpoint()
        struct CountryKey: Hashable {
            let country: String
            let region: String
        }
        var perRegion: [String: Int] = [:]
        var perCountry: [CountryKey: Int] = [:]
        // Counted by the database off an index, not read a tenant at a time (100,000 tenant rows cost the
        // console's map page seconds), and counted again only when the tenants table's change counter moved.
        for row in try context.read({ try locationsMemo.liveCountsByCountry(in: $0) }) {
            perRegion[row.region, default: 0] += row.tenants
            perCountry[CountryKey(country: row.country ?? "--", region: row.region), default: 0] += row.tenants
        }
        let regions = policies.catalog.regions.map {
            ResidencyMapReport.RegionRow(
                region: $0.id, name: $0.name, status: $0.status.rawValue, capacity: $0.capacity,
                tenants: perRegion[$0.id, default: 0])
        }
        let countries = perCountry.map { key, count -> ResidencyMapReport.CountryRow in
            var rule: String?
            if let code = CountryCode(key.country),
                case .mandatory(let mandatory) = policies.residency.constraint(for: code),
                mandatory.region == key.region
            {
                rule = mandatory.rule
            }
            return ResidencyMapReport.CountryRow(
                country: key.country, region: key.region, tenants: count, pinned: rule == nil ? 0 : count, rule: rule)
        }.sorted {
            $0.tenants != $1.tenants ? $0.tenants > $1.tenants : ($0.country, $0.region) < ($1.country, $1.region)
        }
        let inFlight = try context.read {
            try MigrationRepository($0).migrations(tenant: nil, state: nil, plan: nil, limit: 100_000)
        }
        .filter { !$0.state.isFinal }
        let migrations = inFlight.prefix(listed).map {
            ResidencyMapReport.MigrationRow(
                migration: $0.id, tenant: $0.tenant, from: "\($0.fromRegion)/\($0.fromSite)",
                to: "\($0.toRegion)/\($0.toSite)", state: $0.state.rawValue, basis: $0.transfer.mechanism.code)
        }
        let violations = audit.violations.map {
            ResidencyMapReport.ViolationRow(
                kind: $0.kind, tenant: $0.tenant, dataClass: $0.dataClass, location: $0.location, rule: $0.rule)
        }
        // Names for people, once per distinct tenant and country; a deleted tenant keeps only its id.
        let tenantIDs = Set(migrations.map(\.tenant) + violations.map(\.tenant))
        let tenantNames = try context.read { database -> [String: String] in
            var names: [String: String] = [:]
            for id in tenantIDs {
                if let tenant = try TenantRepository(database).tenant(id: id), tenant.status != .deleted {
                    names[id] = tenant.name
                }
            }
            return names
        }
        var countryNames: [String: String] = [:]
        for row in countries {
            if let country = CountryCode(row.country).flatMap(policies.catalog.countries.country) {
                countryNames[row.country] = country.name
            }
        }
        return ResidencyMapReport(
            generatedAt: clock.now(), policyVersion: policies.version.hex,
            checkpoint: Self.reportCheckpoint(checkpoint),
            auditLedgerIndex: audit.ledgerIndex, regions: regions, countries: countries, migrations: migrations,
            violations: violations, names: ReportNames(tenants: tenantNames, countries: countryNames),
            migrationCount: inFlight.count, violationCount: audit.violationCount)
    }

    static func reportCheckpoint(_ stored: LedgerRepository.StoredCheckpoint) -> ReportCheckpoint {
        ReportCheckpoint(size: stored.size, root: Data(stored.root).base64EncodedString(), note: stored.note)
    }
}
