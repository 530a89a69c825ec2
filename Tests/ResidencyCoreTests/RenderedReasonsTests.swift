import Foundation
import Testing

@testable import ResidencyCore

/// The placer renders the reasons that depend only on a country's plan once, at load; these hold every answer
/// written with them byte-for-byte equal to the one written without them, for the shipped policy and for
/// another policy loaded after it, and renderings of hostile text equal to the escaped strings.
@Suite struct RenderedReasonsTests {
    static let locator: GeoLocator? = try? GeoLocator(
        path: Fixtures.regions.appendingPathComponent("dbip-country-lite.mmdb").path)

    /// The shipped policy, and a copy with other rule names (identifiers: the loader refuses anything else) and
    /// GB's choice listing its regions the other way round.
    static func policies() throws -> [PolicySet] {
        let shipped = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        let file = copy.policies.appendingPathComponent("residency.json")
        try Fixtures.replace(in: file, #""rule": "uk-choice""#, with: #""rule": "uk-choice-2027""#)
        try Fixtures.replace(in: file, #""regions": ["uk", "eu"]"#, with: #""regions": ["eu", "uk"]"#)
        try Fixtures.replace(in: file, #""rule": "eea-in-eu""#, with: #""rule": "eea_in_eu_2""#)
        let hostile = try PolicySet.load(regions: copy.regions, policies: copy.policies)
        #expect(hostile.version != shipped.version)
        return [shipped, hostile]
    }

    /// Every country (and none) × requested region (none, an unknown one, each) × address × occupancy (empty,
    /// every region full), under each policy: the answer written with the placer's rendered reasons equals the
    /// one written without them and the tree, with the placer that decided and with the other policy's placer
    /// (whose renderings are of other reasons, and must not be used). And the rendered reasons were used.
    @Test func answersWithRenderedReasonsEqualThePlainOnes() throws {
        let sets = try Self.policies()
        let placers = sets.map { SignupPlacer(policies: $0, locator: Self.locator) }
        var addresses: [IPAddress?] = [nil, try IPAddress("10.1.2.3"), try IPAddress("81.2.69.160")]
        var random = SplitMix64(seed: 23)
        for _ in 0..<5 {
            addresses.append(try IPAddress("\(random.next() % 223 + 1).\(random.next() % 256).\(random.next() % 256).9"))
        }
        var compared = 0
        var hits = 0
        var hitKinds: Set<String> = []
        for (index, placer) in placers.enumerated() {
            let other = placers[1 - index]
            let policies = sets[index]
            let full = Dictionary(uniqueKeysWithValues: policies.catalog.regions.map { ($0.id, $0.capacity) })
            let countries: [CountryCode?] = [nil] + policies.catalog.countries.countries.keys.sorted()
            let regions: [String?] = [nil, "nowhere"] + policies.catalog.regionIDs
            for country in countries {
                for (regionIndex, region) in regions.enumerated() {
                    let address = addresses[(regionIndex + compared) % addresses.count]
                    for occupancy in [[:], full] {
                        let decision = placer.place(
                            PlacementRequest(ip: address, declaredCountry: country, requestedRegion: region, plan: .trial),
                            occupancy: occupancy)
                        let plain = decision.encodedJSON()
                        #expect(plain == decision.jsonValue.encodedBytes())
                        for renderer in [placer, other] {
                            var written: [UInt8] = []
                            decision.writeJSON(into: &written, placer: renderer)
                            #expect(written == plain, "\(decision)")
                        }
                        for reason in decision.reasons {
                            var cached: [UInt8] = []
                            guard placer.appendRendered(reason, country: decision.country, to: &cached) else { continue }
                            var fresh: [UInt8] = []
                            reason.writeJSON(into: &fresh)
                            #expect(cached == fresh, "\(reason)")
                            #expect(
                                cached
                                    == JSONValue.object([("code", .string(reason.code)), ("message", .string(reason.message))])
                                    .encodedBytes())
                            hits += 1
                            hitKinds.insert(reason.code)
                        }
                        compared += 1
                    }
                }
            }
        }
        #expect(compared > 4000)
        // Every kind the placer renders was used, many times over.
        #expect(hitKinds == ["mandatory_region", "region_choice", "any_region", "nearest_region", "site"], "\(hitKinds)")
        #expect(hits > compared)
    }

    /// The rendering follows the policy loaded: the same country's reason differs between the two policies, and
    /// neither placer answers for the other's.
    @Test func renderingsFollowThePolicyTheyWereBuiltFrom() throws {
        let sets = try Self.policies()
        let shipped = SignupPlacer(policies: sets[0], locator: nil)
        let hostile = SignupPlacer(policies: sets[1], locator: nil)
        let gb = try #require(CountryCode("GB"))
        let request = PlacementRequest(ip: nil, declaredCountry: gb, requestedRegion: nil, plan: .trial)
        let before = shipped.place(request)
        let after = hostile.place(request)
        let choiceBefore = try #require(before.reasons.first { $0.code == "region_choice" })
        let choiceAfter = try #require(after.reasons.first { $0.code == "region_choice" })
        #expect(choiceBefore != choiceAfter)

        var bytes: [UInt8] = []
        #expect(hostile.appendRendered(choiceAfter, country: gb, to: &bytes))
        #expect(
            String(decoding: bytes, as: UTF8.self)
                == #"{"code":"region_choice","message":"customers from GB may be hosted in eu, uk (rule uk-choice-2027)"}"#)
        var none: [UInt8] = []
        #expect(!shipped.appendRendered(choiceAfter, country: gb, to: &none))
        #expect(!hostile.appendRendered(choiceBefore, country: gb, to: &none))
        // Under another country's plan, or none, nothing is taken for it either.
        #expect(!hostile.appendRendered(choiceAfter, country: try #require(CountryCode("FR")), to: &none))
        #expect(!hostile.appendRendered(choiceAfter, country: nil, to: &none))
        #expect(none.isEmpty)
    }

    /// Only the very reason rendered is answered for: the same region and distance measured from a database
    /// point, another distance, another site, a requested region — all written per request.
    @Test func nearReasonsAreNotTakenForRenderedOnes() throws {
        let placer = SignupPlacer(policies: try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies), locator: nil)
        let gb = try #require(CountryCode("GB"))
        let decision = placer.place(PlacementRequest(ip: nil, declaredCountry: gb, requestedRegion: nil, plan: .trial))
        guard
            case .nearestRegion(let region, let kilometres, let source) = try #require(
                decision.reasons.first { $0.code == "nearest_region" }),
            case .site(let site, let siteKilometres) = try #require(decision.reasons.first { $0.code == "site" })
        else { Issue.record("no nearest_region and site reasons: \(decision.reasons)"); return }
        var scratch: [UInt8] = []
        #expect(placer.appendRendered(.nearestRegion(region: region, kilometres: kilometres, from: source), country: gb, to: &scratch))
        #expect(placer.appendRendered(.site(site: site, kilometres: siteKilometres), country: gb, to: &scratch))
        scratch = []
        let near: [PlacementReason] = [
            .nearestRegion(region: region, kilometres: kilometres, from: .database),
            .nearestRegion(region: region, kilometres: kilometres + 1, from: source),
            .nearestRegion(region: region + "\"", kilometres: kilometres, from: source),
            .site(site: site, kilometres: nil), .site(site: site, kilometres: (siteKilometres ?? 0) + 1),
            .site(site: site + "\\", kilometres: siteKilometres), .requestedRegionHonoured(region: region),
            .declaredCountry(gb), .anyRegion(country: gb),
        ]
        for reason in near {
            #expect(!placer.appendRendered(reason, country: gb, to: &scratch), "\(reason)")
        }
        #expect(scratch.isEmpty)
    }

