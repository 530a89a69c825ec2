/// Where tenants are: per region and per country, the tenants a mandatory rule holds to their region,
/// migrations in flight and the violations an audit found.
package struct ResidencyMapReport: Sendable {
    package struct RegionRow: Sendable, Hashable {
        package let region: String
        package let name: String
        package let status: String
        package let capacity: Int
        package let tenants: Int

        package init(region: String, name: String, status: String, capacity: Int, tenants: Int) {
            self.region = region
            self.name = name
            self.status = status
            self.capacity = capacity
            self.tenants = tenants
        }
    }

    package struct CountryRow: Sendable, Hashable {
        package let country: String
        package let region: String
        package let tenants: Int
        /// Tenants held to the region by a mandatory rule of the residency policy.
        package let pinned: Int
        package let rule: String?

        package init(country: String, region: String, tenants: Int, pinned: Int, rule: String?) {
            self.country = country
            self.region = region
            self.tenants = tenants
            self.pinned = pinned
            self.rule = rule
        }
    }

    package struct MigrationRow: Sendable, Hashable {
        package let migration: String
        package let tenant: String
        package let from: String
        package let to: String
        package let state: String
        package let basis: String

        package init(migration: String, tenant: String, from: String, to: String, state: String, basis: String) {
            self.migration = migration
            self.tenant = tenant
            self.from = from
            self.to = to
            self.state = state
            self.basis = basis
        }
    }

    package struct ViolationRow: Sendable, Hashable {
        package let kind: String
        package let tenant: String
        package let dataClass: String
        package let location: String
        package let rule: String?

        package init(kind: String, tenant: String, dataClass: String, location: String, rule: String?) {
            self.kind = kind
            self.tenant = tenant
            self.dataClass = dataClass
            self.location = location
            self.rule = rule
        }
    }

    package let generatedAt: Int64
    package let policyVersion: String
    package let checkpoint: ReportCheckpoint
    /// The ledger index of the audit whose violations are listed.
    /// The `residency.audit` entry of the audit behind the violations, when the caller asked for the run to be
    /// recorded; nil for a plain read (reading a report writes nothing).
    package let auditLedgerIndex: Int?
    package let regions: [RegionRow]
    package let countries: [CountryRow]
    package let migrations: [MigrationRow]
    package let violations: [ViolationRow]
    /// Country names for the country rows, and the names of the tenants the migration and violation rows
    /// name (while they exist).
    package let names: ReportNames
    /// Every migration in flight and every violation found: more than `migrations` and `violations` hold when
    /// the report was made for a page that lists only the first ones (the downloads list them all).
    package let migrationCount: Int
    package let violationCount: Int

    package init(
        generatedAt: Int64, policyVersion: String, checkpoint: ReportCheckpoint, auditLedgerIndex: Int?,
        regions: [RegionRow], countries: [CountryRow], migrations: [MigrationRow], violations: [ViolationRow],
        names: ReportNames = ReportNames(), migrationCount: Int? = nil, violationCount: Int? = nil
    ) {
        self.migrationCount = max(migrationCount ?? migrations.count, migrations.count)
        self.violationCount = max(violationCount ?? violations.count, violations.count)
        self.names = names
        self.generatedAt = generatedAt
        self.policyVersion = policyVersion
        self.checkpoint = checkpoint
        self.auditLedgerIndex = auditLedgerIndex
        self.regions = regions
        self.countries = countries
        self.migrations = migrations
        self.violations = violations
    }

    package var pinnedTenants: Int { countries.reduce(0) { $0 + $1.pinned } }
}
