import Foundation
import Testing

@testable import ResidencyCore

@Suite struct SignupPlacerTests {
    let policies: PolicySet
    let placer: SignupPlacer

    /// A geolocation database with known answers: 2/8 France, 5/8 Germany but located in Dublin (a city
    /// database's coordinates), 8/8 United States, 41/8 South Africa; nothing for 9/8.
    static func database() throws -> MaxMindDatabase {
        var writer = MaxMindWriter()
        func country(_ code: String) -> MaxMindValue { .map(["country": .map(["iso_code": .string(code)])]) }
        try writer.insert("2.0.0.0/8", country("FR"))
        try writer.insert(
            "5.0.0.0/8",
            .map([
                "country": .map(["iso_code": .string("DE")]),
                "location": .map(["latitude": .double(53.35), "longitude": .double(-6.26)]),
            ]))
        try writer.insert("8.0.0.0/8", country("US"))
        try writer.insert("41.0.0.0/8", country("ZA"))
        try writer.insert("2a00::/16", country("GB"))
        return try MaxMindDatabase(bytes: writer.build())
    }

    init() throws {
        policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        placer = SignupPlacer(policies: policies, locator: GeoLocator(database: try Self.database(), source: "test"))
    }

    static func request(ip: String? = nil, country: String? = nil, region: String? = nil) -> PlacementRequest {
        PlacementRequest(
            ip: ip.map { try! IPAddress($0) }, declaredCountry: country.map { CountryCode($0)! },
            requestedRegion: region)
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let label: String
        let ip: String?
        let country: String?
        let region: String?
        let expectedRegion: String?
        let expectedSite: String?
        let refusal: PlacementRefusal.Code?
        let rule: String?
        let reason: String?
        var testDescription: String { label }
    }

    static func placed(
        _ label: String, ip: String? = nil, country: String? = nil, region: String? = nil, _ expected: String,
        site: String? = nil, reason: String? = nil
    ) -> Case {
        Case(
            label: label, ip: ip, country: country, region: region, expectedRegion: expected, expectedSite: site,
            refusal: nil,
            rule: nil, reason: reason)
    }

    static func refused(
        _ label: String, ip: String? = nil, country: String? = nil, region: String? = nil,
        _ code: PlacementRefusal.Code, rule: String?
    ) -> Case {
        Case(
            label: label, ip: ip, country: country, region: region, expectedRegion: nil, expectedSite: nil,
            refusal: code,
            rule: rule, reason: nil)
    }

