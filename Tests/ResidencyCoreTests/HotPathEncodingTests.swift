import Foundation
import Testing

@testable import ResidencyCore

/// The hot paths write JSON and timestamps directly instead of through `JSONValue` and string interpolation;
/// these hold the fast forms byte-for-byte equal to the general ones they replace.
@Suite struct HotPathEncodingTests {
    /// Every country × requested region (none, each, an unknown one) × addresses (random, private, none) ×
    /// occupancy (empty, every region full): the direct encoder and the tree agree on every decision,
    /// placements and refusals alike.
    @Test func directDecisionEncodingEqualsTheTree() throws {
        let policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let placer = SignupPlacer(
            policies: policies,
            locator: try GeoLocator(path: Fixtures.regions.appendingPathComponent("dbip-country-lite.mmdb").path))
        let full = Dictionary(uniqueKeysWithValues: policies.catalog.regions.map { ($0.id, $0.capacity) })
        var random = SplitMix64(seed: 42)
        var addresses: [IPAddress?] = [nil, try IPAddress("10.1.2.3"), try IPAddress("::1")]
        for _ in 0..<6 {
            addresses.append(
                try IPAddress("\(random.next() % 223 + 1).\(random.next() % 256).\(random.next() % 256).7"))
        }
        let countries: [CountryCode?] =
            [nil] + policies.catalog.countries.countries.keys.sorted { $0.rawValue < $1.rawValue }
        let regions: [String?] = [nil, "nowhere"] + policies.catalog.regionIDs
        var compared = 0
        var outcomes: Set<String> = []
        for country in countries {
            for (index, region) in regions.enumerated() {
                let address = addresses[(index + compared) % addresses.count]
                for occupancy in [[:], full] {
                    let decision = placer.place(
                        PlacementRequest(ip: address, declaredCountry: country, requestedRegion: region, plan: .trial),
                        occupancy: occupancy)
                    #expect(decision.encodedJSON() == decision.jsonValue.encodedBytes(), "\(decision)")
                    outcomes.insert(decision.refusal?.code.rawValue ?? "placed")
                    compared += 1
                }
            }
        }
        #expect(compared > 2000)
        // Both shapes were exercised, and several kinds of refusal.
        #expect(outcomes.contains("placed") && outcomes.count >= 4, "\(outcomes)")
    }

    @Test func objectWriterMatchesTheTreeWithEscapesAndNulls() {
        var writer = JSONObjectWriter()
        writer.string("a", "quote \" backslash \\ newline \n tab \t control \u{01} unicode é 漢")
        writer.string("b", nil)
        writer.integer("c", -42)
        writer.integer("d", nil)
        writer.member("e") { $0.append(contentsOf: "[1,2]".utf8) }
        let tree = JSONValue.object([
            ("a", .string("quote \" backslash \\ newline \n tab \t control \u{01} unicode é 漢")), ("b", .null),
            ("c", .integer(-42)), ("d", .null), ("e", .array([.integer(1), .integer(2)])),
        ])
        #expect(writer.finish() == tree.encodedBytes())
    }

    /// The in-place timestamp formatter against Foundation's, over random instants from 1970 to 9999 and the
    /// edges of days, years and leap days.
    @Test func timestampsMatchFoundation() {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        formatter.timeZone = TimeZone(identifier: "UTC")
        var random = SplitMix64(seed: 3339)
        var instants: [Int64] = [0, 999, 1000, 86_399_999, 951_782_400_000, 951_868_799_999, 253_402_300_799_999]
        for _ in 0..<5000 { instants.append(Int64(random.next() % 253_402_300_800_000)) }
        for milliseconds in instants {
            let expected = formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
            #expect(Timestamp.rfc3339(milliseconds: milliseconds) == expected, "\(milliseconds)")
            #expect(Timestamp.milliseconds(rfc3339: Timestamp.rfc3339(milliseconds: milliseconds)) == milliseconds)
        }
    }

