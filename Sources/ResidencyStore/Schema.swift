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
                """),
        SchemaMigration(
            version: 2, name: "api: placement records, tokens, idempotency keys",
            sql: """
                ALTER TABLE tenants ADD COLUMN placement TEXT NOT NULL DEFAULT '{}';
                CREATE TABLE tokens (
                    name TEXT PRIMARY KEY NOT NULL,
                    role TEXT NOT NULL,
                    hash BLOB NOT NULL UNIQUE CHECK (length(hash) = 32),
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                ) STRICT;
                CREATE TABLE idempotency_keys (
                    scope TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash BLOB NOT NULL,
                    tenant_id TEXT NOT NULL REFERENCES tenants (id),
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (scope, key)
                ) STRICT;
                """),
        SchemaMigration(
            version: 3, name: "ledger: entries, Merkle nodes, checkpoints, append-only triggers",
            sql: """
                CREATE TABLE ledger_entries (
                    idx INTEGER PRIMARY KEY,
                    kind TEXT NOT NULL,
                    entry BLOB NOT NULL,
                    leaf_hash BLOB NOT NULL CHECK (length(leaf_hash) = 32)
                ) STRICT;
                CREATE INDEX ledger_entries_kind ON ledger_entries (kind, idx);
                CREATE TABLE ledger_nodes (
                    level INTEGER NOT NULL,
                    idx INTEGER NOT NULL,
                    hash BLOB NOT NULL CHECK (length(hash) = 32),
                    PRIMARY KEY (level, idx)
                ) STRICT, WITHOUT ROWID;
                CREATE TABLE ledger_checkpoints (
                    size INTEGER PRIMARY KEY,
                    root BLOB NOT NULL CHECK (length(root) = 32),
                    note TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) STRICT;
                CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be changed'); END;
                CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: entries cannot be deleted'); END;
                CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: tree nodes cannot be changed'); END;
                CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: tree nodes cannot be deleted'); END;
                CREATE TRIGGER ledger_checkpoints_no_update BEFORE UPDATE ON ledger_checkpoints
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: checkpoints cannot be changed'); END;
                CREATE TRIGGER ledger_checkpoints_no_delete BEFORE DELETE ON ledger_checkpoints
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: checkpoints cannot be deleted'); END;
                """),
    ]

    public static var latestVersion: Int { migrations.last?.version ?? 0 }
}
