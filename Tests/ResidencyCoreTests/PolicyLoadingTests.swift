import Foundation
import Testing

@testable import ResidencyCore

/// One way to break a shipped file, and the problem the loader must report for it.
struct BrokenFixture: CustomTestStringConvertible, Sendable {
    let label: String
    /// Path relative to the copy's root, e.g. `Policies/residency.json`.
    let file: String
    let old: String
    let new: String
    let expectedFile: String
    let expectedPath: String
    let expectedMessage: String

    var testDescription: String { label }

    init(
        _ label: String, _ file: String, _ old: String, _ new: String, path: String, message: String,
        reportedIn: String? = nil
    ) {
        self.label = label
        self.file = file
        self.old = old
        self.new = new
        self.expectedFile = reportedIn ?? file
        self.expectedPath = path
        self.expectedMessage = message
    }
}

@Suite struct PolicyLoadingTests {
    @Test func shippedFilesLoad() throws {
        let set = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        #expect(set.catalog.regionIDs == ["africa", "australia", "eu", "india", "singapore", "uae", "uk", "us"])
        let eu = try #require(set.catalog.region(id: "eu"))
        #expect(eu.sites.map(\.city).sorted() == ["Dublin", "Frankfurt am Main"])
        #expect(eu.jurisdiction.count == 30)  // the EEA: 27 EU members plus Iceland, Liechtenstein, Norway
        #expect(set.catalog.countries.countries.count == 249)
        #expect(set.retention.rules.count == 6)
        #expect(set.retention.lateEventGraceDays == 7)
        #expect(set.access.justification(code: "security_incident")?.allowsBreakGlass == true)
    }

