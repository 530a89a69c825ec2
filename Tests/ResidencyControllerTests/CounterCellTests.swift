import Testing

@testable import ResidencyController

/// Counters resolved to cells ahead of time (the placement route's) count into the same series as `increment`,
/// and a series appears only once something has been counted in it.
@Suite struct CounterCellTests {
    @Test func resolvedCellsCountIntoTheSameSeriesAndAppearOnlyOnceCounted() {
        let counters = Counters()
        let tally = PlacementTally(regions: ["uk", "eu"], counters: counters)
        #expect(counters.snapshot.isEmpty)
        #expect(!counters.render().contains("residency_placements_total{"))
        let uk = tally.placed(in: "uk")
        #expect(uk != nil && tally.placed(in: "us") == nil && tally.placed(in: "u") == nil)
        uk?.add()
        counters.increment(.placements, [("region", "uk"), ("outcome", "placed")])
        #expect(counters.value(.placements, [("region", "uk"), ("outcome", "placed")]) == 2)
        #expect(counters.value(.placements, [("region", "eu"), ("outcome", "placed")]) == 0)
        #expect(counters.snapshot.count == 1)
        let text = counters.render([.placements])
        #expect(text.contains(#"residency_placements_total{region="uk",outcome="placed"} 2"#))
        #expect(!text.contains(#"region="eu""#))
        counters.increment(.accessExpiries, by: 0)
        #expect(counters.render([.accessExpiries]).contains("residency_access_expiries_total 0"))
    }
}
