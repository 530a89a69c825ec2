import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// The residency map and the audit keep what they read of every tenant between views (`TenantLocationsMemo`,
/// `DataPlaneComparison.Memo`), trusting it only while the tenants table's change counter and the folders'
/// listings stand still, and after a change re-reading only the tenants the log of changes (schema 15) names.
/// These tests change the directory behind a controller's back — another controller on the same store, SQL
/// written by hand on another connection — and a file on disk, and require the next view to show it, equal to what
/// a controller opened afresh (nothing kept) sees; they count what was read to get there. On SQLite and, with RESIDENCY_TEST_POSTGRES
/// set, on PostgreSQL (a fresh schema per run, as several controllers share one).
@Suite struct ResidencyMapChangesTests {
    /// Where the test's tables are: nil for the data directory's SQLite file, or a PostgreSQL URL and its schema.
    struct Store {
        let url: String?
        let schema: String?

        init?(_ backend: String) throws {
            guard backend == "postgres" else {
                url = nil
                schema = nil
                return
            }
            guard let base = ProcessInfo.processInfo.environment["RESIDENCY_TEST_POSTGRES"], !base.isEmpty else {
                print(
                    "skipping the PostgreSQL case: RESIDENCY_TEST_POSTGRES is not set (Scripts/postgres-cluster start)")
                return nil
            }
            let schema = "map_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            try Database(postgresURL: base).execute("CREATE SCHEMA \(schema)")
            self.schema = schema
            url = base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
        }

        /// SQL run on a connection of its own, as a person at a shell would: the sqlite3 file opened directly, or
        /// a PostgreSQL session on its default search path naming the store's tables by their schema.
        func byHand(_ sql: (_ tenants: String) -> String, directory: URL) throws {
            if let schema, let base = ProcessInfo.processInfo.environment["RESIDENCY_TEST_POSTGRES"] {
                try Database(postgresURL: base).execute(sql("\(schema).tenants"))
            } else {
                let file = directory.appendingPathComponent(DataDirectory.databaseFileName).path
                let database = try Database(path: file)
                try database.write { try database.execute(sql("tenants")) }
            }
        }
    }

    static func open(_ directory: URL, _ store: Store) throws -> Controller {
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(directory: DataDirectory(directory, store: store.url ?? "sqlite"))
        return try Controller(policies: policies, locator: nil, pool: pool, dataDirectory: directory)
    }

    /// What a view of the map shows: tenants per region and country, the violations and their counts.
    struct MapView: Equatable {
        let regions: [String]
        let countries: [String]
        let violations: [String]
        let counts: [String: Int]
        let checked: Int

        init(_ controller: Controller) throws {
            let map = try controller.reports.residencyMapReport(listed: 100, by: "auditor")
            regions = map.regions.map { "\($0.region)=\($0.tenants)" }
            countries = map.countries.map { "\($0.country)/\($0.region)=\($0.tenants)" }
            violations = map.violations.map { "\($0.kind) \($0.tenant) \($0.location)" }
            let audit = try controller.reports.audit(record: false, by: "auditor")
            counts = audit.countsByKind
            checked = audit.checked
        }
    }

    /// Every region folder's mtime a minute back, so the listings of unchanged folders are reused between views
    /// and only the change counter can tell the controller that the directory moved.
    static func ageFolders(_ plane: DataPlane) throws {
        var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        for region in try plane.regionsOnDisk() {
            #expect(utimensat(AT_FDCWD, plane.directory(region: region).path, &times, 0) == 0)
        }
        #expect(utimensat(AT_FDCWD, plane.root.path, &times, 0) == 0)
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aChangeByAnyoneIsInTheNextView(_ backend: String) throws {
        guard let store = try Store(backend) else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-mapmemo-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let controller = try Self.open(directory, store)
        let other = try Self.open(directory, store)
        func signUp(_ on: Controller, _ country: String) throws -> String {
            try on.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode(country))).tenant.id
        }
        let french = try signUp(controller, "FR")
        _ = try signUp(controller, "GB")
        let plane = try #require(controller.dataPlane)
        try Self.ageFolders(plane)
        func fresh() throws -> MapView { try MapView(try Self.open(directory, store)) }

        let clean = try MapView(controller)
        #expect(clean.violations.isEmpty && clean.checked == 2)
        #expect(clean.regions.contains("eu=1") && clean.regions.contains("uk=1"))
        let reads = controller.reports.locationsMemo.readsOfEveryHome
        #expect(try MapView(controller) == clean)
        #expect(controller.reports.locationsMemo.readsOfEveryHome == reads, "nothing changed: the homes are reused")

