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
        /// Every violation the audit finds, in its order.
        let audit: [String]

        init(_ controller: Controller) throws {
            let map = try controller.reports.residencyMapReport(listed: 100, by: "auditor")
            regions = map.regions.map { "\($0.region)=\($0.tenants)" }
            countries = map.countries.map { "\($0.country)/\($0.region)=\($0.tenants)" }
            violations = map.violations.map { "\($0.kind) \($0.tenant) \($0.location)" }
            let audit = try controller.reports.audit(record: false, by: "auditor")
            counts = audit.countsByKind
            checked = audit.checked
            self.audit = audit.violations.map { "\($0.kind) \($0.tenant) \($0.location)" }
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

    /// What every test starts from: a store, a data directory, a controller over them (and, for changes by
    /// another writer, a second one) with tenants signed up through it, their data files in place and the folders
    /// aged. The directory is removed when the setup goes.
    final class Setup {
        let store: Store
        let directory: URL
        let controller: Controller
        let other: Controller
        let plane: DataPlane
        /// The signed-up tenants' ids, in the order of the countries given.
        let ids: [String]
        var memo: TenantLocationsMemo { controller.reports.locationsMemo }

        /// Nil when `backend` is PostgreSQL and no server is given (the case is skipped).
        init?(_ backend: String, signingUp countries: [String]) throws {
            guard let store = try Store(backend) else { return nil }
            self.store = store
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-map-\(UUID())")
            let controller = try ResidencyMapChangesTests.open(directory, store)
            self.controller = controller
            other = try ResidencyMapChangesTests.open(directory, store)
            ids = try countries.map {
                try controller.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode($0)))
                    .tenant.id
            }
            plane = try #require(controller.dataPlane)
            try ResidencyMapChangesTests.ageFolders(plane)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        /// The view of a controller opened afresh: nothing kept.
        func fresh() throws -> MapView { try MapView(try ResidencyMapChangesTests.open(directory, store)) }

        func byHand(_ sql: (_ tenants: String) -> String) throws { try store.byHand(sql, directory: directory) }

        /// Makes `change`, then views: the view re-read `tenants` tenants one by one and none in full, the
        /// comparison with the folders was patched (not worked out afresh), and the view equals a fresh one.
        @discardableResult
        func expectPatched(
            _ what: String, reReads tenants: Int, sourceLocation: SourceLocation = #_sourceLocation,
            _ change: () throws -> Void
        ) throws -> MapView {
            let comparisons = controller.reports.dataPlaneComparisons
            let (reads, patched, compared) = (
                memo.readsOfEveryHome, memo.tenantsReadToPatch, comparisons.comparedAfresh
            )
            try change()
            let view = try MapView(controller)
            #expect(memo.readsOfEveryHome == reads, "\(what): every tenant read again", sourceLocation: sourceLocation)
            #expect(memo.tenantsReadToPatch == patched + tenants, "\(what)", sourceLocation: sourceLocation)
            #expect(comparisons.comparedAfresh == compared, "\(what): compared afresh", sourceLocation: sourceLocation)
            #expect(view == (try fresh()), "\(what)", sourceLocation: sourceLocation)
            return view
        }

        /// Makes `change`, then views: every tenant was read again, once, the view equals a fresh one, and the next
        /// view keeps it.
        func expectReadInFull(
            _ what: String, sourceLocation: SourceLocation = #_sourceLocation, _ change: () throws -> Void
        ) throws {
            let before = memo.readsOfEveryHome
            try change()
            let view = try MapView(controller)
            #expect(memo.readsOfEveryHome == before + 1, "\(what)", sourceLocation: sourceLocation)
            #expect(view == (try fresh()), "\(what)", sourceLocation: sourceLocation)
            #expect(
                try MapView(controller) == view && memo.readsOfEveryHome == before + 1, "\(what): then kept",
                sourceLocation: sourceLocation)
        }

        /// `count` tenants inserted by hand in one statement (`handID(i, suffix)`, i from 1), homed in eu, with no
        /// data file.
        func insertByHand(_ count: Int, suffix: String) throws {
            // SQLite has no lpad: the number is padded by a substring of zeros.
            let id =
                store.schema != nil
                ? "'tn_00000000' || lpad(CAST(i AS text), 12, '0') || '\(suffix)'"
                : "'tn_00000000' || substr('000000000000' || i, -12, 12) || '\(suffix)'"
            let values = "\(id), 'Hand', 'paid', 'DE', 'eu', 'eu-de-frankfurt', 'active', 1, 'abc', '{}'"
            let columns = ResidencyMapChangesTests.columns
            if store.schema != nil {
                try byHand {
                    "INSERT INTO \($0) (\(columns)) SELECT \(values) FROM generate_series(1, \(count)) AS i"
                }
            } else {
                try byHand {
                    "WITH RECURSIVE n (i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(count)) "
                        + "INSERT INTO \($0) (\(columns)) SELECT \(values) FROM n"
                }
            }
        }
    }

    /// The id `Setup.insertByHand` gives its `i`th tenant.
    static func handID(_ i: Int, _ suffix: String) -> String {
        let digits = String(i)
        return "tn_00000000" + String(repeating: "0", count: 12 - digits.count) + digits + suffix
    }

    @Test(arguments: ["sqlite", "postgres"])
    func aChangeByAnyoneIsInTheNextView(_ backend: String) throws {
        guard let setup = try Setup(backend, signingUp: ["FR", "GB"]) else { return }
        let (store, directory, controller, other, plane) = (
            setup.store, setup.directory, setup.controller, setup.other, setup.plane
        )
        let french = setup.ids[0]
        func signUp(_ on: Controller, _ country: String) throws -> String {
            try on.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode(country))).tenant.id
        }
        func fresh() throws -> MapView { try setup.fresh() }

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
        guard let setup = try Setup(backend, signingUp: ["FR", "GB", "US", "DE", "FR"]) else { return }
        let (ids, other) = (setup.ids, setup.other)
        _ = try MapView(setup.controller)
        #expect(try MapView(setup.controller) == (try setup.fresh()))
        func check(_ what: String, reReads tenants: Int, _ change: () throws -> Void) throws -> MapView {
            try setup.expectPatched(what, reReads: tenants, change)
        }
        let hand = "tn_0000000000000000000a01"
        let renamed = "tn_0000000000000000000a02"
        let inserted = try check("an insert by hand", reReads: 1) {
            try setup.byHand { "INSERT INTO \($0) (\(Self.columns)) VALUES \(Self.handRow(hand))" }
        }
        #expect(inserted.violations.contains("missing_data \(hand) eu"))
        let moved = try check("a region move by another controller", reReads: 1) {
            try other.pool.write { try TenantRepository($0).move(id: ids[0], region: "uk", site: "uk-london") }
        }
        #expect(moved.violations.contains { $0.hasPrefix("missing_data \(ids[0]) uk") })
        _ = try check("a status change by hand", reReads: 1) {
            try setup.byHand { "UPDATE \($0) SET status = 'deleted' WHERE id = '\(ids[1])'" }
        }
        _ = try check("a country change by hand", reReads: 1) {
            try setup.byHand { "UPDATE \($0) SET country = 'IT' WHERE id = '\(ids[3])'" }
        }
        let renaming = try check("a new id by hand", reReads: 2) {
            try setup.byHand { "UPDATE \($0) SET id = '\(renamed)' WHERE id = '\(hand)'" }
        }
        #expect(renaming.violations.contains("missing_data \(renamed) eu"))
        #expect(!renaming.violations.contains { $0.contains(hand) })
        _ = try check("two changes of one tenant and one of another", reReads: 2) {
            try setup.byHand { "UPDATE \($0) SET region = 'us' WHERE id = '\(renamed)'" }
            try setup.byHand { "UPDATE \($0) SET status = 'suspended' WHERE id = '\(renamed)'" }
            try setup.byHand { "UPDATE \($0) SET status = 'closed' WHERE id = '\(ids[4])'" }
        }
        _ = try check("a delete by hand", reReads: 1) {
            try setup.byHand { "DELETE FROM \($0) WHERE id = '\(renamed)'" }
        }
    }

    /// When the log cannot vouch for every change since the kept read — more than its 8,192 rows (a mass insert or
    /// delete), a counter moved backwards (a file restored), a TRUNCATE — the view reads every tenant again, and is
    /// right.
    @Test(arguments: ["sqlite", "postgres"])
    func whatTheLogCannotVouchForIsReadInFull(_ backend: String) throws {
        guard let setup = try Setup(backend, signingUp: ["FR", "GB", "US"]) else { return }
        _ = try MapView(setup.controller)
        let many = 8_300
        try setup.expectReadInFull("more changes than the log holds") { try setup.insertByHand(many, suffix: "aa") }
        try setup.expectReadInFull("a mass delete beyond the log") {
            try setup.byHand { "DELETE FROM \($0) WHERE name = 'Hand'" }
        }
        try setup.expectReadInFull("the counter moved backwards, as a file restored from a copy") {
            try setup.byHand { tenants in
                let counter = tenants.replacingOccurrences(of: "tenants", with: "tenant_location_changes")
                return "UPDATE \(counter) SET changes = changes - 3 WHERE id = 1"
            }
        }
        if setup.store.schema != nil {
            try setup.expectReadInFull("a TRUNCATE") { try setup.byHand { "TRUNCATE \($0) CASCADE" } }
        }
    }

    /// A burst of any size the log vouches for — 1,100 tenants, 8,000 — is patched, not read in full: inserted,
    /// moved to another region, their status changed, deleted, by hand in one statement; some of them with data
    /// files placed before they existed (unknown, then home data or data away from home as they move), the rest
    /// missing their data. Each view equals a fresh controller's.
    @Test(arguments: ["sqlite", "postgres"])
    func burstsThatTheLogVouchesForArePatched(_ backend: String) throws {
        guard let setup = try Setup(backend, signingUp: ["FR", "GB", "US"]) else { return }
        // Files for tenants yet to be inserted: in their coming home (eu) for some, away (uk) for others.
        for i in stride(from: 1, through: 8_000, by: 37) {
            let region = i % 2 == 0 ? "eu" : "uk"
            for suffix in ["bb", "cc"] where suffix == "cc" || i <= 1_100 {
                let path = setup.plane.path(region: region, tenant: Self.handID(i, suffix))
                try FileManager.default.createDirectory(
                    atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
                #expect(FileManager.default.createFile(atPath: path, contents: Data()))
            }
        }
        try Self.ageFolders(setup.plane)
        let before = try MapView(setup.controller)
        #expect(before.counts["unknown_tenant"] == 30 + 217)
        #expect(before == (try setup.fresh()))

        let inserted = try setup.expectPatched("1,100 inserted by hand", reReads: 1_100) {
            try setup.insertByHand(1_100, suffix: "bb")
        }
        #expect(inserted.counts["missing_data"] == 1_100 - 15)
        try setup.expectPatched("8,000 inserted by hand", reReads: 8_000) {
            try setup.insertByHand(8_000, suffix: "cc")
        }
        // The hand-made ids only (`tn_00000000` then digits): a signed-up tenant's random id ends in "bb" or "cc"
        // one time in 256, and matching it too made a burst one tenant larger than counted.
        let moved = try setup.expectPatched("8,000 moved to uk", reReads: 8_000) {
            try setup.byHand { "UPDATE \($0) SET region = 'uk', site = 'uk-london' WHERE id LIKE 'tn_00000000%cc'" }
        }
        #expect(moved.regions.contains("uk=8001"))
        try setup.expectPatched("1,100 suspended", reReads: 1_100) {
            try setup.byHand { "UPDATE \($0) SET status = 'suspended' WHERE id LIKE 'tn_00000000%bb'" }
        }
        try setup.expectPatched("1,100 deleted (status)", reReads: 1_100) {
            try setup.byHand { "UPDATE \($0) SET status = 'deleted' WHERE id LIKE 'tn_00000000%bb'" }
        }
        let gone = try setup.expectPatched("8,000 deleted (rows)", reReads: 8_000) {
            try setup.byHand { "DELETE FROM \($0) WHERE id LIKE 'tn_00000000%cc'" }
        }
        #expect(gone.regions.contains("uk=1"))
    }
}
