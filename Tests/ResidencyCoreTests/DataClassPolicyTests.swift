import Foundation
import Testing

@testable import ResidencyCore

@Suite struct DataClassPolicyTests {
    let policies: PolicySet
    init() throws { policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies) }

    func verdict(_ dataClass: DataClassPolicy.DataClass, _ region: String, _ country: String) -> ResidencyVerdict {
        policies.dataClasses.check(
            dataClass, region: policies.catalog.region(id: region)!, country: CountryCode(country)!)
    }

    @Test(arguments: [
        (DataClassPolicy.DataClass.customerData, "eu", "FR", true, "class-customer_data-within-jurisdiction"),
        (.customerData, "eu", "US", false, "class-customer_data-within-jurisdiction"),
        (.customerData, "india", "IN", true, "class-customer_data-within-jurisdiction"),
        (.customerData, "india", "SG", false, "class-customer_data-within-jurisdiction"),
        (.backups, "eu", "GB", true, "eu-backups-in-uk"),
        (.backups, "eu", "US", false, "class-backups-within-jurisdiction"),
        (.backups, "uk", "DE", true, "uk-backups-in-eu"),
        (.backups, "uk", "FR", false, "class-backups-within-jurisdiction"),
        (.logs, "us", "US", true, "class-logs-within-jurisdiction"),
        (.analytics, "eu", "DE", true, "class-analytics-within-sites"),
        (.analytics, "eu", "FR", false, "class-analytics-within-sites"),
        (.directory, "australia", "US", true, "class-directory-within-anywhere"),
        (.supportAccess, "uae", "AE", true, "class-support_access-within-jurisdiction"),
    ])
    func rules(dataClass: DataClassPolicy.DataClass, region: String, country: String, allowed: Bool, rule: String) {
        let result = verdict(dataClass, region, country)
        #expect(result.allowed == allowed)
        #expect(result.rule == rule)
    }

    @Test(arguments: [
        (
            "\"class\": \"analytics\"", "\"class\": \"telemetry\"", "$.classes[4].class",
            "accepted values: \"customer_data\""
        ),
        (
            "\"within\": \"sites\"", "\"within\": \"continent\"", "$.classes[4].within",
            "accepted values: \"jurisdiction\", \"sites\", \"anywhere\""
        ),
        ("\"region\": \"uk\"", "\"region\": \"mars\"", "$.exceptions[1].region", "is not a region"),
        (
            "\"countries\": [\"GB\"]", "\"countries\": [\"XX\"]", "$.exceptions[0].countries[0]",
            "is not an ISO 3166-1 alpha-2 country code"
        ),
    ])
    func malformedFileIsRejected(old: String, new: String, path: String, message: String) throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(in: copy.policies.appendingPathComponent("data-classes.json"), old, with: new)
        do {
            _ = try PolicySet.load(regions: copy.regions, policies: copy.policies)
            Issue.record("accepted")
        } catch {
            #expect(
                error.problems.contains {
                    $0.file.hasSuffix("data-classes.json") && $0.path == path && $0.message.contains(message)
                }, "\(error)")
        }
    }

    @Test func everyClassNeedsARule() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("data-classes.json"), "\"class\": \"directory\"",
            with: "\"class\": \"analytics\"")
        do {
            _ = try PolicySet.load(regions: copy.regions, policies: copy.policies)
            Issue.record("accepted")
        } catch {
            let text = error.description
            #expect(text.contains("listed twice"))
            #expect(text.contains("missing rules for directory"))
        }
    }
}
