import ResidencyCore
import Testing

@testable import ResidencyController
@testable import ResidencyStore

/// The audit merges each region folder's sorted listing with `TenantHomes`' groups, so each group must be in
/// byte order whatever order the database gave (PostgreSQL sorts text by its collation), and a region the database
/// gave in two runs must be one group.
@Suite struct TenantHomesTests {
    /// Homes built from rows as a database would hand them over.
    static func homes(_ rows: [(id: String, region: String, status: TenantStatus)]) throws -> TenantHomes {
        try TenantHomes { body in
            for row in rows {
                var region = row.region
                var id = row.id
                try region.withUTF8 { region in
                    try id.withUTF8 { id in
                        try body(
                            UnsafeRawBufferPointer(region), UnsafeRawBufferPointer(id), row.status,
                            UnsafeRawBufferPointer(start: nil, count: 0))
                    }
                }
            }
        }
    }

    static func find(_ homes: TenantHomes, _ id: String) -> (region: String, status: TenantStatus)? {
        var id = id
        return id.withUTF8 { homes.find(UnsafeRawBufferPointer($0)) }
    }

    @Test func groupsAreInByteOrderWhateverTheDatabaseGave() throws {
        // A collation that ignores "_" and case puts "tn_B" before "tn_a" and "tnc" between them; a region in two runs.
        let homes = try Self.homes([
            ("tn_a", "eu", .active), ("tnc", "eu", .deleted), ("tn_B", "eu", .active),
            ("tn_z", "uk", .suspended), ("tn_d", "eu", .closed),
        ])
        let eu = homes.group("eu")
        #expect((0..<eu.count).map(eu.id) == ["tn_B", "tn_a", "tn_d", "tnc"])
        #expect(eu.statuses == [.active, .active, .closed, .deleted])
        #expect((0..<homes.group("uk").count).map(homes.group("uk").id) == ["tn_z"])
        #expect(homes.group("us").count == 0)
        for (id, region) in [("tn_a", "eu"), ("tnc", "eu"), ("tn_B", "eu"), ("tn_z", "uk"), ("tn_d", "eu")] {
            #expect(Self.find(homes, id)?.region == region)
        }
        #expect(Self.find(homes, "tnc")?.status == .deleted)
        #expect(Self.find(homes, "tn_q") == nil)
        #expect(Self.find(homes, "tn_") == nil)  // a prefix of ids is not an id
    }

    /// Folders as the comparison takes them: each listing packed in byte order.
    static func folders(_ listings: [(region: String, ids: [String])]) -> [DataPlaneComparison.Folder] {
        listings.map { ($0.region, PackedIDs(sorting: $0.ids)) }
    }