        // Another controller signs a tenant up: its data file appears and the directory moves. The log of changes
        // names that tenant alone: it is read, not every tenant again.
        let patched = controller.reports.locationsMemo.tenantsReadToPatch
        let american = try signUp(other, "US")
        let signedUp = try MapView(controller)
        #expect(controller.reports.locationsMemo.readsOfEveryHome == reads, "the log named the change")
        #expect(controller.reports.locationsMemo.tenantsReadToPatch == patched + 1)
        #expect(signedUp.regions.contains("us=1") && signedUp.checked == 3 && signedUp.violations.isEmpty)
        #expect(signedUp == (try fresh()))

        // By hand, on a connection of its own: the French tenant's home set to the US, no file touched (the folders
        // aged, so their listings are reused): only the tenants table's counter says that anything changed.
        try Self.ageFolders(plane)
        let readsBefore = controller.reports.locationsMemo.readsOfEveryHome
        #expect(try MapView(controller) == signedUp)  // listed again (the mtimes moved), then reused as they are
        #expect(controller.reports.locationsMemo.readsOfEveryHome == readsBefore)
        try store.byHand(
            { "UPDATE \($0) SET region = 'us', site = 'us-ashburn' WHERE id = '\(french)'" }, directory: directory)
        let moved = try MapView(controller)
        #expect(moved.regions.contains("us=2") && moved.regions.contains("eu=0"))
        #expect(moved.counts["missing_data"] == 1)  // its home folder (us) has no file for it
        #expect(moved.violations.contains { $0.hasPrefix("missing_data \(french) us") })
        // Its file, away from home: a residency violation at the eu site, or a stray copy in eu.
        #expect(moved.violations.contains { $0.contains(" \(french) eu") }, "\(moved.violations)")
        #expect(moved == (try fresh()))

