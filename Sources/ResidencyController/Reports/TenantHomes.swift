import ResidencyStore

/// The directory's tenants grouped by home region, each group in id order (Swift's `<`, the order of the data
/// plane's sorted listings), so the audit can merge a region folder's listing with the tenants homed there in
/// one pass — no dictionary of 100,000 ids built per view.
struct TenantHomes: Sendable {
    typealias Location = TenantRepository.Location

    private(set) var groups: [String: [Location]] = [:]

    /// `locations` in (region, id) order as the database gives them; a group whose ids the database ordered
    /// otherwise than Swift (a PostgreSQL collation) is sorted here.
    init(_ locations: [Location]) {
        var start = 0
        while start < locations.count {
            let region = locations[start].region
            var end = start + 1
            while end < locations.count && locations[end].region == region { end += 1 }
            var group = Array(locations[start..<end])
            if !zip(group, group.dropFirst()).allSatisfy({ $0.id < $1.id }) { group.sort { $0.id < $1.id } }
            groups[region, default: []].append(contentsOf: group)
            start = end
        }
        // A region split into two runs (an order the database chose differently) is merged back into id order.
        for (region, group) in groups where !zip(group, group.dropFirst()).allSatisfy({ $0.id < $1.id }) {
            groups[region] = group.sorted { $0.id < $1.id }
        }
    }

    func group(_ region: String) -> [Location] { groups[region] ?? [] }

    /// The tenant's location wherever it is homed (a binary search per region): for data found outside its home.
    func find(_ id: String) -> Location? {
        for group in groups.values {
            var low = 0
            var high = group.count
            while low < high {
                let middle = (low + high) / 2
                if group[middle].id < id { low = middle + 1 } else { high = middle }
            }
            if low < group.count && group[low].id == id { return group[low] }
        }
        return nil
    }
}
