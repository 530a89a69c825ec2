/// The `residency_placements_total` cells of placements in each region of the catalog, resolved when the service
/// starts, so that counting a placement — tens of thousands a second — compares a few short region ids and adds
/// to an atomic instead of building label Strings and hashing them under one lock shared by every thread.
/// Refusals (rarer, and labelled by code) are counted through `Counters.increment`, into the same series.
struct PlacementTally: Sendable {
    private let regions: [String]
    private let cells: [Counters.Cell]

    init(regions: [String], counters: Counters) {
        self.regions = regions
        cells = regions.map { counters.cell(.placements, [("region", $0), ("outcome", "placed")]) }
    }

    /// The cell for a placement in `region`; nil for a region the catalog did not list.
    func placed(in region: String) -> Counters.Cell? {
        // A linear scan: catalogs list a handful of regions, and short ids compare without hashing.
        for (index, id) in regions.enumerated() where id == region { return cells[index] }
        return nil
    }
}