    /// A schedule written before the grace existed still loads, with the documented default.
    @Test func theLateEventGraceDefaultsToAWeek() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("retention.json"), "\"late_event_grace_days\": 7,", with: "")
        let set = try PolicySet.load(regions: copy.regions, policies: copy.policies)
        #expect(set.retention.lateEventGraceDays == RetentionPolicy.defaultLateEventGraceDays)
        #expect(RetentionPolicy.defaultLateEventGraceDays == 7)
    }

    @Test func versionIsStableAndChangesWithContent() throws {
        let first = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies).version
        let second = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies).version
        #expect(first == second)

        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        // Whitespace is not content: reformatting a file keeps the version.
        let residency = copy.policies.appendingPathComponent("residency.json")
        let compact = try JSONParser.parse(Array(try Data(contentsOf: residency))).encoded()
        try compact.write(to: residency, atomically: true, encoding: .utf8)
        #expect(try PolicySet.load(regions: copy.regions, policies: copy.policies).version == first)
        // A number is content.
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("retention.json"), "\"after_days\": 12", with: "\"after_days\": 13"
        )
        #expect(try PolicySet.load(regions: copy.regions, policies: copy.policies).version != first)
    }

    static let broken: [BrokenFixture] = [
        .init(
            "unknown region in a rule", "Policies/residency.json", "\"region\": \"india\"", "\"region\": \"mars\"",
            path: "$.mandatory[1].region", message: "\"mars\": is not a region; accepted: \"africa\""),
        .init(
            "unknown country", "Regions/uk.json", "\"jurisdiction\": [\"GB\"]", "\"jurisdiction\": [\"GB\", \"XX\"]",
            path: "$.jurisdiction[1]",
            message: "\"XX\": is not an ISO 3166-1 alpha-2 country code; accepted: e.g. FR, DE, US"),
        .init(
            "lower-case country", "Regions/uk.json", "\"jurisdiction\": [\"GB\"]", "\"jurisdiction\": [\"gb\"]",
            path: "$.jurisdiction[0]", message: "is not an ISO 3166-1 alpha-2 country code"),
        .init(
            "country claimed by two mandatory rules", "Policies/residency.json", "\"countries\": [\"IN\"]",
            "\"countries\": [\"IN\", \"FR\"]", path: "$.mandatory[1].countries",
            message:
                "\"FR\" is claimed by mandatory rule \"eea-in-eu\" (region eu) and by mandatory rule \"india-in-india\""
        ),
        .init(
            "latitude out of range", "Regions/india.json", "\"latitude\": 19.076", "\"latitude\": 191.076",
            path: "$.sites[0].latitude", message: "191.076: out of range; accepted: -90.0...90.0"),
        .init(
            "unknown field", "Regions/us.json", "\"capacity\": 3000000,",
            "\"capacity\": 3000000, \"colour\": \"blue\",",
            path: "$.colour", message: "unknown field \"colour\"; accepted fields: id, name, jurisdiction"),
        .init(
            "wrong type", "Regions/africa.json", "\"capacity\": 250000,", "\"capacity\": \"many\",",
            path: "$.capacity", message: "\"many\": expected an integer, found a string"),
        .init(
            "closed region accepting signups", "Regions/uae.json", "\"status\": \"active\"", "\"status\": \"closed\"",
            path: "$.accepts_signups", message: "a closed region cannot accept signups"),
        .init(
            "unknown status", "Regions/singapore.json", "\"status\": \"active\"", "\"status\": \"paused\"",
            path: "$.status", message: "accepted values: \"active\", \"draining\", \"closed\""),
        .init(
            "site outside its jurisdiction", "Regions/uk.json", "\"country\": \"GB\"", "\"country\": \"FR\"",
            path: "$.sites[0].country", message: "a site must be in a country of its region's jurisdiction"),
        .init(
            "missing field", "Regions/india.json", "\"city\": \"Mumbai\",", "",
            path: "$.sites[0]", message: "missing required field \"city\""),
        .init(
            "SCC module out of range", "Policies/transfers.json",
            "\"countries\": [\"US\"],\n          \"mechanism\": \"eu_scc\",\n          \"module\": 3",
            "\"countries\": [\"US\"],\n          \"mechanism\": \"eu_scc\",\n          \"module\": 5",
            path: "$.regions.eu.destinations[1].module", message: "5: out of range; accepted: 1...4"),
        .init(
            "unknown mechanism", "Policies/transfers.json", "\"mechanism\": \"uk_idta\"", "\"mechanism\": \"bcr\"",
            path: "$.regions.uk.destinations[1].mechanism",
            message: "is not a transfer mechanism; accepted: \"adequacy\""),
        .init(
            "region missing from transfers", "Policies/transfers.json", "\"uae\": {", "\"uea\": {",
            path: "$.regions", message: "missing transfer rules for region \"uae\""),
        .init(
            "field a mechanism does not take", "Policies/transfers.json", "\"mechanism\": \"uk_idta\",",
            "\"mechanism\": \"uk_idta\", \"module\": 2,", path: "$.regions.uk.destinations[1].module",
            message: "is not used by mechanism \"uk_idta\""),
        .init(
            "override against a mandatory rule", "Policies/residency.json", "\"countries\": [\"MN\"]",
            "\"countries\": [\"MN\", \"DE\"]", path: "$.overrides[1].countries",
            message:
                "\"DE\" must be hosted in eu (mandatory rule \"eea-in-eu\"); an override cannot send it to singapore"),
        .init(
            "retention days out of range", "Policies/retention.json", "\"after_days\": 12", "\"after_days\": 0",
            path: "$.rules[0].after_days", message: "0: out of range; accepted: 1...3650"),
        .init(
            "late-event grace out of range", "Policies/retention.json", "\"late_event_grace_days\": 7",
            "\"late_event_grace_days\": 0", path: "$.late_event_grace_days",
            message: "0: out of range; accepted: 1...365"),
        .init(
            "late-event grace not a number", "Policies/retention.json", "\"late_event_grace_days\": 7",
            "\"late_event_grace_days\": \"a week\"", path: "$.late_event_grace_days", message: "expected an integer"),
        .init(
            "unknown retention clock", "Policies/retention.json", "\"clock\": \"cancelled\"", "\"clock\": \"churned\"",
            path: "$.rules[1].clock", message: "accepted values: \"trial_expired\", \"cancelled\""),
        .init(
            "default grant longer than the maximum", "Policies/access.json", "\"default_grant_hours\": 4",
            "\"default_grant_hours\": 48", path: "$.max_grant_hours",
            message: "must be at least default_grant_hours (48)"),
        .init(
            "duplicate justification code", "Policies/access.json", "\"code\": \"production_alert\"",
            "\"code\": \"security_incident\"", path: "$.justifications[3].code", message: "duplicate id"),
        .init(
            "malformed JSON", "Policies/residency.json", "\"mandatory\": [", "\"mandatory\": [,",
            path: "-", message: "malformed JSON at line 2, column 17: unexpected character ','"),
        .init(
            "bad country table row", "Regions/countries.csv", "IE,IRL,372,Ireland,Dublin,53.3498",
            "IE,IRL,372,Ireland,Dublin,99.3498",
            path: "line 108 lat,lon", message: "is not a coordinate"),
    ]

    @Test(arguments: broken)
    func rejectsBrokenFile(_ fixture: BrokenFixture) throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(in: copy.root.appendingPathComponent(fixture.file), fixture.old, with: fixture.new)
        let problems = try loadProblems(copy)
        let match = problems.first {
            $0.file.hasSuffix(fixture.expectedFile) && $0.path == fixture.expectedPath
                && $0.message.contains(fixture.expectedMessage)
        }
        #expect(
            match != nil,
            "expected \(fixture.expectedFile): \(fixture.expectedPath): …\(fixture.expectedMessage)…; got:\n\(problems.map(\.description).joined(separator: "\n"))"
        )
    }

    @Test func duplicateRegionIDIsRejected() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try FileManager.default.copyItem(
            at: copy.regions.appendingPathComponent("eu.json"), to: copy.regions.appendingPathComponent("eu2.json"))
        let problems = try loadProblems(copy).map(\.description)
        #expect(
            problems.contains { $0.contains("eu2.json: $.id: \"eu\": the file of region \"eu\" must be named eu.json") }
        )
        #expect(problems.contains { $0.contains("$.id: \"eu\": duplicate region id") })
        #expect(problems.contains { $0.contains("\"eu-ie-dublin\": duplicate site id") })
    }

    @Test func unknownPolicyFileIsRejected() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try "{}".write(to: copy.policies.appendingPathComponent("residence.json"), atomically: true, encoding: .utf8)
        let problems = try loadProblems(copy)
        #expect(
            problems.contains {
                $0.file.hasSuffix("Policies/residence.json")
                    && $0.message.contains("unknown policy file; accepted files: access.json")
            })
    }

    @Test func everyProblemIsListedInOnePass() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(
            in: copy.regions.appendingPathComponent("africa.json"), "\"capacity\": 250000,", with: "\"capacity\": -1,")
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("retention.json"), "\"after_days\": 12",
            with: "\"after_days\": \"12\"")
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("access.json"), "\"pending_expiry_hours\": 24",
            with: "\"pending_expiry_hour\": 24")
        let problems = try loadProblems(copy).map(\.description)
        #expect(problems.count >= 4, "\(problems)")
        #expect(problems.contains { $0.contains("africa.json: $.capacity: -1: out of range") })
        #expect(problems.contains { $0.contains("retention.json: $.rules[0].after_days: \"12\": expected an integer") })
        #expect(problems.contains { $0.contains("access.json: $.pending_expiry_hour: unknown field") })
        #expect(problems.contains { $0.contains("access.json: $: missing required field \"pending_expiry_hours\"") })
    }

    private func loadProblems(_ copy: (root: URL, regions: URL, policies: URL)) throws -> [ConfigurationProblem] {
        do {
            _ = try PolicySet.load(regions: copy.regions, policies: copy.policies)
        } catch {
            return error.problems
        }
        throw FixtureError("the broken files loaded without a problem")
    }
}

