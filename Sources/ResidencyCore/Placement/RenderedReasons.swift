/// The reasons a country's plan gives every decision that uses it the same way, with their JSON rendered once:
/// its residency constraint (`mandatory_region`, `region_choice`, `any_region`) and, for each candidate measured
/// from the country's own point, the `nearest_region` and `site` reasons. The placer builds them with its plans,
/// at every policy load, so they follow the policy by construction.
///
/// Writing a placement answer rendered these on every request — policy text escaped, numbers printed — for a
/// quarter of the answer's cost. A rendered reason is used only for a reason equal to the one it was rendered
/// from, so an answer's bytes are the same with or without them, from this placer or any other; the decision
/// itself carries nothing of them (its equality and hash are its values').
///
/// A class: the placer's country plan hands it out per answer, and as a struct every hand-off retained each of its
/// arrays (measured at a third of the lookup). Entries are found by a number before the reasons are compared
/// whole (comparing the wrong entries' strings first cost more than rendering).
final class RenderedReasons: Sendable {
    struct Entry: Sendable {
        let reason: PlacementReason
        let json: [UInt8]
        /// The reason's kilometres (-1 for none, or a constraint): compared before the reasons themselves.
        let key: Int

        init(_ reason: PlacementReason) {
            self.reason = reason
            var json: [UInt8] = []
            reason.writeJSON(into: &json)
            self.json = json
            key = Self.key(of: reason)
        }

        static func key(of reason: PlacementReason) -> Int {
            switch reason {
            case .nearestRegion(_, let kilometres, _): return kilometres
            case .site(_, let kilometres): return kilometres ?? -1
            default: return -1
            }
        }
    }

    let constraint: Entry?
    let nearest: [Entry]
    let sites: [Entry]

    init(constraint: PlacementReason?, nearest: [PlacementReason], sites: [PlacementReason]) {
        self.constraint = constraint.map(Entry.init)
        self.nearest = nearest.map(Entry.init)
        self.sites = sites.map(Entry.init)
    }

    /// Appends `reason`'s JSON when it is one of these; false (nothing written) otherwise.
    func append<Sink: JSONByteSink & ~Copyable>(_ reason: PlacementReason, to output: inout Sink) -> Bool {
        switch reason {
        case .mandatoryRegion, .regionChoice, .anyRegion:
            guard let constraint, constraint.reason == reason else { return false }
            output.appendBytes(constraint.json)
            return true
        case .nearestRegion: return Self.append(reason, from: nearest, to: &output)
        case .site: return Self.append(reason, from: sites, to: &output)
        default: return false
        }
    }

    private static func append<Sink: JSONByteSink & ~Copyable>(
        _ reason: PlacementReason, from entries: [Entry], to output: inout Sink
    ) -> Bool {
        let key = Entry.key(of: reason)
        for index in entries.indices where entries[index].key == key && entries[index].reason == reason {
            output.appendBytes(entries[index].json)
            return true
        }
        return false
    }
}
