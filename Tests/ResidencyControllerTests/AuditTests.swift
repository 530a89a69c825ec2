import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

@Suite struct AuditTests {
    let directory: URL
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-audit-\(UUID())")
        controller = try MigrationTests.open(directory)
    }

    func signUp(_ country: String) throws -> String {
        try controller.directory.signUp(Signup(name: "T", plan: .paid, declaredCountry: CountryCode(country))).tenant.id
    }

    @Test func aCleanDataPlaneHasNoViolations() throws {
        _ = try signUp("FR")
        _ = try signUp("GB")
        let result = try controller.reports.audit(by: "auditor")
        #expect(result.violations.isEmpty)
        #expect(result.checked == 2)
    }

    /// With no tenant data on disk the missing data is counted by the database and only the kept violations are
    /// read: the same violations, in the same (id) order, as the walk over every tenant gives once some data is
    /// on disk; a bounded audit keeps the first ones and still counts them all; the residency map page lists a
    /// page and counts the rest.
    @Test func missingDataIsCountedInFullAndListedAsFarAsAsked() throws {
        var ids: [String] = []
        for country in ["FR", "GB", "US", "IN", "DE", "SG", "AU"] { ids.append(try signUp(country)) }
        let plane = controller.dataPlane!
        for id in ids { try plane.purge(region: try controller.directory.tenant(id: id).tenant.region, tenant: id) }
        let inventory = try controller.reports.readInventory(
            "tenant,data_class,location\ntn_ffffffffffffffffffffff,logs,GB\n", file: "inventory.csv")
        let none = try controller.reports.audit(inventory: inventory, record: false, by: "auditor")
        #expect(none.violations.map(\.tenant) == ids.sorted() + ["tn_ffffffffffffffffffffff"])
        #expect(none.violations.dropLast().allSatisfy { $0.kind == "missing_data" })
        #expect(none.violationCount == 8 && none.countsByKind == ["missing_data": 7, "unknown_tenant": 1])
        for keep in [0, 3, 7, 8] {
            let kept = try controller.reports.audit(
                inventory: inventory, record: false, keepViolations: keep, by: "auditor")
            #expect(kept.violations == Array(none.violations.prefix(keep)))
            #expect(kept.violationCount == 8 && kept.countsByKind == none.countsByKind)
        }
        // One tenant's data back on disk: now every tenant is walked, and the rest are the same violations.
        try plane.provision(region: try controller.directory.tenant(id: ids[0]).tenant.region, tenant: ids[0])
        let walked = try controller.reports.audit(inventory: inventory, record: false, by: "auditor")
        #expect(walked.violations == none.violations.filter { $0.tenant != ids[0] })
        let map = try controller.reports.residencyMapReport(listed: 2, by: "auditor")
        #expect(
            map.violations
                == Array(walked.violations.prefix(2)).map {
                    ResidencyMapReport.ViolationRow(
                        kind: $0.kind, tenant: $0.tenant, dataClass: $0.dataClass, location: $0.location, rule: $0.rule)
                })
        // The map's audit has no inventory: the six tenants still missing their data.
        #expect(map.violationCount == 6)
        #expect(map.html.contains("The first 2 of 6 are listed here"))
        #expect(map.jsonValue["summary"]?["violations"] == .integer(6))
        #expect(map.regions.reduce(0) { $0 + $1.tenants } == 7)
    }

    @Test func everyKindOfViolationIsFound() throws {
        let french = try signUp("FR")
        let british = try signUp("GB")
        let plane = controller.dataPlane!
        // A French tenant's copy in the UK: policy forbids it.
        try plane.provision(region: "uk", tenant: french)
        // A British tenant's data lost from its home.
        try plane.purge(region: "uk", tenant: british)
        // Data for nobody.
        try plane.provision(region: "us", tenant: "tn_0000000000000000000000")
        let inventory = try controller.reports.readInventory(
            """
            tenant,data_class,location,store
            \(french),backups,eu-de-frankfurt,backup-bucket
            \(french),analytics,US,warehouse
            \(british),logs,GB,log-store
            tn_ffffffffffffffffffffff,logs,GB,log-store
            """, file: "inventory.csv")
        let result = try controller.reports.audit(inventory: inventory, by: "auditor")
        let kinds = result.violations.map {
            "\($0.kind) \($0.tenant == french ? "FR" : $0.tenant == british ? "GB" : "?")"
        }
        #expect(
            Set(kinds) == [
                "residency_violation FR", "missing_data GB", "unknown_tenant ?",
            ])
        #expect(result.violations.count == 5)  // FR in the UK, FR analytics in the US, GB missing, two unknown
        let analytics = result.violations.first { $0.dataClass == "analytics" }
        #expect(analytics?.source == "warehouse (line 3)")
        #expect(analytics?.rule?.hasPrefix("class-analytics") == true)
    }

    /// Every region folder's mtime a minute back, so the audit's listings of them may be reused.
    func ageFolders() throws {
        let plane = controller.dataPlane!
        var times = [timespec(tv_sec: time(nil) - 60, tv_nsec: 0), timespec(tv_sec: time(nil) - 60, tv_nsec: 0)]
        for region in try plane.regionsOnDisk() {
            #expect(utimensat(AT_FDCWD, plane.directory(region: region).path, &times, 0) == 0)
        }
        #expect(utimensat(AT_FDCWD, plane.root.path, &times, 0) == 0)
    }

    /// What an audit of a controller opened afresh (nothing listed before) finds.
    func uncachedAudit() throws -> AuditResultSnapshot {
        AuditResultSnapshot(try MigrationTests.open(directory).reports.audit(record: false, by: "auditor"))
    }

    struct AuditResultSnapshot: Equatable {
        let checked: Int
        let violations: [ReportService.AuditViolation]
        let counts: [String: Int]
        init(_ result: ReportService.AuditResult) {
            checked = result.checked
            violations = result.violations
            counts = result.countsByKind
        }
    }

    /// The audit's folder listings are reused between views only while the folders prove unchanged: a file copied
    /// in or removed by hand, or a whole region folder added, is in the next view, and every view equals the audit
    /// of a controller that never listed the folders before.
    @Test func filesChangedByHandAreSeenAtTheNextView() throws {
        let french = try signUp("FR")
        let british = try signUp("GB")
        let plane = controller.dataPlane!
        try ageFolders()
        func view() throws -> AuditResultSnapshot {
            AuditResultSnapshot(try controller.reports.audit(record: false, by: "auditor"))
        }
        let clean = try view()
        #expect(clean.violations.isEmpty && clean.checked == 2)
        #expect(try view() == clean)
        // A French tenant's database copied into the UK folder by hand.
        try FileManager.default.copyItem(
            atPath: plane.path(region: "eu", tenant: french), toPath: plane.path(region: "uk", tenant: french))
        let copied = try view()
        #expect(copied.violations.map(\.kind) == ["residency_violation"])
        #expect(copied == (try uncachedAudit()))
        try ageFolders()
        #expect(try view() == copied)
        // The British tenant's database removed by hand.
        try FileManager.default.removeItem(atPath: plane.path(region: "uk", tenant: british))
        let removed = try view()
        #expect(Set(removed.violations.map(\.kind)) == ["residency_violation", "missing_data"])
        #expect(removed == (try uncachedAudit()))
        // A region folder nobody provisioned, with data for nobody.
        try ageFolders()
        try FileManager.default.createDirectory(
            at: plane.directory(region: "us"), withIntermediateDirectories: true)
        close(open(plane.path(region: "us", tenant: "tn_0000000000000000000000"), O_WRONLY | O_CREAT, 0o600))
        let stray = try view()
        #expect(stray.violations.contains { $0.kind == "unknown_tenant" && $0.location == "us" })
        #expect(stray == (try uncachedAudit()))
    }

    /// A region folder that cannot be listed fails the audit, naming the folder and the errno; it is not read as
    /// "no data here".
    @Test func anUnlistableRegionFolderIsAnError() throws {
        _ = try signUp("FR")
        let plane = controller.dataPlane!
        // A file where the "us" region's tenants folder belongs (root reads any folder whatever its mode, so the
        // refusal is ENOTDIR here rather than EACCES).
        try FileManager.default.createDirectory(
            at: plane.root.appendingPathComponent("us"), withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: plane.directory(region: "us").path, contents: Data())
        #expect(throws: FolderListingError(folder: plane.directory(region: "us").path, errno: ENOTDIR)) {
            try controller.reports.audit(record: false, by: "auditor")
        }
        #expect(throws: FolderListingError.self) { try controller.reports.residencyMapReport(listed: 10, by: "auditor") }
    }

    @Test func aMalformedInventoryNamesTheLineAndWhatIsAccepted() {
        #expect {
            try controller.reports.readInventory("tenant,class\nx,y\n", file: "inv.csv")
        } throws: { error in
            "\(error)".contains("inv.csv: line 1") && "\(error)".contains("tenant,data_class,location")
        }
        #expect {
            try controller.reports.readInventory(
                "tenant,data_class,location\nx,emails,GB\ny,logs,Atlantis\nz,logs\n", file: "inv.csv")
        } throws: { error in
            let text = "\(error)"
            return text.contains("line 2: data_class \"emails\"; accepted: customer_data")
                && text.contains("line 3: location") && text.contains("line 4: expected 3 fields")
        }
    }
}