@Suite struct PolicySemanticsTests {
    let set: PolicySet

    init() throws { set = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies) }

    @Test func residencyConstraints() throws {
        guard case .mandatory(let rule) = set.residency.constraint(for: CountryCode("FR")!) else {
            Issue.record("France must be held to a region")
            return
        }
        #expect(rule.region == "eu")
        guard case .choice(let choice) = set.residency.constraint(for: CountryCode("GB")!) else {
            Issue.record("the UK chooses")
            return
        }
        #expect(choice.regions == ["uk", "eu"])
        #expect(set.residency.constraint(for: CountryCode("BR")!) == .unrestricted)
        if case .blocked = set.residency.constraint(for: CountryCode("KP")!) {} else { Issue.record("KP is blocked") }
        #expect(set.residency.override(for: CountryCode("AR")!)?.region == "us")
    }

    @Test func transferBasisResolution() throws {
        let eu = try #require(set.catalog.region(id: "eu"))
        #expect(set.transfers.basis(for: eu, destination: CountryCode("DE")!).mechanism == .notATransfer)
        #expect(set.transfers.basis(for: eu, destination: CountryCode("GB")!).mechanism.code == "adequacy")
        let us = set.transfers.basis(for: eu, destination: CountryCode("US")!)
        #expect(
            us.mechanism
                == .euSCC(
                    module: 3, contract: "DPA-2025 Annex 4 (SCC module 3, Residency Inc.)",
                    impactAssessment: "TIA-EU-US-2025-01"))
        #expect(us.rule == "eu-us-scc")
        #expect(!set.transfers.basis(for: eu, destination: CountryCode("BR")!).mechanism.isPermitted)
        let india = try #require(set.catalog.region(id: "india"))
        if case .localLaw(let law, _, _) = set.transfers.basis(for: india, destination: CountryCode("US")!).mechanism {
            #expect(law.contains("Digital Personal Data Protection Act"))
        } else {
            Issue.record("India transfers rest on the DPDP Act")
        }
    }

    @Test func greatCircleDistance() {
        let dublin = Coordinate(latitude: 53.3498, longitude: -6.2603)
        let frankfurt = Coordinate(latitude: 50.1109, longitude: 8.6821)
        // About 1,090 km by great circle.
        #expect(abs(dublin.distanceKilometres(to: frankfurt) - 1090) < 10)
        #expect(dublin.distanceKilometres(to: dublin) == 0)
        let antipode = Coordinate(latitude: -53.3498, longitude: 173.7397)
        #expect(abs(dublin.distanceKilometres(to: antipode) - Double.pi * Coordinate.earthRadiusKilometres) < 1)
    }

    @Test func csvSplittingHonoursQuotes() {
        #expect(
            CountryTable.splitCSV(#"BO,BOL,068,"Bolivia, Plurinational State of",Sucre"#) == [
                "BO", "BOL", "068", "Bolivia, Plurinational State of", "Sucre",
            ])
        #expect(CountryTable.splitCSV(#"a,"say ""hi""",c"#) == ["a", "say \"hi\"", "c"])
        #expect(CountryTable.splitCSV("a,,c") == ["a", "", "c"])
    }
}