    /// IPv4 addresses printed digit by digit, against the interpolated form, over every octet value.
    @Test func ipv4TextMatchesTheInterpolatedForm() {
        var random = SplitMix64(seed: 4)
        var values: [UInt32] = [0, 0xFFFF_FFFF, 0x0A00_0001, 0x6400_0A09]
        for octet in 0..<256 { values.append(UInt32(octet) * 0x0101_0101) }
        for _ in 0..<5000 { values.append(UInt32(truncatingIfNeeded: random.next())) }
        for value in values {
            let expected = "\(value >> 24).\(value >> 16 & 0xFF).\(value >> 8 & 0xFF).\(value & 0xFF)"
            #expect(IPAddress.v4(value).description == expected)
        }
    }

    /// Every kind of reason, with policy text that needs escaping (quotes, backslashes, control characters,
    /// non-ASCII) and edge numbers: the message written as bytes is the escaped `message`, byte for byte.
    @Test func reasonMessagesWrittenAsBytesEqualTheEscapedStrings() throws {
        let gb = try #require(CountryCode("GB"))
        let de = try #require(CountryCode("DE"))
        let odd = "r\"ule\\ \n\t\u{01} é 漢"
        let addresses: [IPAddress] = [
            .v4(0), .v4(0xFFFF_FFFF), .v4(0x5102_45A0), try IPAddress("2a00:1450:4001::1"), try IPAddress("::1"),
        ]
        var reasons: [PlacementReason] = [
            .declaredCountry(gb), .countryMismatch(declared: gb, geolocated: de),
            .unlocatedFallback(region: odd, reason: odd), .noPermittedRegion(country: gb, rule: odd, reason: odd),
            .mandatoryRegion(country: gb, rule: odd, region: odd), .regionChoice(country: gb, rule: odd, regions: []),
            .regionChoice(country: gb, rule: "r", regions: ["uk", odd, "eu"]), .anyRegion(country: de),
            .requestedRegionHonoured(region: odd), .overrideApplied(country: gb, rule: odd, region: odd),
            .noCoordinates(country: gb), .firstAvailableRegion(region: odd),
        ]
        for why in [RegionUnavailability.draining, .closed, .notAcceptingSignups, .full, .serviceUnreachable] {
            reasons += [
                .overrideUnavailable(rule: odd, region: odd, why: why), .regionUnavailable(region: odd, why: why),
            ]
        }
        for kilometres in [0, 7, 10, 999, 1000, 20_015, -3, Int.max, Int.min] {
            for source in [LocationSource.database, .capital, .city, .countryPoint] {
                reasons.append(.nearestRegion(region: odd, kilometres: kilometres, from: source))
            }
            reasons.append(.site(site: odd, kilometres: kilometres))
        }
        reasons.append(.site(site: "uk-london", kilometres: nil))
        for address in addresses {
            reasons += [
                .geolocated(address: address, country: gb, hasCoordinates: true),
                .geolocated(address: address, country: gb, hasCoordinates: false),
                .geolocatedWithoutCountry(address: address), .notInDatabase(address: address),
                .geolocationFailed(address: address, error: odd),
            ]
            if let range = SpecialPurposeRange.containing(address) {
                reasons.append(.notLocatable(address: address, range: range))
            }
        }
        for reason in reasons {
            var written: [UInt8] = []
            reason.writeMessage(into: &written)
            var expected: [UInt8] = []
            JSONValue.writeString(reason.message, into: &expected)
            #expect([UInt8(ascii: "\"")] + written + [UInt8(ascii: "\"")] == expected, "\(reason)")
        }
    }

    @Test func asciiTrimmingAndCaseFolding() {
        #expect(" \t application/json \t".trimmingSpacesAndTabs == "application/json")
        #expect("".trimmingSpacesAndTabs == "")
        #expect(" \t ".trimmingSpacesAndTabs == "")
        #expect("a b".trimmingSpacesAndTabs == "a b")
        #expect("\nx\n".trimmingSpacesAndTabs == "\nx\n")  // only spaces and tabs: a newline is not HTTP whitespace
        #expect("Keep-Alive".equalsIgnoringASCIICase("keep-alive"))
        #expect("CLOSE".equalsIgnoringASCIICase("close"))
        #expect(!"closed".equalsIgnoringASCIICase("close"))
        #expect(!"clos".equalsIgnoringASCIICase("close"))
        #expect(!"ÇLOSE".equalsIgnoringASCIICase("close"))
    }
}