    /// A decision is its values: two placers built apart from the same policy (each with its own renderings)
    /// give equal decisions with equal hashes, and equal answers.
    @Test func decisionsDoNotDependOnThePlacersRenderings() throws {
        let policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let first = SignupPlacer(policies: policies, locator: Self.locator)
        let second = SignupPlacer(policies: policies, locator: Self.locator)
        for code in ["GB", "DE", "US", "IN", "CH", "JP", "BR"] {
            let request = PlacementRequest(
                ip: try IPAddress("81.2.69.160"), declaredCountry: CountryCode(code), requestedRegion: nil, plan: .trial)
            let a = first.place(request)
            let b = second.place(request)
            #expect(a == b)
            #expect(a.hashValue == b.hashValue)
            var viaFirst: [UInt8] = []
            a.writeJSON(into: &viaFirst, placer: first)
            var viaSecond: [UInt8] = []
            b.writeJSON(into: &viaSecond, placer: second)
            #expect(viaFirst == viaSecond)
            #expect(viaFirst == a.encodedJSON())
        }
    }

    /// Text that JSON has to escape (quotes, backslashes, control characters, `</script>`, non-ASCII) and edge
    /// numbers, in every kind of reason a plan renders: the rendered bytes equal the reason written per request
    /// and the tree, and only the very reason is answered for.
    @Test func hostileTextIsRenderedAsItIsWrittenPerRequest() throws {
        let gb = try #require(CountryCode("GB"))
        let odd = ["r\"ule\\ \n\t\u{01}\u{1F} é 漢 </script>", "", "\\", "\"", "\u{7F}\u{2028}"]
        for text in odd {
            for kilometres in [0, 1, 999, 20_015, -1, Int.max, Int.min] {
                let constraints: [PlacementReason] = [
                    .mandatoryRegion(country: gb, rule: text, region: text),
                    .regionChoice(country: gb, rule: text, regions: [text, "uk", text]),
                    .regionChoice(country: gb, rule: text, regions: []), .anyRegion(country: gb),
                ]
                for constraint in constraints {
                    let nearest: [PlacementReason] = [LocationSource.capital, .city, .countryPoint].map {
                        .nearestRegion(region: text, kilometres: kilometres, from: $0)
                    }
                    let sites: [PlacementReason] = [.site(site: text, kilometres: kilometres), .site(site: text, kilometres: nil)]
                    let rendered = RenderedReasons(constraint: constraint, nearest: nearest, sites: sites)
                    for reason in [constraint] + nearest + sites {
                        var bytes: [UInt8] = []
                        #expect(rendered.append(reason, to: &bytes))
                        var fresh: [UInt8] = []
                        reason.writeJSON(into: &fresh)
                        #expect(bytes == fresh, "\(reason)")
                        #expect(
                            bytes == JSONValue.object([("code", .string(reason.code)), ("message", .string(reason.message))]).encodedBytes())
                    }
                    var none: [UInt8] = []
                    #expect(!rendered.append(.site(site: text + "x", kilometres: kilometres), to: &none))
                    #expect(!rendered.append(.nearestRegion(region: text, kilometres: kilometres, from: .database), to: &none))
                    #expect(!rendered.append(.declaredCountry(gb), to: &none))
                    #expect(none.isEmpty)
                }
            }
        }
    }

    /// The lookup compares fields rather than whole reasons: over every pairing of rendered reasons and reasons
    /// that differ from them in one field (country, rule, region, each listed region, kilometres, none, source,
    /// kind), it answers exactly when the derived `==` finds the reason among the rendered ones.
    @Test func lookupAnswersExactlyWhenTheReasonIsEqual() throws {
        let gb = try #require(CountryCode("GB"))
        let je = try #require(CountryCode("JE"))
        var reasons: [PlacementReason] = [.anyRegion(country: gb), .anyRegion(country: je)]
        for rule in ["r", "s", ""] {
            for country in [gb, je] {
                reasons += [
                    .mandatoryRegion(country: country, rule: rule, region: "uk"),
                    .mandatoryRegion(country: country, rule: rule, region: "eu"),
                    .regionChoice(country: country, rule: rule, regions: ["uk", "eu"]),
                    .regionChoice(country: country, rule: rule, regions: ["eu", "uk"]),
                    .regionChoice(country: country, rule: rule, regions: ["uk"]),
                    .regionChoice(country: country, rule: rule, regions: []),
                ]
            }
        }
        for name in ["uk", "eu", "uk-london", ""] {
            for kilometres in [0, 1, 344, -1] {
                for source in [LocationSource.capital, .city, .countryPoint, .database] {
                    reasons.append(.nearestRegion(region: name, kilometres: kilometres, from: source))
                }
                reasons.append(.site(site: name, kilometres: kilometres))
            }
            reasons.append(.site(site: name, kilometres: nil))
            reasons.append(.requestedRegionHonoured(region: name))
        }
        var random = SplitMix64(seed: 99)
        var answered = 0
        for _ in 0..<300 {
            func pick() -> PlacementReason { reasons[Int(random.next() % UInt64(reasons.count))] }
            let constraint = [pick(), pick()].first { ["mandatory_region", "region_choice", "any_region"].contains($0.code) }
            let nearest = (0..<3).map { _ in pick() }.filter { $0.code == "nearest_region" }
            let sites = (0..<3).map { _ in pick() }.filter { $0.code == "site" }
            let rendered = RenderedReasons(constraint: constraint, nearest: nearest, sites: sites)
            let held = [constraint].compactMap { $0 } + nearest + sites
            for reason in reasons {
                var bytes: [UInt8] = []
                let found = rendered.append(reason, to: &bytes)
                #expect(found == held.contains(reason), "\(reason) against \(held)")
                if found {
                    var fresh: [UInt8] = []
                    reason.writeJSON(into: &fresh)
                    #expect(bytes == fresh)
                    answered += 1
                } else {
                    #expect(bytes.isEmpty)
                }
            }
        }
        #expect(answered > 300)
    }
}