    static let cases: [Case] = [
        placed(
            "Germany, EEA rule, Frankfurt", country: "DE", "eu", site: "eu-de-frankfurt", reason: "mandatory_region"),
        placed("Ireland, EEA rule, Dublin", country: "IE", "eu", site: "eu-ie-dublin", reason: "mandatory_region"),
        placed(
            "Portugal, nearer London but held to the EU", country: "PT", "eu", site: "eu-ie-dublin",
            reason: "mandatory_region"),
        placed("Cyprus, nearer Dubai but held to the EU", country: "CY", "eu", site: "eu-de-frankfurt"),
        placed(
            "United Kingdom chooses, nearest is the UK", country: "GB", "uk", site: "uk-london", reason: "region_choice"
        ),
        placed("United States", country: "US", "us", site: "us-ashburn", reason: "nearest_region"),
        placed("India, mandatory", country: "IN", "india", site: "india-mumbai", reason: "mandatory_region"),
        placed("Singapore", country: "SG", "singapore", site: "singapore-1"),
        placed(
            "Australia, mandatory", country: "AU", "australia", site: "australia-sydney", reason: "mandatory_region"),
        placed("South Africa", country: "ZA", "africa", site: "africa-cape-town"),
        placed("UAE, mandatory", country: "AE", "uae", site: "uae-dubai", reason: "mandatory_region"),
        placed("Japan, nearest", country: "JP", "singapore", reason: "nearest_region"),
        placed("Kenya, nearest", country: "KE", "uae", reason: "nearest_region"),
        placed("Argentina, override instead of Cape Town", country: "AR", "us", reason: "override"),
        placed("Brazil, nearest by distance", country: "BR", "us", reason: "nearest_region"),
        placed("UK asks for the EU, permitted", country: "GB", region: "eu", "eu", reason: "requested_region"),
        placed(
            "Brazil asks for India, unrestricted", country: "BR", region: "india", "india", reason: "requested_region"),
        refused("France asks for the US", country: "FR", region: "us", .regionNotPermitted, rule: "eea-in-eu"),
        refused("UK asks for India", country: "GB", region: "india", .regionNotPermitted, rule: "uk-choice"),
        refused("North Korea", country: "KP", .noPermittedRegion, rule: "sanctions"),
        refused("Russia, localisation law", country: "RU", .noPermittedRegion, rule: "russia-localisation"),
        refused("unknown requested region", country: "US", region: "mars", .unknownRegion, rule: nil),
        placed("geolocated France", ip: "2.3.4.5", "eu", site: "eu-de-frankfurt", reason: "geolocated"),
        placed(
            "geolocated Germany with Dublin coordinates", ip: "5.6.7.8", "eu", site: "eu-ie-dublin",
            reason: "nearest_region"),
        placed("geolocated IPv6 UK", ip: "2a00:1450::1", "uk", reason: "geolocated"),
        placed("IPv4-mapped US", ip: "::ffff:8.8.8.8", "us", reason: "geolocated"),
        placed("declared wins over geolocation", ip: "8.8.8.8", country: "GB", "uk", reason: "country_mismatch"),
        placed("private address, policy fallback", ip: "10.1.2.3", "eu", reason: "not_locatable"),
        placed("not in the database, policy fallback", ip: "9.9.9.9", "eu", reason: "not_in_database"),
        placed("nothing at all, policy fallback", "eu", reason: "unlocated_fallback"),
        refused("unlocated asking for the US", ip: "192.168.0.1", region: "us", .regionNotPermitted, rule: "unlocated"),
    ]

