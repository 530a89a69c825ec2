import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// A signup's placement preview, taken before the write from the counts this process last knew, never decides:
/// the write places the tenant again against the counts of its own transaction.
@Suite struct SignupPreviewTests {
    /// A copy of the shipped catalog whose `uk` region holds one tenant.
    static func catalogWithFullUK() throws -> URL {
        let root = AccessExpiryTests.root
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-regions-\(UUID())")
        try FileManager.default.copyItem(at: root.appendingPathComponent("Regions"), to: directory)
        let uk = directory.appendingPathComponent("uk.json")
        let text = try String(contentsOf: uk, encoding: .utf8)
        #expect(text.contains("\"capacity\": 500000"))
        try text.replacingOccurrences(of: "\"capacity\": 500000", with: "\"capacity\": 1")
            .write(to: uk, atomically: true, encoding: .utf8)
        return directory
    }

    static func controller(_ directory: URL, regions: URL) throws -> Controller {
        let policies = try PolicySet.load(
            regions: regions, policies: AccessExpiryTests.root.appendingPathComponent("Policies"))
        return try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(directory: DataDirectory(directory)))
    }

    @Test func aStalePreviewDoesNotPlaceATenantInARegionAnotherProcessFilled() throws {
        let regions = try Self.catalogWithFullUK()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-preview-\(UUID())")
        defer {
            try? FileManager.default.removeItem(at: regions)
            try? FileManager.default.removeItem(at: directory)
        }
        // Two controllers on one store, as a server and a `residency` command beside it.
        let server = try Self.controller(directory, regions: regions)
        let beside = try Self.controller(directory, regions: regions)
        #expect(server.context.occupancy.lastKnown["uk", default: 0] == 0)
        let first = try beside.directory.signUp(Signup(name: "Ada", plan: .paid, declaredCountry: CountryCode("GB")))
        #expect(first.tenant.region == "uk")
        // The server has not looked since: its hint still shows room, and reading it does not look either.
        #expect(server.context.occupancy.lastKnown["uk", default: 0] == 0)

        // Asked for uk, the server's signup is refused by the write's own count, not placed by the preview.
        #expect {
            try server.directory.signUp(
                Signup(name: "Grace", plan: .paid, declaredCountry: CountryCode("GB"), requestedRegion: "uk"))
        } throws: { error in
            guard case ControllerError.placementRefused(let decision) = error else { return false }
            return decision.refusal != nil
        }
        // Not asked: the UK choice's other region (uk is full), and the stored decision is the write's.
        let placed = try server.directory.signUp(
            Signup(name: "Edsger", plan: .paid, declaredCountry: CountryCode("GB")))
        #expect(placed.tenant.region == "eu")
        #expect(placed.placement["region"] == .string("eu"))
        let stored = try server.directory.tenant(id: placed.tenant.id)
        #expect(stored.placement["region"] == .string("eu"))
        let counts = try server.pool.read { try TenantRepository($0).liveCounts() }
        #expect(counts["uk"] == 1)
        // The write read the counts again: the hint has caught up.
        #expect(server.context.occupancy.lastKnown["uk"] == 1)
    }
}
