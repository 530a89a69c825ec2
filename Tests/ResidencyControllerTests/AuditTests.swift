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
