import Foundation
import Testing

@testable import ResidencyController

@Suite struct ResourceLocatorTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    @Test func findsDirectoriesAboveTheExecutable() throws {
        let locator = ResourceLocator(
            environment: [:], currentDirectory: FileManager.default.temporaryDirectory,
            executable: Self.root.appendingPathComponent(".build/debug/residency"))
        #expect(try locator.regions(explicit: nil).path == Self.root.appendingPathComponent("Regions").path)
        #expect(try locator.policies(explicit: nil).path == Self.root.appendingPathComponent("Policies").path)
    }

    @Test func explicitPathWinsAndIsChecked() {
        let locator = ResourceLocator(
            environment: [ResourceLocator.regionsVariable: "/nope"], currentDirectory: Self.root, executable: nil)
        #expect(throws: ResourceError.self) { try locator.regions(explicit: nil) }
        #expect(throws: Never.self) { try locator.regions(explicit: "Regions") }
        #expect(throws: ResourceError.self) { try locator.regions(explicit: "Missing") }
    }

    @Test func dataDirectoryDefaults() {
        let locator = ResourceLocator(environment: [:], currentDirectory: URL(fileURLWithPath: "/srv"), executable: nil)
        #expect(locator.dataDirectory(explicit: nil).path == "/srv/residency-data")
        #expect(locator.dataDirectory(explicit: "d").path == "/srv/d")
        let fromEnvironment = ResourceLocator(
            environment: ["RESIDENCY_DATA": "/var/lib/residency"], currentDirectory: URL(fileURLWithPath: "/srv"),
            executable: nil)
        #expect(fromEnvironment.dataDirectory(explicit: nil).path == "/var/lib/residency")
    }
}