    @Test(arguments: cases)
    func decides(_ example: Case) {
        let decision = placer.place(Self.request(ip: example.ip, country: example.country, region: example.region))
        let summary = decision.reasons.map { "\($0.code): \($0.message)" }.joined(separator: "\n")
        #expect(decision.region == example.expectedRegion, "\(summary)")
        if let site = example.expectedSite { #expect(decision.site == site, "\(summary)") }
        #expect(decision.refusal?.code == example.refusal, "\(summary)")
        if example.refusal != nil { #expect(decision.refusal?.rule == example.rule) }
        if let reason = example.reason { #expect(decision.reasons.contains { $0.code == reason }, "\(summary)") }
        #expect(decision.policyVersion == policies.version)
        // The last reason of a placement names the site.
        if decision.region != nil { #expect(decision.reasons.last?.code == "site") }
    }

    @Test func recordsBothCountriesAndTheMismatch() {
        let decision = placer.place(Self.request(ip: "2.3.4.5", country: "DE"))
        #expect(decision.country == CountryCode("DE"))
        #expect(decision.declaredCountry == CountryCode("DE"))
        #expect(decision.geolocatedCountry == CountryCode("FR"))
        #expect(
            decision.reasons.map(\.code) == [
                "geolocated", "declared_country", "country_mismatch", "mandatory_region", "nearest_region", "site",
            ])
    }

    /// Canada's point was once a centroid in the tundra, 2,632 km from Ashburn; from Ottawa it is 724 km.
    @Test func distanceFromADeclaredCountryIsFromItsCapital() {
        let decision = placer.place(Self.request(country: "CA"))
        let nearest = decision.reasons.first { $0.code == "nearest_region" }?.message
        #expect(nearest == "us is the nearest available candidate, 724 km from the country's capital")
    }

    @Test func isDeterministic() {
        for example in Self.cases {
            let request = Self.request(ip: example.ip, country: example.country, region: example.region)
            #expect(placer.place(request) == placer.place(request))
        }
    }

    /// A region whose regional service does not answer is passed over like a full one, and the reasons say why.
    @Test func aRegionWhoseServiceDoesNotAnswerIsPassedOver() {
        let decision = placer.place(Self.request(country: "GB"), unreachable: ["uk"])
        #expect(decision.region == "eu")
        #expect(decision.reasons.contains(.regionUnavailable(region: "uk", why: .serviceUnreachable)))
        #expect(
            decision.reasons.first { $0.code == "region_unavailable" }?.message
                == "region uk skipped: it has a regional service that does not answer")
        #expect(placer.place(Self.request(country: "GB", region: "uk"), unreachable: ["uk"]).refusal?.code == .regionUnavailable)
        #expect(placer.place(Self.request(country: "GB")).region == "uk")
    }

    @Test func fullRegionIsSkippedAndRequestedFullRegionRefused() {
        let occupancy = ["uk": 500_000]
        let decision = placer.place(Self.request(country: "GB"), occupancy: occupancy)
        #expect(decision.region == "eu")
        #expect(decision.reasons.contains(.regionUnavailable(region: "uk", why: .full)))
        let requested = placer.place(Self.request(country: "GB", region: "uk"), occupancy: occupancy)
        #expect(requested.refusal?.code == .regionUnavailable)
        let mandatoryFull = placer.place(Self.request(country: "IN"), occupancy: ["india": 500_000])
        #expect(mandatoryFull.refusal?.code == .noRegionAvailable)
        #expect(mandatoryFull.refusal?.rule == "india-in-india")
    }

    @Test func drainingRegionIsSkipped() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        let singapore = copy.regions.appendingPathComponent("singapore.json")
        try Fixtures.replace(in: singapore, "\"status\": \"active\"", with: "\"status\": \"draining\"")
        try Fixtures.replace(in: singapore, "\"accepts_signups\": true", with: "\"accepts_signups\": false")
        let draining = SignupPlacer(
            policies: try PolicySet.load(regions: copy.regions, policies: copy.policies), locator: nil)
        let decision = draining.place(Self.request(country: "JP"))
        #expect(decision.reasons.contains(.regionUnavailable(region: "singapore", why: .draining)))
        #expect(decision.region != nil && decision.region != "singapore")
        #expect(draining.place(Self.request(country: "SG")).region != "singapore")
        #expect(draining.place(Self.request(country: "SG", region: "singapore")).refusal?.code == .regionUnavailable)
    }

    @Test func unlocatedRefusalPolicy() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(
            in: copy.policies.appendingPathComponent("residency.json"),
            "\"action\": \"region\",\n    \"region\": \"eu\",", with: "\"action\": \"refuse\",")
        let strict = SignupPlacer(
            policies: try PolicySet.load(regions: copy.regions, policies: copy.policies), locator: nil)
        #expect(strict.place(Self.request()).refusal?.code == .unlocated)
        #expect(strict.place(Self.request(country: "FR")).region == "eu")
    }

    @Test func everyCountryGetsAnAnswer() {
        for code in policies.catalog.countries.countries.keys {
            let decision = placer.place(PlacementRequest(declaredCountry: code))
            #expect(decision.region != nil || decision.refusal?.code == .noPermittedRegion, "\(code)")
        }
    }

    @Test func decisionRendersAsJSON() throws {
        let json = placer.place(Self.request(ip: "2.3.4.5")).jsonValue
        #expect(json["outcome"] == .string("placed"))
        #expect(json["region"] == .string("eu"))
        #expect(json["policy_version"] == .string(policies.version.hex))
        #expect(try JSONParser.parse(json.encoded()) == json)
    }
}
