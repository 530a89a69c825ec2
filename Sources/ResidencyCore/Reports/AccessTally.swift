/// The summary of a cross-border report's access lines, added up one line at a time, so a report that streams
/// its lines can print the summary (which comes before them) without keeping them. Its memory follows the
/// number of distinct destinations, bases, justifications, staff members and self-decided requests, not the
/// number of lines.
package struct AccessTally: Sendable {
    package private(set) var accesses = 0
    private var destinations: [String: Int] = [:]
    private var bases: [String: Int] = [:]
    private var justifications: [String: Int] = [:]
    private var staff: [String: Int] = [:]
    private var decidedByFiler = Set<String>()

    package init() {}

    package mutating func add(_ access: CrossBorderReport.Access) {
        accesses += 1
        destinations[access.destination, default: 0] += 1
        bases[access.basis, default: 0] += 1
        justifications[access.justification, default: 0] += 1
        staff[access.staff, default: 0] += 1
        if access.grant.decidedByFiler { decidedByFiler.insert(access.request) }
    }

    /// Adds `count` lines that share these figure keys, already added up elsewhere (a day's summary row).
    package mutating func add(destination: String, basis: String, justification: String, staff: String, count: Int) {
        accesses += count
        destinations[destination, default: 0] += count
        bases[basis, default: 0] += count
        justifications[justification, default: 0] += count
        self.staff[staff, default: 0] += count
    }

    /// Counts a request whose grant was decided by its own filer (counted once however often it is added).
    package mutating func addDecidedByFiler(request: String) { decidedByFiler.insert(request) }

    package var byDestination: [(key: String, count: Int)] { Self.ranked(destinations) }
    package var byBasis: [(key: String, count: Int)] { Self.ranked(bases) }
    package var byJustification: [(key: String, count: Int)] { Self.ranked(justifications) }
    package var byStaff: [(key: String, count: Int)] { Self.ranked(staff) }
    package var grantsDecidedByFiler: Int { decidedByFiler.count }

    /// Largest first, ties by key: the order `CrossBorderReport.counts` gives.
    static func ranked(_ counts: [String: Int]) -> [(key: String, count: Int)] {
        counts.map { ($0.key, $0.value) }.sorted { $0.count != $1.count ? $0.count > $1.count : $0.key < $1.key }
    }
}
