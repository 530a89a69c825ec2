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
/// arrays (measured at a third of the lookup). Entries are compared field by field, numbers first.
final class RenderedReasons: Sendable {
    struct Entry: Sendable {
        let reason: PlacementReason
        let json: [UInt8]

        init(_ reason: PlacementReason) {
            self.reason = reason
            var json: [UInt8] = []
            reason.writeJSON(into: &json)
            self.json = json
        }
    }

    /// A `nearest_region` or `site` reason's fields, read once from the entry: comparing them is what the
    /// derived `==` does, without copying both reasons into a tuple first (that copy was most of a lookup).
    struct Measured: Sendable {
        let entry: Entry
        let name: String
        let kilometres: Int?
        let source: LocationSource?
    }

    let constraint: Entry?
    let nearest: [Measured]
    let sites: [Measured]

    init(constraint: PlacementReason?, nearest: [PlacementReason], sites: [PlacementReason]) {
        self.constraint = constraint.map(Entry.init)
        self.nearest = nearest.compactMap { reason in
            guard case .nearestRegion(let region, let kilometres, let source) = reason else { return nil }
            return Measured(entry: Entry(reason), name: region, kilometres: kilometres, source: source)
        }
        self.sites = sites.compactMap { reason in
            guard case .site(let site, let kilometres) = reason else { return nil }
            return Measured(entry: Entry(reason), name: site, kilometres: kilometres, source: nil)
        }
    }

    /// Appends `reason`'s JSON when it is one of these; false (nothing written) otherwise.
    func append<Sink: JSONByteSink & ~Copyable>(_ reason: PlacementReason, to output: inout Sink) -> Bool {
        switch reason {
        case .mandatoryRegion, .regionChoice, .anyRegion:
            guard let constraint, Self.sameConstraint(reason, constraint.reason) else { return false }
            output.appendBytes(constraint.json)
            return true
        case .nearestRegion(let region, let kilometres, let source):
            return Self.append(name: region, kilometres: kilometres, source: source, from: nearest, to: &output)
        case .site(let site, let kilometres):
            return Self.append(name: site, kilometres: kilometres, source: nil, from: sites, to: &output)
        default: return false
        }
    }

    private static func append<Sink: JSONByteSink & ~Copyable>(
        name: String, kilometres: Int?, source: LocationSource?, from entries: [Measured], to output: inout Sink
    ) -> Bool {
        for index in entries.indices
        where entries[index].kilometres == kilometres && entries[index].source == source
            && entries[index].name == name
        {
            output.appendBytes(entries[index].entry.json)
            return true
        }
        return false
    }

    /// The derived `==` for the three constraint reasons, field by field.
    private static func sameConstraint(_ reason: PlacementReason, _ rendered: PlacementReason) -> Bool {
        switch rendered {
        case .mandatoryRegion(let country, let rule, let region):
            guard case .mandatoryRegion(let otherCountry, let otherRule, let otherRegion) = reason else { return false }
            return country == otherCountry && rule == otherRule && region == otherRegion
        case .regionChoice(let country, let rule, let regions):
            guard case .regionChoice(let otherCountry, let otherRule, let otherRegions) = reason else { return false }
            return country == otherCountry && rule == otherRule && regions == otherRegions
        case .anyRegion(let country):
            guard case .anyRegion(let otherCountry) = reason else { return false }
            return country == otherCountry
        default: return false
        }
    }
}
