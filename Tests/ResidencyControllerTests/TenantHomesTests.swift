import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

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

    /// The comparison of folders with the homes: home data, data away from home, of a deleted or an unknown tenant,
    /// and missing data, each found once and in the audit's order.
    @Test func theComparisonFindsEachKind() throws {
        let homes = try Self.homes([
            ("tn_1", "eu", .active), ("tn_2", "eu", .active), ("tn_3", "eu", .deleted), ("tn_4", "uk", .active),
            ("tn_5", "uk", .deleted),
        ])
        let comparison = DataPlaneComparison(
            homes: homes, folders: [("eu", ["tn_1", "tn_3", "tn_4"]), ("uk", ["tn_0", "tn_5"]), ("us", ["tn_2"])])
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
        let unordered = DataPlaneComparison(homes: homes, folders: [("eu", listed)])
        let sorted = DataPlaneComparison(homes: homes, folders: [("eu", byBytes)])
        #expect(Array(unordered.findings) == Array(sorted.findings) && unordered.checked == 3)
        #expect(unordered.findings.contains(.unknown(id: decomposed, region: "eu")))
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

    /// Homes patched tenant by tenant (`TenantHomes.update`) and the comparison patched with them
    /// (`DataPlaneComparison.update`) equal homes and a comparison made afresh from the same rows, through
    /// inserts, deletes, region moves, status and country changes and new ids, a few at a time.
    @Test func patchedHomesAndComparisonEqualFreshOnes() throws {
        var random = Generator(state: 0x9E37_79B9_7F4A_7C15)
        let regions = ["eu", "uk", "us"]
        let countries: [String?] = [nil, "DE", "FR", "GB", "US"]
        let statuses: [TenantStatus] = [.active, .active, .suspended, .closed, .deleted]
        func location(_ id: String) -> TenantRepository.Location {
            TenantRepository.Location(
                id: id, region: regions.randomElement(using: &random)!,
                country: countries.randomElement(using: &random)!, status: statuses.randomElement(using: &random)!)
        }
        func newID() -> String { "tn_" + String(random.next() % 1_000_000, radix: 16) }
        var rows: [String: TenantRepository.Location] = [:]
        for _ in 0..<300 {
            let id = newID()
            rows[id] = location(id)
        }
        // Each folder lists some of the tenants homed anywhere and some ids the directory never knew, sorted.
        var folders: [(region: String, ids: [String])] = regions.map { region in
            (region, (rows.keys.filter { _ in random.next() % 3 != 0 } + (0..<5).map { _ in newID() }).sorted())
        }
        folders = folders.map { ($0.region, Array(Set($0.ids)).sorted()) }
        var homes = try Self.homes(rows)
        var comparison = DataPlaneComparison(homes: homes, folders: folders)
        for round in 0..<200 {
            var changed: Set<String> = []
            for _ in 0..<(1 + Int(random.next() % 4)) {
                let existing = rows.keys.sorted().randomElement(using: &random)!
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
            homes.update(changed, to: changed.compactMap { rows[$0] })
            let expected = try Self.homes(rows)
            #expect(Self.contents(homes) == Self.contents(expected), "round \(round)")
            let patched = comparison.update(changed, homes: homes, folders: folders)
            #expect(patched)
            let afresh = DataPlaneComparison(homes: expected, folders: folders)
            #expect(Array(comparison.findings) == Array(afresh.findings), "round \(round)")
            #expect(comparison.checked == afresh.checked)
        }
    }
}
