/// Where tenants are: per region and per country, the tenants a mandatory rule holds to their region,
/// migrations in flight and the violations an audit found.
public struct ResidencyMapReport: Sendable {
    public struct RegionRow: Sendable, Hashable {
        public let region: String
        public let name: String
        public let status: String
        public let capacity: Int
        public let tenants: Int

        public init(region: String, name: String, status: String, capacity: Int, tenants: Int) {
            self.region = region
            self.name = name
            self.status = status
            self.capacity = capacity
            self.tenants = tenants
        }
    }

    public struct CountryRow: Sendable, Hashable {
        public let country: String
        public let region: String
        public let tenants: Int
        /// Tenants held to the region by a mandatory rule of the residency policy.
        public let pinned: Int
        public let rule: String?

        public init(country: String, region: String, tenants: Int, pinned: Int, rule: String?) {
            self.country = country
            self.region = region
            self.tenants = tenants
            self.pinned = pinned
            self.rule = rule
        }
    }

    public struct MigrationRow: Sendable, Hashable {
        public let migration: String
        public let tenant: String
        public let from: String
        public let to: String
        public let state: String
        public let basis: String

        public init(migration: String, tenant: String, from: String, to: String, state: String, basis: String) {
            self.migration = migration
            self.tenant = tenant
            self.from = from
            self.to = to
            self.state = state
            self.basis = basis
        }
    }

    public struct ViolationRow: Sendable, Hashable {
        public let kind: String
        public let tenant: String
        public let dataClass: String
        public let location: String
        public let rule: String?

        public init(kind: String, tenant: String, dataClass: String, location: String, rule: String?) {
            self.kind = kind
            self.tenant = tenant
            self.dataClass = dataClass
            self.location = location
            self.rule = rule
        }
    }

    public let generatedAt: Int64
    public let policyVersion: String
    public let checkpoint: ReportCheckpoint
    /// The ledger index of the audit whose violations are listed.
    /// The `residency.audit` entry of the audit behind the violations, when the caller asked for the run to be
    /// recorded; nil for a plain read (reading a report writes nothing).
    public let auditLedgerIndex: Int?
    public let regions: [RegionRow]
    public let countries: [CountryRow]
    public let migrations: [MigrationRow]
    public let violations: [ViolationRow]
    /// Country names for the country rows, and the names of the tenants the migration and violation rows
    /// name (while they exist).
    public let names: ReportNames

    public init(
        generatedAt: Int64, policyVersion: String, checkpoint: ReportCheckpoint, auditLedgerIndex: Int?,
        regions: [RegionRow], countries: [CountryRow], migrations: [MigrationRow], violations: [ViolationRow],
        names: ReportNames = ReportNames()
    ) {
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

    public var pinnedTenants: Int { countries.reduce(0) { $0 + $1.pinned } }
}
