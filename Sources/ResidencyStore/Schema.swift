/// The schema, as the ordered list of migrations that builds it.
public enum Schema {
    public static let migrations: [SchemaMigration] = [
        SchemaMigration(
            version: 1, name: "tenants",
            sql: """
                CREATE TABLE tenants (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    plan TEXT NOT NULL CHECK (plan IN ('trial', 'free', 'paid')),
                    country TEXT CHECK (country IS NULL OR length(country) = 2),
                    region TEXT NOT NULL,
                    site TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'closed', 'deleted')),
                    created_at INTEGER NOT NULL,
                    policy_version TEXT NOT NULL
                ) STRICT;
                CREATE INDEX tenants_region_status ON tenants (region, status, id);
                CREATE INDEX tenants_status ON tenants (status, id);
                """)
    ]

    public static var latestVersion: Int { migrations.last?.version ?? 0 }
}
