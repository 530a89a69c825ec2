/// The schema on PostgreSQL: `Schema.migrations` version for version — the same numbers, names, tables, columns,
/// constraints and indexes — in PostgreSQL's types. SQLite's 64-bit INTEGER is `bigint`, BLOB is `bytea`, a
/// rowid key the store lets the database number is an identity column, and the append-only triggers raise
/// from a PL/pgSQL function. `PostgresSchemaTests` checks the two lists stay numbered and named alike.
///
/// Version 8 backfilled new columns from the ledger of SQLite files written before it; a PostgreSQL store is new
/// at this release (none was ever written at an older version), so its tables are empty when version 8 applies
/// and it only adds the columns.
package enum PostgresSchema {
    package static let migrations: [SchemaMigration] = [
        SchemaMigration(
            version: 1, name: "tenants",
            sql: """
                CREATE TABLE tenants (
                    id text PRIMARY KEY NOT NULL,
                    name text NOT NULL,
                    plan text NOT NULL CHECK (plan IN ('trial', 'free', 'paid')),
                    country text CHECK (country IS NULL OR length(country) = 2),
                    region text NOT NULL,
                    site text NOT NULL,
                    status text NOT NULL CHECK (status IN ('active', 'suspended', 'closed', 'deleted')),
                    created_at bigint NOT NULL,
                    policy_version text NOT NULL
                );
                CREATE INDEX tenants_region_status ON tenants (region, status, id);
                CREATE INDEX tenants_status ON tenants (status, id);
                """),
        SchemaMigration(
            version: 2, name: "api: placement records, tokens, idempotency keys",
            sql: """
                ALTER TABLE tenants ADD COLUMN placement text NOT NULL DEFAULT '{}';
                CREATE TABLE tokens (
                    name text PRIMARY KEY NOT NULL,
                    role text NOT NULL,
                    hash bytea NOT NULL UNIQUE CHECK (octet_length(hash) = 32),
                    created_at bigint NOT NULL,
                    revoked_at bigint
                );
                CREATE TABLE idempotency_keys (
                    scope text NOT NULL,
                    key text NOT NULL,
                    request_hash bytea NOT NULL,
                    tenant_id text NOT NULL REFERENCES tenants (id),
                    created_at bigint NOT NULL,
                    PRIMARY KEY (scope, key)
                );
                """),
        SchemaMigration(
            version: 3, name: "ledger: entries, Merkle nodes, checkpoints, append-only triggers",
            sql: """
                -- An entry's canonical bytes as JSON, for the indexes and queries that look inside entries. IMMUTABLE
                -- (the bytes are UTF-8 JSON and never change), which an index expression requires; PL/pgSQL so that
                -- the planner never inlines it, and queries spell the indexed expression exactly as the index does.
                CREATE FUNCTION residency_json(bytes bytea) RETURNS jsonb
                    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
                    AS $$ BEGIN RETURN convert_from(bytes, 'UTF8')::jsonb; END $$;
                CREATE FUNCTION residency_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN RAISE EXCEPTION 'the ledger is append-only: % cannot be changed or deleted', TG_ARGV[0]; END $$;
                CREATE TABLE ledger_entries (
                    idx bigint PRIMARY KEY,
                    kind text NOT NULL,
                    entry bytea NOT NULL,
                    leaf_hash bytea NOT NULL CHECK (octet_length(leaf_hash) = 32)
                );
                CREATE INDEX ledger_entries_kind ON ledger_entries (kind, idx);
                CREATE TABLE ledger_nodes (
                    level bigint NOT NULL,
                    idx bigint NOT NULL,
                    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
                    PRIMARY KEY (level, idx)
                );
                CREATE TABLE ledger_checkpoints (
                    size bigint PRIMARY KEY,
                    root bytea NOT NULL CHECK (octet_length(root) = 32),
                    note text NOT NULL,
                    created_at bigint NOT NULL
                );
                CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
                    FOR EACH ROW EXECUTE FUNCTION residency_append_only('entries');
                CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
                    FOR EACH ROW EXECUTE FUNCTION residency_append_only('tree nodes');
                CREATE TRIGGER ledger_checkpoints_append_only BEFORE UPDATE OR DELETE ON ledger_checkpoints
                    FOR EACH ROW EXECUTE FUNCTION residency_append_only('checkpoints');
                CREATE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
                    FOR EACH STATEMENT EXECUTE FUNCTION residency_append_only('entries');
                """),
        SchemaMigration(
            version: 4, name: "cross-border access: requests, events, customer approval, tenant-scoped tokens",
            sql: """
                ALTER TABLE tenants ADD COLUMN customer_approval bigint NOT NULL DEFAULT 0;
                ALTER TABLE tokens ADD COLUMN tenant text;
                CREATE TABLE access_requests (
                    id text PRIMARY KEY NOT NULL,
                    tenant text NOT NULL REFERENCES tenants (id),
                    region text NOT NULL,
                    state text NOT NULL,
                    created_at bigint NOT NULL,
                    record text NOT NULL
                );
                CREATE INDEX access_requests_tenant ON access_requests (tenant, created_at);
                CREATE INDEX access_requests_state ON access_requests (state, created_at);
                CREATE INDEX access_requests_region ON access_requests (region, created_at);
                CREATE TABLE access_events (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    request_id text NOT NULL,
                    tenant text NOT NULL,
                    outcome text NOT NULL CHECK (outcome IN ('allowed', 'refused')),
                    at bigint NOT NULL,
                    record text NOT NULL
                );
                CREATE INDEX access_events_request ON access_events (request_id, id);
                """),
        SchemaMigration(
            version: 5, name: "tenant migrations and their step log",
            sql: """
                CREATE TABLE migrations (
                    id text PRIMARY KEY NOT NULL,
                    tenant text NOT NULL REFERENCES tenants (id),
                    from_region text NOT NULL,
                    from_site text NOT NULL,
                    to_region text NOT NULL,
                    to_site text NOT NULL,
                    state text NOT NULL,
                    ending text,
                    reason text NOT NULL,
                    requested_by text NOT NULL,
                    approved_by text,
                    plan text,
                    transfer text NOT NULL,
                    movers text NOT NULL,
                    created_at bigint NOT NULL,
                    updated_at bigint NOT NULL,
                    snapshot_sequence bigint,
                    content text,
                    bytes_copied bigint,
                    changed_rows bigint,
                    frozen_at bigint,
                    cutover_at bigint,
                    finished_at bigint,
                    error text
                );
                CREATE UNIQUE INDEX migrations_one_per_tenant ON migrations (tenant)
                    WHERE state NOT IN ('completed', 'failed', 'cancelled');
                CREATE INDEX migrations_state ON migrations (state, created_at);
                CREATE TABLE migration_steps (
                    id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                    migration text NOT NULL REFERENCES migrations (id),
                    state text NOT NULL,
                    phase text NOT NULL CHECK (phase IN ('started', 'finished', 'failed')),
                    at bigint NOT NULL,
                    detail text NOT NULL
                );
                CREATE INDEX migration_steps_migration ON migration_steps (migration, id);
                """),
        SchemaMigration(
            version: 6, name: "retention lifecycle: the clocks of each tenant",
            sql: """
                ALTER TABLE tenants ADD COLUMN trial_expires_at bigint;
                ALTER TABLE tenants ADD COLUMN cancelled_at bigint;
                ALTER TABLE tenants ADD COLUMN payment_failed_at bigint;
                ALTER TABLE tenants ADD COLUMN suspended_at bigint;
                ALTER TABLE tenants ADD COLUMN closed_at bigint;
                ALTER TABLE tenants ADD COLUMN closed_by_rule text;
                ALTER TABLE tenants ADD COLUMN last_activity_at bigint;
                ALTER TABLE tenants ADD COLUMN deleted_at bigint;
                """),
        SchemaMigration(
            version: 7, name: "ledger: entries by kind and time, access entries by request (windowed reports)",
            sql: """
                -- The expressions are the ones PostgresDialect writes for LedgerRepository's.
                CREATE INDEX ledger_entries_kind_time
                    ON ledger_entries (kind, ((residency_json(entry) ->> 'time')::bigint));
                CREATE INDEX ledger_entries_access_request
                    ON ledger_entries ((residency_json(entry) #>> '{body,request}'))
                    WHERE kind IN ('access.requested', 'access.auto_approved', 'access.approved', 'access.denied',
                        'access.dismissed', 'access.break_glass');
                """),
        SchemaMigration(
            version: 8,
            name: "governance: lifecycle event order and late-event grace; who filed access requests and who set "
                + "customer approval",
            sql: """
                ALTER TABLE tenants ADD COLUMN last_event_at bigint;
                ALTER TABLE tenants ADD COLUMN clocks_moved_recorded_at bigint;
                ALTER TABLE tenants ADD COLUMN customer_approval_by_tenant bigint NOT NULL DEFAULT 0;
                """),
        SchemaMigration(
            version: 9, name: "ledger: published checkpoints, cosigned by a quorum of witnesses",
            sql: """
                CREATE TABLE ledger_published (
                    size bigint PRIMARY KEY,
                    note text NOT NULL,
                    cosigners text NOT NULL,
                    created_at bigint NOT NULL
                );
                CREATE TRIGGER ledger_published_append_only BEFORE UPDATE OR DELETE ON ledger_published
                    FOR EACH ROW EXECUTE FUNCTION residency_append_only('published checkpoints');
                """),
        SchemaMigration(
            version: 10, name: "regional services: enrolment, pinned keys, signed assignments, delivered events",
            sql: """
                CREATE TABLE regional_services (
                    region text PRIMARY KEY NOT NULL,
                    site text NOT NULL,
                    endpoint text NOT NULL,
                    pin text,
                    join_secret bytea,
                    join_expires_at bigint,
                    enrolled_at bigint,
                    last_contact_at bigint,
                    last_error text,
                    version text,
                    tenants bigint,
                    free_disk_bytes bigint,
                    pending_events bigint,
                    witness_key text
                );
                CREATE TABLE tenant_assignments (
                    tenant text PRIMARY KEY NOT NULL REFERENCES tenants (id),
                    epoch bigint NOT NULL CHECK (epoch >= 1),
                    signed bytea NOT NULL
                );
                CREATE TABLE assignment_deliveries (
                    region text NOT NULL,
                    tenant text NOT NULL,
                    epoch bigint NOT NULL,
                    PRIMARY KEY (region, tenant)
                );
                CREATE TABLE grant_deliveries (
                    request text PRIMARY KEY NOT NULL,
                    region text NOT NULL,
                    state text NOT NULL,
                    expires_at bigint NOT NULL
                );
                CREATE TABLE region_events (
                    region text NOT NULL,
                    seq bigint NOT NULL,
                    ledger_index bigint NOT NULL,
                    PRIMARY KEY (region, seq)
                );
                """),
        SchemaMigration(
            version: 11, name: "console: tenants by country and by name, a tenant's ledger entries",
            sql: """
                -- The expression is the one PostgresDialect writes for LedgerRepository.indices(tenant:).
                CREATE INDEX tenants_country ON tenants (country, id);
                CREATE INDEX tenants_name ON tenants (lower(name), id);
                CREATE INDEX ledger_entries_tenant ON ledger_entries ((residency_json(entry) #>> '{tenant}'), idx);
                """),
        SchemaMigration(
            version: 12,
            name: "reports: the cross-border figures of each day, kept beside the ledger they add up; tenants by region "
                + "in id order and where every tenant is, read from indexes",
            sql: """
                CREATE TABLE report_access_days (
                    day bigint NOT NULL,
                    region text NOT NULL,
                    destination text NOT NULL,
                    basis text NOT NULL,
                    justification text NOT NULL,
                    staff text NOT NULL,
                    accesses bigint NOT NULL CHECK (accesses > 0),
                    first_index bigint NOT NULL,
                    last_index bigint NOT NULL,
                    PRIMARY KEY (day, region, destination, basis, justification, staff)
                );
                CREATE TABLE report_filer_grants (
                    day bigint NOT NULL,
                    region text NOT NULL,
                    request text NOT NULL,
                    PRIMARY KEY (day, region, request)
                );
                CREATE TABLE report_summary_state (
                    id bigint PRIMARY KEY CHECK (id = 1),
                    size bigint NOT NULL CHECK (size >= 0)
                );
                INSERT INTO report_summary_state (id, size) VALUES (1, 0);
                CREATE INDEX tenants_region_id ON tenants (region, id, site, status, country);
                CREATE INDEX tenants_location ON tenants (region, country, status, id);
                """),
        SchemaMigration(
            version: 13, name: "constant lists in constraints and index conditions written as comparisons",
            sql: """
                -- SQLite's change only (its IN lists cost a temporary B-tree per row written); PostgreSQL evaluates
                -- IN lists in place. The version moves so the numbers stay the same on both stores.
                SELECT 1;
                """),
        SchemaMigration(
            version: 14, name: "tenants: a change counter for where tenants are, kept by triggers",
            sql: """
                -- Row triggers, as on SQLite. Every write transaction holds the store's advisory write lock before
                -- it touches a row (Database.write), so the one counter row never orders two writers differently
                -- from the lock: no deadlock, and no more waiting than the lock already imposes.
                CREATE TABLE tenant_location_changes (
                    id bigint PRIMARY KEY CHECK (id = 1),
                    changes bigint NOT NULL CHECK (changes >= 0)
                );
                INSERT INTO tenant_location_changes (id, changes) VALUES (1, 0);
                -- The counter is named in the tenants table's own schema, not found on the search path: a session
                -- with another search path (psql, a script) that changes tenants still moves this store's counter.
                CREATE FUNCTION residency_tenant_location_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                    BEGIN
                        EXECUTE format('UPDATE %I.tenant_location_changes SET changes = changes + 1 WHERE id = 1',
                            TG_TABLE_SCHEMA);
                        RETURN NULL;
                    END $$;
                CREATE TRIGGER tenant_location_inserted AFTER INSERT ON tenants
                    FOR EACH ROW EXECUTE FUNCTION residency_tenant_location_changed();
                CREATE TRIGGER tenant_location_deleted AFTER DELETE ON tenants
                    FOR EACH ROW EXECUTE FUNCTION residency_tenant_location_changed();
                CREATE TRIGGER tenant_location_updated AFTER UPDATE OF id, region, country, status ON tenants
                    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.region IS DISTINCT FROM NEW.region
                        OR OLD.country IS DISTINCT FROM NEW.country OR OLD.status IS DISTINCT FROM NEW.status)
                    EXECUTE FUNCTION residency_tenant_location_changed();
                CREATE TRIGGER tenant_location_truncated AFTER TRUNCATE ON tenants
                    FOR EACH STATEMENT EXECUTE FUNCTION residency_tenant_location_changed();
                """),
        SchemaMigration(
            version: 15, name: "tenants: a ring log of the last 8,192 location changes, kept by the same triggers",
            sql: """
                -- As on SQLite (Schema.swift, version 15). The triggers of version 14 stay; their function moves the
                -- counter and notes the change in one statement. A TRUNCATE notes no tenant: the log cannot say who
                -- was removed, and a view reads everything again.
                CREATE TABLE tenant_location_log (
                    slot bigint PRIMARY KEY CHECK (slot >= 0 AND slot < \(TenantRepository.locationLogSlots)),
                    change bigint,
                    tenant text,
                    former text
                );
                INSERT INTO tenant_location_log (slot, change, tenant, former)
                    SELECT slot, \(TenantRepository.locationLogPlaceholderChange),
                        '\(TenantRepository.locationLogPlaceholderID)', NULL
                    FROM generate_series(0, \(TenantRepository.locationLogSlots - 1)) AS slot;
                CREATE OR REPLACE FUNCTION residency_tenant_location_changed() RETURNS trigger LANGUAGE plpgsql AS $$
                    DECLARE
                        subject text;
                        previous text;
                    BEGIN
                        IF TG_OP = 'INSERT' THEN
                            subject := NEW.id;
                        ELSIF TG_OP = 'DELETE' THEN
                            subject := OLD.id;
                        ELSIF TG_OP = 'UPDATE' THEN
                            subject := NEW.id;
                            IF OLD.id IS DISTINCT FROM NEW.id THEN previous := OLD.id; END IF;
                        END IF;
                        EXECUTE format(
                            'WITH counter AS (UPDATE %1$I.tenant_location_changes SET changes = changes + 1 '
                                || 'WHERE id = 1 RETURNING changes) '
                                || 'UPDATE %1$I.tenant_location_log '
                                || 'SET change = counter.changes, tenant = $1, former = $2 '
                                || 'FROM counter WHERE slot = counter.changes %% \(TenantRepository.locationLogSlots)',
                            TG_TABLE_SCHEMA)
                            USING subject, previous;
                        RETURN NULL;
                    END $$;
                """),
        SchemaMigration(
            version: 16,
            name: "tenants: no function in a constraint or index (a signup's insert keeps no statement journal); "
                + "idempotency keys and migrations indexed by tenant",
            sql: """
                -- The constraint and the name index are SQLite's change only (a function in either made it journal
                -- every signup's pages); PostgreSQL has no statement journal. The two indexes serve PostgreSQL as
                -- well: deleting a tenant looks for rows referring to it.
                CREATE INDEX idempotency_keys_tenant ON idempotency_keys (tenant_id);
                CREATE INDEX migrations_tenant ON migrations (tenant);
                """),
        SchemaMigration(
            version: 17,
            name: "tenants: the indexes every signup wrote and nothing read dropped; the status index holds only "
                + "tenants that are not active",
            sql: """
                -- As on SQLite (Schema.swift, version 17): every insert maintained these and no query read them.
                DROP INDEX tenants_location;
                DROP INDEX tenants_region_status;
                DROP INDEX tenants_status;
                CREATE INDEX tenants_status ON tenants (status, id) WHERE status <> 'active';
                """),
        SchemaMigration(
            version: 18, name: "ledger: Merkle nodes keyed by the tree size that completed them, so appends write at one end",
            sql: """
                -- As on SQLite (Schema.swift, version 18): a B-tree keyed (level, idx) took every append at the end
                -- of each level's range; keyed (size, level) they all land at one end.
                CREATE TABLE ledger_nodes_by_size (
                    size bigint NOT NULL,
                    level integer NOT NULL,
                    hash bytea NOT NULL CHECK (octet_length(hash) = 32),
                    PRIMARY KEY (size, level),
                    CHECK (level >= 0 AND level < 62 AND size > 0 AND size % (1::bigint << level) = 0)
                );
                INSERT INTO ledger_nodes_by_size (size, level, hash)
                    SELECT (idx + 1) << level::integer, level, hash FROM ledger_nodes
                    ORDER BY (idx + 1) << level::integer, level;
                DROP TABLE ledger_nodes;
                ALTER TABLE ledger_nodes_by_size RENAME TO ledger_nodes;
                ALTER INDEX ledger_nodes_by_size_pkey RENAME TO ledger_nodes_pkey;
                CREATE TRIGGER ledger_nodes_append_only BEFORE UPDATE OR DELETE ON ledger_nodes
                    FOR EACH ROW EXECUTE FUNCTION residency_append_only('tree nodes');
                """),
    ]
}
