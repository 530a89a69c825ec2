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
                        try body(UnsafeRawBufferPointer(region), UnsafeRawBufferPointer(id), row.status)
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
            comparison.findings == [
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
        #expect(unordered.findings == sorted.findings && unordered.checked == 3)
        #expect(unordered.findings.contains(.unknown(id: decomposed, region: "eu")))
    }
}
