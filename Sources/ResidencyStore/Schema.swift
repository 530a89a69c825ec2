/// The schema, as the ordered list of migrations that builds it.
package enum Schema {
    package static let migrations: [SchemaMigration] = [
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
        SchemaMigration(
            version: 4, name: "cross-border access: requests, events, customer approval, tenant-scoped tokens",
            sql: """
                ALTER TABLE tenants ADD COLUMN customer_approval INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE tokens ADD COLUMN tenant TEXT;
                CREATE TABLE access_requests (
                    id TEXT PRIMARY KEY NOT NULL,
                    tenant TEXT NOT NULL REFERENCES tenants (id),
                    region TEXT NOT NULL,
                    state TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    record TEXT NOT NULL
                ) STRICT;
                CREATE INDEX access_requests_tenant ON access_requests (tenant, created_at);
                CREATE INDEX access_requests_state ON access_requests (state, created_at);
                CREATE INDEX access_requests_region ON access_requests (region, created_at);
                CREATE TABLE access_events (
                    id INTEGER PRIMARY KEY,
                    request_id TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    outcome TEXT NOT NULL CHECK (outcome IN ('allowed', 'refused')),
                    at INTEGER NOT NULL,
                    record TEXT NOT NULL
                ) STRICT;
                CREATE INDEX access_events_request ON access_events (request_id, id);
                """),
        SchemaMigration(
            version: 5, name: "tenant migrations and their step log",
            sql: """
                CREATE TABLE migrations (
                    id TEXT PRIMARY KEY NOT NULL,
                    tenant TEXT NOT NULL REFERENCES tenants (id),
                    from_region TEXT NOT NULL,
                    from_site TEXT NOT NULL,
                    to_region TEXT NOT NULL,
                    to_site TEXT NOT NULL,
                    state TEXT NOT NULL,
                    ending TEXT,
                    reason TEXT NOT NULL,
                    requested_by TEXT NOT NULL,
                    approved_by TEXT,
                    plan TEXT,
                    transfer TEXT NOT NULL,
                    movers TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    snapshot_sequence INTEGER,
                    content TEXT,
                    bytes_copied INTEGER,
                    changed_rows INTEGER,
                    frozen_at INTEGER,
                    cutover_at INTEGER,
                    finished_at INTEGER,
                    error TEXT
                ) STRICT;
                -- One migration per tenant at a time, enforced by the database itself.
                CREATE UNIQUE INDEX migrations_one_per_tenant ON migrations (tenant)
                    WHERE state NOT IN ('completed', 'failed', 'cancelled');
                CREATE INDEX migrations_state ON migrations (state, created_at);
                CREATE TABLE migration_steps (
                    id INTEGER PRIMARY KEY,
                    migration TEXT NOT NULL REFERENCES migrations (id),
                    state TEXT NOT NULL,
                    phase TEXT NOT NULL CHECK (phase IN ('started', 'finished', 'failed')),
                    at INTEGER NOT NULL,
                    detail TEXT NOT NULL
                ) STRICT;
                CREATE INDEX migration_steps_migration ON migration_steps (migration, id);
                """),
        SchemaMigration(
            version: 6, name: "retention lifecycle: the clocks of each tenant",
            sql: """
                ALTER TABLE tenants ADD COLUMN trial_expires_at INTEGER;
                ALTER TABLE tenants ADD COLUMN cancelled_at INTEGER;
                ALTER TABLE tenants ADD COLUMN payment_failed_at INTEGER;
                ALTER TABLE tenants ADD COLUMN suspended_at INTEGER;
                ALTER TABLE tenants ADD COLUMN closed_at INTEGER;
                ALTER TABLE tenants ADD COLUMN closed_by_rule TEXT;
                ALTER TABLE tenants ADD COLUMN last_activity_at INTEGER;
                ALTER TABLE tenants ADD COLUMN deleted_at INTEGER;
                """),
        SchemaMigration(
            version: 7, name: "ledger: entries by kind and time, access entries by request (windowed reports)",
            sql: """
                -- A report over a window reads the window, not the whole ledger: entries by kind and time, and
                -- the filings and decisions of the requests used in it. The expressions must be written exactly
                -- so in queries for SQLite to use these indexes (LedgerRepository.timeExpression and
                -- requestExpression).
                CREATE INDEX ledger_entries_kind_time
                    ON ledger_entries (kind, json_extract(CAST(entry AS TEXT), '$.time'));
                -- Only filings and decisions: uses are nearly all of a busy ledger, and a report looks them up
                -- by time, never by request.
                CREATE INDEX ledger_entries_access_request
                    ON ledger_entries (json_extract(CAST(entry AS TEXT), '$.body.request'))
                    WHERE kind IN ('access.requested', 'access.auto_approved', 'access.approved', 'access.denied',
                        'access.dismissed', 'access.break_glass');
                """),
        SchemaMigration(
            version: 8,
            name: "governance: lifecycle event order and late-event grace; who filed access requests and who set "
                + "customer approval",
            sql: """
                -- Lifecycle events: the time of the latest non-activity event (later ones may not be dated
                -- before it) and when the latest clock-moving event was recorded (no retention action falls due
                -- within the policy's grace after it). Both are filled from the ledger's tenant.event entries,
                -- read once and grouped: its body.at is RFC 3339, which julianday() reads. The recording time
                -- counts every non-activity event, which can only hold an action longer, never shorter.
                ALTER TABLE tenants ADD COLUMN last_event_at INTEGER;
                ALTER TABLE tenants ADD COLUMN clocks_moved_recorded_at INTEGER;
                UPDATE tenants SET last_event_at = latest.at, clocks_moved_recorded_at = latest.recorded
                FROM (
                    SELECT json_extract(CAST(entry AS TEXT), '$.tenant') AS tenant,
                        max(CAST(round((julianday(json_extract(CAST(entry AS TEXT), '$.body.at')) - 2440587.5)
                            * 86400000) AS INTEGER)) AS at,
                        max(json_extract(CAST(entry AS TEXT), '$.time')) AS recorded
                    FROM ledger_entries
                    WHERE kind = 'tenant.event' AND json_extract(CAST(entry AS TEXT), '$.body.event') != 'activity'
                    GROUP BY 1
                ) AS latest
                WHERE tenants.id = latest.tenant;
                -- Customer approval switched on by the tenant's own administrator can be lifted only by one:
                -- set where the latest tenant.customer_approval entry switched it on and its actor is a token
                -- scoped to that tenant.
                ALTER TABLE tenants ADD COLUMN customer_approval_by_tenant INTEGER NOT NULL DEFAULT 0;
                UPDATE tenants SET customer_approval_by_tenant = 1
                WHERE customer_approval = 1 AND EXISTS (
                    SELECT 1 FROM tokens WHERE tokens.tenant = tenants.id AND tokens.name = (
                        SELECT json_extract(CAST(entry AS TEXT), '$.actor') FROM ledger_entries
                        WHERE kind = 'tenant.customer_approval'
                            AND json_extract(CAST(entry AS TEXT), '$.tenant') = tenants.id
                        ORDER BY idx DESC LIMIT 1));
                -- Who filed each access request (the one who filed never decides): the actor of its filing entry.
                -- The kind list repeats the partial index's WHERE clause so that SQLite can use the index.
                UPDATE access_requests SET record = json_set(record, '$.filed_by', (
                    SELECT json_extract(CAST(entry AS TEXT), '$.actor')
                    FROM ledger_entries INDEXED BY ledger_entries_access_request
                    WHERE kind IN ('access.requested', 'access.auto_approved', 'access.approved', 'access.denied',
                            'access.dismissed', 'access.break_glass')
                        AND kind IN ('access.requested', 'access.auto_approved', 'access.break_glass')
                        AND json_extract(CAST(entry AS TEXT), '$.body.request') = access_requests.id
                    ORDER BY idx LIMIT 1))
                WHERE json_extract(record, '$.filed_by') IS NULL;
                """),
        SchemaMigration(
            version: 9, name: "ledger: published checkpoints, cosigned by a quorum of witnesses",
            sql: """
                -- A signed checkpoint is published once a quorum of witnesses cosigned it: the note with the log's
                -- signature and every witness cosignature received. Append-only like the ledger itself.
                CREATE TABLE ledger_published (
                    size INTEGER PRIMARY KEY,
                    note TEXT NOT NULL,
                    cosigners TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                ) STRICT;
                CREATE TRIGGER ledger_published_no_update BEFORE UPDATE ON ledger_published
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: published checkpoints cannot be changed'); END;
                CREATE TRIGGER ledger_published_no_delete BEFORE DELETE ON ledger_published
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: published checkpoints cannot be deleted'); END;
                """),
        SchemaMigration(
            version: 10, name: "regional services: enrolment, pinned keys, signed assignments, delivered events",
            sql: """
                -- One row per enrolled regional service: its endpoint, the pin of its key once it joined (NULL
                -- while a join code is open), the open code's secret and expiry (cleared when used), and what the
                -- controller last heard from it.
                CREATE TABLE regional_services (
                    region TEXT PRIMARY KEY NOT NULL,
                    site TEXT NOT NULL,
                    endpoint TEXT NOT NULL,
                    pin TEXT,
                    join_secret BLOB,
                    join_expires_at INTEGER,
                    enrolled_at INTEGER,
                    last_contact_at INTEGER,
                    last_error TEXT,
                    version TEXT,
                    tenants INTEGER,
                    free_disk_bytes INTEGER,
                    pending_events INTEGER,
                    witness_key TEXT
                ) STRICT;
                -- The signed assignment in force for each tenant (its epoch grows with every change).
                CREATE TABLE tenant_assignments (
                    tenant TEXT PRIMARY KEY NOT NULL REFERENCES tenants (id),
                    epoch INTEGER NOT NULL CHECK (epoch >= 1),
                    signed BLOB NOT NULL
                ) STRICT;
                -- Assignments a regional service has still to receive.
                CREATE TABLE assignment_deliveries (
                    region TEXT NOT NULL,
                    tenant TEXT NOT NULL,
                    epoch INTEGER NOT NULL,
                    PRIMARY KEY (region, tenant)
                ) STRICT, WITHOUT ROWID;
                -- Events a regional service queued and the ledger recorded: an event delivered again is
                -- recognised by (region, seq) and recorded once.
                -- The state of each support grant last delivered to its tenant's regional service.
                CREATE TABLE grant_deliveries (
                    request TEXT PRIMARY KEY NOT NULL,
                    region TEXT NOT NULL,
                    state TEXT NOT NULL,
                    expires_at INTEGER NOT NULL
                ) STRICT;
                CREATE TABLE region_events (
                    region TEXT NOT NULL,
                    seq INTEGER NOT NULL,
                    ledger_index INTEGER NOT NULL,
                    PRIMARY KEY (region, seq)
                ) STRICT, WITHOUT ROWID;
                """),
        SchemaMigration(
            version: 11, name: "console: tenants by country and by name, a tenant's ledger entries",
            sql: """
                -- The console's searches and a tenant's ledger history read an index, never the whole table: a
                -- page view must not cost a scan of 100,000 tenants or a million entries. The ledger expression
                -- is written exactly so in LedgerRepository.indices(tenant:) for SQLite to use it.
                CREATE INDEX tenants_country ON tenants (country, id);
                CREATE INDEX tenants_name ON tenants (lower(name), id);
                CREATE INDEX ledger_entries_tenant
                    ON ledger_entries (json_extract(CAST(entry AS TEXT), '$.tenant'), idx);
                """),
        SchemaMigration(
            version: 12,
            name: "reports: the cross-border figures of each day, kept beside the ledger they add up; tenants by region "
                + "in id order and where every tenant is, read from indexes",
            sql: """
                -- The cross-border report's access figures, added up a day (UTC) at a time for the entries below
                -- report_summary_state.size, so a period's summary sums a few rows a day instead of reading every
                -- access entry in it (CrossBorderSummary folds each stretch of the ledger as it is signed). One row
                -- per day, region and figure key, with the first and last ledger index it counts, so the lines of
                -- a period can be paged through from the first one without a scan.
                CREATE TABLE report_access_days (
                    day INTEGER NOT NULL,
                    region TEXT NOT NULL,
                    destination TEXT NOT NULL,
                    basis TEXT NOT NULL,
                    justification TEXT NOT NULL,
                    staff TEXT NOT NULL,
                    accesses INTEGER NOT NULL CHECK (accesses > 0),
                    first_index INTEGER NOT NULL,
                    last_index INTEGER NOT NULL,
                    PRIMARY KEY (day, region, destination, basis, justification, staff)
                ) STRICT;
                -- Requests whose grant was decided by its own filer, by the day and region of an access under it:
                -- the report counts such grants, distinct, over a period.
                CREATE TABLE report_filer_grants (
                    day INTEGER NOT NULL,
                    region TEXT NOT NULL,
                    request TEXT NOT NULL,
                    PRIMARY KEY (day, region, request)
                ) STRICT;
                -- How much of the ledger the two tables add up: every entry below size. An existing ledger starts
                -- at 0 and is folded in on the controller's next start and checkpoint.
                CREATE TABLE report_summary_state (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    size INTEGER NOT NULL CHECK (size >= 0)
                ) STRICT;
                INSERT INTO report_summary_state (id, size) VALUES (1, 0);
                -- A region's tenants in id order with what a migration plan weighs of them, so a bulk plan pages
                -- through the index alone: (region, status, id) orders by status first, and the planner read every
                -- tenant row of the directory in id order instead.
                CREATE INDEX tenants_region_id ON tenants (region, id, site, status, country);
                -- Where every tenant is, for the residency map and the audit, counted off an index in its order
                -- rather than read from the table (whose rows carry the placement record):
                -- TenantRepository.liveCounts(byCountry:) and locations.
                CREATE INDEX tenants_location ON tenants (region, country, status, id);
                """),
        // SQLite 3.40 compiles `x IN (a, b, c)` with three or more constants into a temporary B-tree built and
        // dropped each time the expression is evaluated: for a CHECK constraint or a partial index's condition,
        // at every row written — three per signup (plan, status, the ledger entry's kind), each a page cache
        // allocated and freed, a third of the committing thread's time in a group of signups. The same
        // conditions as comparisons joined by OR are evaluated in place. Rewritten in the stored schema text (the
        // rows are valid as they are; see `SchemaTextRewrite`), so no table or index is rebuilt.
        SchemaMigration(
            version: 13, name: "constant lists in constraints and index conditions written as comparisons",
            sql: "",
            rewrites: [
                SchemaTextRewrite(
                    object: "tenants", from: "CHECK (plan IN ('trial', 'free', 'paid'))",
                    to: "CHECK (plan = 'trial' OR plan = 'free' OR plan = 'paid')"),
                SchemaTextRewrite(
                    object: "tenants", from: "CHECK (status IN ('active', 'suspended', 'closed', 'deleted'))",
                    to: "CHECK (status = 'active' OR status = 'suspended' OR status = 'closed' OR status = 'deleted')"),
                SchemaTextRewrite(
                    object: "ledger_entries_access_request",
                    from: """
                        WHERE kind IN ('access.requested', 'access.auto_approved', 'access.approved', 'access.denied',
                                'access.dismissed', 'access.break_glass')
                        """,
                    to: "WHERE " + LedgerRepository.accessRequestKinds),
            ]),
        // The residency map and the audit compare every tenant's location with the data on disk and count tenants
        // per region and country: 100,000 rows read per view. They keep what they read in memory with this
        // counter's value and read again only when it moved. Triggers keep it, so no writer can change where a
        // tenant is without moving it — this controller, another process on the file, or the sqlite3 shell —
        // and it is read in the same transaction as the rows it vouches for. An UPDATE moves it only when a
        // column the locations hold changed (the lifecycle clocks rewrite status unchanged).
        SchemaMigration(
            version: 14, name: "tenants: a change counter for where tenants are, kept by triggers",
            sql: """
                CREATE TABLE tenant_location_changes (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    changes INTEGER NOT NULL CHECK (changes >= 0)
                ) STRICT;
                INSERT INTO tenant_location_changes (id, changes) VALUES (1, 0);
                CREATE TRIGGER tenant_location_inserted AFTER INSERT ON tenants
                    BEGIN UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1; END;
                CREATE TRIGGER tenant_location_deleted AFTER DELETE ON tenants
                    BEGIN UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1; END;
                CREATE TRIGGER tenant_location_updated AFTER UPDATE OF id, region, country, status ON tenants
                    WHEN OLD.id IS NOT NEW.id OR OLD.region IS NOT NEW.region OR OLD.country IS NOT NEW.country
                        OR OLD.status IS NOT NEW.status
                    BEGIN UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1; END;
                """),
        // After a change the map and the audit re-read only the tenants that changed, not all 100,000: the same
        // triggers that move the counter note each change — its number and the tenant — in a ring of 8,192 rows,
        // row `change % 8192` overwritten in place (`TenantRepository.locationLog`). A view that kept what it read
        // at counter N reads the entries after N in the transaction it reads the counter in; when every one is
        // there it re-reads those tenants only, otherwise (more than 8,192 changes since, a row overwritten or
        // damaged) everything as before. The rows are made here once and only ever updated, each the size it
        // keeps (a placeholder id as long as a tenant id, a change number that only shrinks), so a signup's
        // INSERT changes one more page in place and never splits one. Nothing in the log can fail a constraint:
        // inside a trigger the outer statement's conflict policy (`INSERT OR ABORT`, `OR IGNORE`, `OR REPLACE`
        // typed by hand) replaces the trigger's own, and a row that could conflict would fail or be skipped with it.
        // `former` is the old id when an UPDATE changed a tenant's id.
        SchemaMigration(
            version: 15, name: "tenants: a ring log of the last 8,192 location changes, kept by the same triggers",
            sql: """
                CREATE TABLE tenant_location_log (
                    slot INTEGER PRIMARY KEY CHECK (slot >= 0 AND slot < \(TenantRepository.locationLogSlots)),
                    change INTEGER,
                    tenant TEXT,
                    former TEXT
                ) STRICT;
                WITH RECURSIVE slots (slot) AS (
                    SELECT 0 UNION ALL SELECT slot + 1 FROM slots WHERE slot < \(TenantRepository.locationLogSlots - 1))
                INSERT INTO tenant_location_log (slot, change, tenant, former)
                    SELECT slot, \(TenantRepository.locationLogPlaceholderChange),
                        '\(TenantRepository.locationLogPlaceholderID)', NULL
                    FROM slots;
                DROP TRIGGER tenant_location_inserted;
                DROP TRIGGER tenant_location_deleted;
                DROP TRIGGER tenant_location_updated;
                CREATE TRIGGER tenant_location_inserted AFTER INSERT ON tenants
                    BEGIN
                        UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1;
                        \(Self.logChange(tenant: "NEW.id", former: "NULL"))
                    END;
                CREATE TRIGGER tenant_location_deleted AFTER DELETE ON tenants
                    BEGIN
                        UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1;
                        \(Self.logChange(tenant: "OLD.id", former: "NULL"))
                    END;
                CREATE TRIGGER tenant_location_updated AFTER UPDATE OF id, region, country, status ON tenants
                    WHEN OLD.id IS NOT NEW.id OR OLD.region IS NOT NEW.region OR OLD.country IS NOT NEW.country
                        OR OLD.status IS NOT NEW.status
                    BEGIN
                        UPDATE tenant_location_changes SET changes = changes + 1 WHERE id = 1;
                        \(Self.logChange(tenant: "NEW.id", former: "CASE WHEN OLD.id IS NOT NEW.id THEN OLD.id END"))
                    END;
                """),
        // A signup's INSERT into tenants fires the location triggers, so SQLite treats it as a statement writing
        // several rows; such a statement that may abort by itself keeps a copy of every page it changes in a
        // statement journal, to undo itself alone. An ABORT constraint makes it so (the insert now says OR
        // ROLLBACK: `TenantRepository.insert`), and so does any function its constraints or indexes call — each
        // could fail. Two did: `lower(name)` in the console's name index and `length(country)` in the country's
        // CHECK. A signup changes about a dozen pages; past SQLite's 64 KiB the journal spills to a temporary file,
        // two writes a page, ~15 of a grouped signup's ~26 writes (measured with strace; the file is gone here).
        // The index orders by the name under NOCASE, which folds exactly the ASCII letters `lower` folds, in the
        // same order. The country is a code CountryCode wrote, two upper-case ASCII letters: kept between 'AA'
        // and 'ZZ', which refuses lower case, digits and the empty string that length() let through but lets
        // through a single letter B–Z or three letters and more in that range (comparisons cannot count
        // characters). A store with a country outside the range is refused, with its rows counted.
        // The same multi-row statement checks foreign keys row by row: each tenant inserted looked for rows
        // referring to it in every table that refers to tenants, and two of those had no index on the reference —
        // every signup read all idempotency keys and all migrations (`EXPLAIN` shows the scans). Indexed now.
        SchemaMigration(
            version: 16,
            name: "tenants: no function in a constraint or index (a signup's insert keeps no statement journal); "
                + "idempotency keys and migrations indexed by tenant",
            sql: """
                DROP INDEX tenants_name;
                CREATE INDEX tenants_name ON tenants (name COLLATE NOCASE, id);
                CREATE INDEX idempotency_keys_tenant ON idempotency_keys (tenant_id);
                CREATE INDEX migrations_tenant ON migrations (tenant);
                """,
            rewrites: [
                SchemaTextRewrite(
                    object: "tenants", from: "CHECK (country IS NULL OR length(country) = 2)",
                    to: "CHECK (country IS NULL OR (country >= 'AA' AND country <= 'ZZ'))",
                    violations:
                        "SELECT count(*) FROM tenants WHERE NOT (country IS NULL OR (country >= 'AA' AND country <= 'ZZ'))")
            ]),
        // A group of 32 concurrent signups wrote ~120 WAL pages (counted from the WAL's frame headers and the pages'
        // owners in `dbstat`, 60,000 signups): a fifth of them in two indexes nothing read any more —
        // tenants_location (17 pages a group: one hot leaf per region and country) and tenants_region_status (13) —
        // and 3 in tenants_status, which only an unused count read. The residency map and the audit read every
        // tenant off tenants_region_id (TenantHomes); a region's page of tenants reads it too (it holds the status,
        // so a filter on it needs no table row). tenants_status now holds only tenants that are not active — every
        // signup is active and writes nothing to it — so that a page of suspended, closed or deleted tenants reads
        // an index rather than every tenant (`TenantRepository.tenants(region:status:after:limit:)`). Signups/s
        // with 64 callers went up by 12–36 % in three alternated runs (README, schema version 17).
        SchemaMigration(
            version: 17,
            name: "tenants: the indexes every signup wrote and nothing read dropped; the status index holds only "
                + "tenants that are not active",
            sql: """
                DROP INDEX tenants_location;
                DROP INDEX tenants_region_status;
                DROP INDEX tenants_status;
                CREATE INDEX tenants_status ON tenants (status, id) WHERE status != 'active';
                """),
        // The Merkle nodes were keyed (level, idx): each level's newest node at the end of its own range, so a group
        // of 32 signups wrote a page at every level that gained a node — 14 of the group's 78 WAL pages (counted
        // as for version 17). Keyed by the tree size that completed the node — `(idx + 1) << level`, the number of
        // leaves up to its last — then level, every append writes at the end of one range: the leaf's node and the
        // parents it completes are consecutive rows, and a group's are one or two pages. Rebuilt by copying (in key
        // order, so the new B-tree is written front to back): a one-off cost at the upgrade, about two rows an
        // entry — 2.8 s for a ledger of a million entries (2 M nodes, sqlite3 on the 2-core dev VM). Same name, same
        // triggers; only the key changed.
        SchemaMigration(
            version: 18, name: "ledger: Merkle nodes keyed by the tree size that completed them, so appends write at one end",
            sql: """
                CREATE TABLE ledger_nodes_by_size (
                    size INTEGER NOT NULL,
                    level INTEGER NOT NULL,
                    hash BLOB NOT NULL CHECK (length(hash) = 32),
                    PRIMARY KEY (size, level),
                    CHECK (level >= 0 AND level < 62 AND size > 0 AND size % (1 << level) = 0)
                ) STRICT, WITHOUT ROWID;
                INSERT INTO ledger_nodes_by_size (size, level, hash)
                    SELECT (idx + 1) << level, level, hash FROM ledger_nodes ORDER BY (idx + 1) << level, level;
                DROP TABLE ledger_nodes;
                ALTER TABLE ledger_nodes_by_size RENAME TO ledger_nodes;
                CREATE TRIGGER ledger_nodes_no_update BEFORE UPDATE ON ledger_nodes
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: tree nodes cannot be changed'); END;
                CREATE TRIGGER ledger_nodes_no_delete BEFORE DELETE ON ledger_nodes
                    BEGIN SELECT RAISE(ABORT, 'the ledger is append-only: tree nodes cannot be deleted'); END;
                """),
    ]

    /// A trigger's statement noting the change the counter just counted in its row of the ring log. The counter is
    /// read by two scalar subqueries (one row each, by its key): `UPDATE … FROM` would compile a temporary table
    /// into every signup's INSERT, what version 13 took out of it.
    private static func logChange(tenant: String, former: String) -> String {
        let counter = "(SELECT changes FROM tenant_location_changes WHERE id = 1)"
        return """
            UPDATE tenant_location_log SET change = \(counter), tenant = \(tenant), former = \(former)
                                    WHERE slot = \(counter) % \(TenantRepository.locationLogSlots);
            """
    }

    package static var latestVersion: Int { migrations.last?.version ?? 0 }
}
