import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// The audit merges each region folder's sorted listing with `TenantHomes`' groups, so each group must be in
/// Swift's id order whatever order the database gave (PostgreSQL sorts text by its collation).
@Suite struct TenantHomesTests {
    func location(_ id: String, _ region: String) -> TenantRepository.Location {
        TenantRepository.Location(id: id, region: region, country: nil, status: .active)
    }

    @Test func groupsAreInSwiftsIdOrderWhateverTheDatabaseGave() {
        // A collation that ignores "_" and case puts "tn_B" before "tn_a" and "tnc" between them; a region in two runs.
        let homes = TenantHomes([
            location("tn_a", "eu"), location("tnc", "eu"), location("tn_B", "eu"),
            location("tn_z", "uk"), location("tn_d", "eu"),
        ])
        #expect(homes.group("eu").map(\.id) == ["tn_B", "tn_a", "tn_d", "tnc"])
        #expect(homes.group("uk").map(\.id) == ["tn_z"])
        #expect(homes.group("us").isEmpty)
        for id in ["tn_a", "tnc", "tn_B", "tn_z", "tn_d"] { #expect(homes.find(id)?.id == id) }
        #expect(homes.find("tn_q") == nil)
        #expect(homes.find("tn_z")?.region == "uk")
    }
}