        // Deleted by the other controller's directory (status only: the row stays), then a file removed by hand.
        try Self.ageFolders(plane)
        #expect(try MapView(controller) == moved)
        try store.byHand({ "UPDATE \($0) SET status = 'deleted' WHERE id = '\(american)'" }, directory: directory)
        let deleted = try MapView(controller)
        #expect(deleted.regions.contains("us=1"))
        #expect(deleted.violations.contains("deleted_data_present \(american) us"))
        #expect(deleted == (try fresh()))
        try Self.ageFolders(plane)
        try FileManager.default.removeItem(atPath: plane.path(region: "us", tenant: american))
        let removed = try MapView(controller)
        #expect(!removed.violations.contains { $0.contains(american) })
        #expect(removed.checked == 2)
        #expect(removed == (try fresh()))
    }

    /// A tenant row inserted by hand, with no data file (so it misses its data).
    static func handRow(_ id: String, region: String = "eu", country: String = "DE") -> String {
        "('\(id)', 'Hand', 'paid', '\(country)', '\(region)', '\(region == "eu" ? "eu-de-frankfurt" : region + "-1")', "
            + "'active', 1, 'abc', '{}')"
    }
    static let columns = "id, name, plan, country, region, site, status, created_at, policy_version, placement"

    /// After each change — an insert, a region move, a status change, a new id, a delete, by another controller or
    /// by hand — the view re-reads only the tenants the log names (the counts say so) and equals a controller's
    /// opened afresh; the folders unchanged, the comparison with them is patched, not worked out again.
    @Test(arguments: ["sqlite", "postgres"])
    func aFewChangesReReadOnlyTheirTenants(_ backend: String) throws {
        guard let store = try Store(backend) else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-mappatch-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let controller = try Self.open(directory, store)
        let other = try Self.open(directory, store)
        var ids: [String] = []
        for country in ["FR", "GB", "US", "DE", "FR"] {
            ids.append(
                try controller.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode(country)))
                    .tenant.id)
        }
        let plane = try #require(controller.dataPlane)
        try Self.ageFolders(plane)
        func fresh() throws -> MapView { try MapView(try Self.open(directory, store)) }
        let memo = controller.reports.locationsMemo
        _ = try MapView(controller)
        #expect(try MapView(controller) == (try fresh()))
        let fullReads = memo.readsOfEveryHome
        let compared = controller.reports.dataPlaneComparisons.comparedAfresh

        /// Makes `change`, then views: the view re-read `tenants` tenants, none in full, and equals a fresh one.
        func check(_ what: String, reReads tenants: Int, _ change: () throws -> Void) throws -> MapView {
            let before = memo.tenantsReadToPatch
            try change()
            let view = try MapView(controller)
            #expect(memo.readsOfEveryHome == fullReads, "\(what): every tenant read again")
            #expect(memo.tenantsReadToPatch == before + tenants, "\(what)")
            #expect(controller.reports.dataPlaneComparisons.comparedAfresh == compared, "\(what): compared afresh")
            #expect(view == (try fresh()), "\(what)")
            return view
        }
        let hand = "tn_0000000000000000000a01"
        let renamed = "tn_0000000000000000000a02"
        let inserted = try check("an insert by hand", reReads: 1) {
            try store.byHand(
                { "INSERT INTO \($0) (\(Self.columns)) VALUES \(Self.handRow(hand))" }, directory: directory)
        }
        #expect(inserted.violations.contains("missing_data \(hand) eu"))
        let moved = try check("a region move by another controller", reReads: 1) {
            try other.pool.write { try TenantRepository($0).move(id: ids[0], region: "uk", site: "uk-london") }
        }
        #expect(moved.violations.contains { $0.hasPrefix("missing_data \(ids[0]) uk") })
        _ = try check("a status change by hand", reReads: 1) {
            try store.byHand({ "UPDATE \($0) SET status = 'deleted' WHERE id = '\(ids[1])'" }, directory: directory)
        }
        _ = try check("a country change by hand", reReads: 1) {
            try store.byHand({ "UPDATE \($0) SET country = 'IT' WHERE id = '\(ids[3])'" }, directory: directory)
        }
        let renaming = try check("a new id by hand", reReads: 2) {
            try store.byHand({ "UPDATE \($0) SET id = '\(renamed)' WHERE id = '\(hand)'" }, directory: directory)
        }
        #expect(renaming.violations.contains("missing_data \(renamed) eu"))
        #expect(!renaming.violations.contains { $0.contains(hand) })
        _ = try check("two changes of one tenant and one of another", reReads: 2) {
            try store.byHand({ "UPDATE \($0) SET region = 'us' WHERE id = '\(renamed)'" }, directory: directory)
            try store.byHand({ "UPDATE \($0) SET status = 'suspended' WHERE id = '\(renamed)'" }, directory: directory)
            try store.byHand({ "UPDATE \($0) SET status = 'closed' WHERE id = '\(ids[4])'" }, directory: directory)
        }
        _ = try check("a delete by hand", reReads: 1) {
            try store.byHand({ "DELETE FROM \($0) WHERE id = '\(renamed)'" }, directory: directory)
        }
    }

    /// When the log cannot vouch for every change since the kept read — more than its 8,192 rows, a counter moved
    /// backwards (a file restored), a TRUNCATE — or names too many tenants (a mass delete), the view reads every
    /// tenant again, and is right.
    @Test(arguments: ["sqlite", "postgres"])
    func whatTheLogCannotVouchForIsReadInFull(_ backend: String) throws {
        guard let store = try Store(backend) else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-mapfull-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let controller = try Self.open(directory, store)
        for country in ["FR", "GB", "US"] {
            _ = try controller.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode(country)))
        }
        let plane = try #require(controller.dataPlane)
        try Self.ageFolders(plane)
        func fresh() throws -> MapView { try MapView(try Self.open(directory, store)) }
        let memo = controller.reports.locationsMemo
        _ = try MapView(controller)
        /// Makes `change`, then views: every tenant was read again, and the view equals a fresh one.
        func check(_ what: String, _ change: () throws -> Void) throws {
            let before = memo.readsOfEveryHome
            try change()
            let view = try MapView(controller)
            #expect(memo.readsOfEveryHome == before + 1, "\(what)")
            #expect(view == (try fresh()), "\(what)")
            #expect(try MapView(controller) == view && memo.readsOfEveryHome == before + 1, "\(what): then kept")
        }
        let many = 8_300
        try check("more changes than the log holds") {
            let values =
                "'tn_00000000' || lpad(CAST(i AS text), 12, '0') || 'aa', 'Hand', 'paid', 'DE', 'eu', "
                + "'eu-de-frankfurt', 'active', 1, 'abc', '{}'"
            if store.schema != nil {
                try store.byHand(
                    { "INSERT INTO \($0) (\(Self.columns)) SELECT \(values) FROM generate_series(1, \(many)) AS i" },
                    directory: directory)
            } else {
                // SQLite has no lpad: the number is padded by a substring of zeros.
                let sqliteValues =
                    "'tn_00000000' || substr('000000000000' || i, -12, 12) || 'aa', 'Hand', 'paid', 'DE', 'eu', "
                    + "'eu-de-frankfurt', 'active', 1, 'abc', '{}'"
                try store.byHand(
                    {
                        "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(many)) "
                            + "INSERT INTO \($0) (\(Self.columns)) SELECT \(sqliteValues) FROM n"
                    }, directory: directory)
            }
        }
        try check("a mass delete") {
            try store.byHand(
                { "DELETE FROM \($0) WHERE name = 'Hand' AND id < 'tn_00000000000000001101'" }, directory: directory)
        }
        try check("the counter moved backwards, as a file restored from a copy") {
            try store.byHand(
                { tenants in
                    let counter = tenants.replacingOccurrences(of: "tenants", with: "tenant_location_changes")
                    return "UPDATE \(counter) SET changes = changes - 3 WHERE id = 1"
                }, directory: directory)
        }
        if store.schema != nil {
            try check("a TRUNCATE") {
                try store.byHand({ "TRUNCATE \($0) CASCADE" }, directory: directory)
            }
        }
    }
}