    /// The comparison of folders with the homes: home data, data away from home, of a deleted or an unknown tenant,
    /// and missing data, each found once and in the audit's order.
    @Test func theComparisonFindsEachKind() throws {
        let homes = try Self.homes([
            ("tn_1", "eu", .active), ("tn_2", "eu", .active), ("tn_3", "eu", .deleted), ("tn_4", "uk", .active),
            ("tn_5", "uk", .deleted),
        ])
        let comparison = DataPlaneComparison(
            homes: homes,
            folders: Self.folders([("eu", ["tn_1", "tn_3", "tn_4"]), ("uk", ["tn_0", "tn_5"]), ("us", ["tn_2"])]))
        #expect(comparison.checked == 6)
        #expect(
            Array(comparison.findings) == [
                .deleted(id: "tn_3", region: "eu"), .away(id: "tn_4", home: "uk", region: "eu"),
                .unknown(id: "tn_0", region: "uk"), .deleted(id: "tn_5", region: "uk"),
                .away(id: "tn_2", home: "eu", region: "us"), .missing(id: "tn_2", home: "eu"),
                .missing(id: "tn_4", home: "uk"),
            ])
        // A listing in Swift's order that is not byte order (Swift compares a decomposed "é" — e, U+0301 — as é,
        // after "f"; its bytes sort before): merged again in byte order, the findings of the names sorted by bytes.
        let decomposed = "tn_e\u{301}"
        let listed = ["tn_1", "tn_f", decomposed]
        let byBytes = listed.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(listed == listed.sorted() && byBytes != listed)
        let unordered = DataPlaneComparison(homes: homes, folders: Self.folders([("eu", listed)]))
        let sorted = DataPlaneComparison(homes: homes, folders: Self.folders([("eu", byBytes)]))
        #expect(Array(unordered.findings) == Array(sorted.findings) && unordered.checked == 3)
        #expect(unordered.findings.contains(.unknown(id: decomposed, region: "eu")))
    }

    /// A name listed twice in a folder (two file names that are not UTF-8 read as one) is one finding, in a fresh
    /// comparison and after a patch that changes that tenant alike.
    @Test func aNameListedTwiceIsOneFindingFreshOrPatched() throws {
        let twice = "tn_x\u{FFFD}"
        let folders = DataPlaneComparison.Memo().folders([
            ("eu", FolderListing.Listing(names: ["tn_1", twice, twice], generation: 1))
        ])
        #expect(folders.map { $0.names.strings } == [["tn_1", twice]])
        var homes = try Self.homes(["tn_1": .init(id: "tn_1", region: "eu", country: "DE", status: .active)])
        var comparison = DataPlaneComparison(homes: homes, folders: folders)
        let unknown: [DataPlaneComparison.Finding] = [.unknown(id: twice, region: "eu")]
        #expect(Array(comparison.findings) == unknown)
        let arrived = TenantRepository.Location(id: twice, region: "uk", country: "GB", status: .active)
        homes.update(PackedIDs(distinct: [twice]), to: [arrived])
        comparison.update(PackedIDs(distinct: [twice]), homes: homes, folders: folders)
        let afresh = DataPlaneComparison(homes: homes, folders: folders)
        #expect(Array(comparison.findings) == Array(afresh.findings))
        let away: [DataPlaneComparison.Finding] = [
            .away(id: twice, home: "uk", region: "eu"), .missing(id: twice, home: "uk"),
        ]
        #expect(Array(afresh.findings) == away)
    }

    /// Homes with countries, built from rows as a database hands them over (in (region, id) order).
    static func homes(_ rows: [String: TenantRepository.Location]) throws -> TenantHomes {
        let sorted = rows.values.sorted { ($0.region, $0.id) < ($1.region, $1.id) }
        return try TenantHomes { body in
            for row in sorted {
                var region = row.region
                var id = row.id
                var country = row.country ?? ""
                try region.withUTF8 { region in
                    try id.withUTF8 { id in
                        try country.withUTF8 { country in
                            try body(
                                UnsafeRawBufferPointer(region), UnsafeRawBufferPointer(id), row.status,
                                UnsafeRawBufferPointer(country))
                        }
                    }
                }
            }
        }
    }

    /// Everything the homes say: each group's ids, statuses and countries, and the live counts.
    static func contents(_ homes: TenantHomes) -> [String] {
        var lines: [String] = []
        for (region, group) in homes.groups.sorted(by: { $0.key < $1.key }) where group.count > 0 {
            for index in 0..<group.count {
                lines.append(
                    "\(region) \(group.id(index)) \(group.statuses[index]) "
                        + "\(homes.countries.name(group.countries[index]) ?? "-")")
            }
        }
        for row in homes.liveCountsByCountry.sorted(by: {
            ($0.region, $0.country ?? "") < ($1.region, $1.country ?? "")
        }) {
            lines.append("live \(row.region) \(row.country ?? "-") \(row.tenants)")
        }
        return lines
    }

    /// A small deterministic generator, so a failure can be run again as it was.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
    }

    /// Homes patched (`TenantHomes.update`) and the comparison patched with them (`DataPlaneComparison.update`)
    /// equal homes and a comparison made afresh from the same rows, through inserts, deletes, region moves, status
    /// and country changes and new ids: mostly a few at a time (a group changed in place), and every few rounds a
    /// burst of hundreds or thousands (groups rebuilt in one merge, beyond `TenantHomes.mostShiftedInPlace`), up to
    /// most of the directory.
    @Test func patchedHomesAndComparisonEqualFreshOnes() throws {
        var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
        let regions = ["eu", "uk", "us", "india"]
        let countries: [String?] = [nil, "DE", "FR", "GB", "US"]
        let statuses: [TenantStatus] = [.active, .active, .suspended, .closed, .deleted]
        func location(_ id: String) -> TenantRepository.Location {
            TenantRepository.Location(
                id: id, region: regions.randomElement(using: &random)!,
                country: countries.randomElement(using: &random)!, status: statuses.randomElement(using: &random)!)
        }
        // Ids of several lengths and a few non-ASCII ones, so byte order is not the order of lengths or of `<`
        // on decomposed text.
        func newID() -> String {
            let base = "tn_" + String(random.next() % 1_000_000, radix: 16)
            switch random.next() % 10 {
            case 0: return base + "\u{e9}"
            case 1: return base + "e\u{301}"
            default: return base
            }
        }
        var rows: [String: TenantRepository.Location] = [:]
        for _ in 0..<2_000 {
            let id = newID()
            rows[id] = location(id)
        }
        // Each folder lists some of the tenants homed anywhere and some ids the directory never knew.
        let listings: [(region: String, ids: [String])] = regions.map { region in
            (
                region,
                Array(Set(rows.keys.filter { _ in random.next() % 3 != 0 } + (0..<20).map { _ in newID() })).sorted()
            )
        }
        let folders = Self.folders(listings)
        var homes = try Self.homes(rows)
        var comparison = DataPlaneComparison(homes: homes, folders: folders)
        let bursts = [0, 0, 0, 30, 0, 0, 400, 0, 2_500]
        for round in 0..<120 {
            var changed: Set<String> = []
            let burst = bursts[round % bursts.count]
            let before = rows.keys.sorted()  // in a set order, so a failure can be run again as it was
            for _ in 0..<(burst > 0 ? burst : 1 + Int(random.next() % 4)) {
                let existing = before.randomElement(using: &random)!
                guard rows[existing] != nil else { continue }  // gone earlier in the burst
                switch random.next() % 6 {
                case 0:
                    let id = newID()
                    rows[id] = location(id)
                    changed.insert(id)
                case 1:
                    rows[existing] = nil
                    changed.insert(existing)
                case 2:
                    let old = rows[existing]!
                    let id = newID()
                    rows[existing] = nil
                    rows[id] = .init(id: id, region: old.region, country: old.country, status: old.status)
                    changed.formUnion([existing, id])
                default:
                    rows[existing] = location(existing)
                    changed.insert(existing)
                }
            }
            let packed = PackedIDs(distinct: changed)
            homes.update(packed, to: changed.compactMap { rows[$0] })
            let expected = try Self.homes(rows)
            #expect(Self.contents(homes) == Self.contents(expected), "round \(round), \(changed.count) changed")
            comparison.update(packed, homes: homes, folders: folders)
            let afresh = DataPlaneComparison(homes: expected, folders: folders)
            #expect(Array(comparison.findings) == Array(afresh.findings), "round \(round), \(changed.count) changed")
            #expect(comparison.checked == afresh.checked)
        }
        #expect(Array(comparison.findings).contains { if case .missing = $0 { true } else { false } })
        #expect(Array(comparison.findings).contains { if case .away = $0 { true } else { false } })
    }
}
