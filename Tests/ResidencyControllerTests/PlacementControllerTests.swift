import Foundation
import ResidencyCore
import Testing

@testable import ResidencyController

/// `residency place` asks a controller that stores nothing: occupancy comes from the data directory when one is
/// there, and none is created when it is not.
@Suite struct PlacementControllerTests {
    @Test func occupancyIsReadFromTheDataDirectoryAndNothingIsWritten() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-place-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let writer = try LifecycleTests.open(directory, clock: TestClock().clock)
        _ = try writer.directory.signUp(Signup(name: "A", plan: .paid, declaredCountry: CountryCode("GB")))
        let size = try writer.ledger.size()

        let placing = try Controller.forPlacement(
            policies: writer.policies, locator: nil, occupancyFrom: directory)
        #expect(placing.directory.tenantCounts["uk"] == 1)
        #expect(placing.directory.place(PlacementRequest(declaredCountry: CountryCode("GB"))).region == "uk")
        #expect(placing.dataDirectory == nil)
        #expect(try writer.ledger.size() == size)
    }

    @Test func aMissingDataDirectoryIsNotCreated() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-place-\(UUID())")
        let policies = try PolicySet.load(
            regions: AccessExpiryTests.root.appendingPathComponent("Regions"),
            policies: AccessExpiryTests.root.appendingPathComponent("Policies"))
        let placing = try Controller.forPlacement(policies: policies, locator: nil, occupancyFrom: directory)
        #expect(placing.directory.tenantCounts.values.allSatisfy { $0 == 0 })
        #expect(!FileManager.default.fileExists(atPath: directory.path))
    }
}
