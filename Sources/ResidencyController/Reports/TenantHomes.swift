import Foundation
import ResidencyCore
import ResidencyStore

/// The directory's tenants grouped by home region, each group's ids packed in byte order (the order of UTF-8
/// `memcmp`, which for the ids' characters is also Swift's `<`), so the audit can merge a region folder's sorted
/// listing with the tenants homed there in one pass. Packed — one buffer of id bytes per region, no String or
/// struct per tenant — because it is rebuilt from 100,000 rows whenever the log of changes cannot vouch for what
/// changed, and the Strings and copies cost the map page as much as reading the rows.
struct TenantHomes: Sendable {
    /// One region's tenants: ids in byte order, with their statuses.
    struct Group: Sendable {
        private(set) var ids = PackedIDs()
        private(set) var statuses: [TenantStatus] = []
        /// Each tenant's declared country, as its index in `TenantHomes.countries`.
        private(set) var countries: [UInt16] = []

        var count: Int { ids.count }

        mutating func reserveCapacity(_ count: Int, bytes: Int) {
            ids.reserveCapacity(ids: count, bytes: bytes)
            statuses.reserveCapacity(count)
            countries.reserveCapacity(count)
        }

        mutating func append(id: UnsafeRawBufferPointer, status: TenantStatus, country: UInt16) {
            ids.append(id)
            statuses.append(status)
            countries.append(country)
        }

        /// Puts `id` at `index` (where a binary search for it ended): the ids after it move up, in place.
        mutating func insert(id: UnsafeRawBufferPointer, status: TenantStatus, country: UInt16, at index: Int) {
            ids.insert(id, at: index)
            statuses.insert(status, at: index)
            countries.insert(country, at: index)
        }

        mutating func remove(at index: Int) {
            ids.remove(at: index)
            statuses.remove(at: index)
            countries.remove(at: index)
        }

        mutating func set(status: TenantStatus, country: UInt16, at index: Int) {
            statuses[index] = status
            countries[index] = country
        }

        func id(_ index: Int) -> String { ids.id(index) }

        /// Calls `body` with the packed ids and a way to slice one out: for loops over many ids without a copy.
        func withIDs<R>(_ body: (_ id: (Int) -> UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try ids.withIDs(body)
        }

        var isInByteOrder: Bool { ids.isInByteOrder }

        /// The same tenants in byte order (a database that ordered them by a collation).
        func sortedByBytes() -> Group {
            let (sorted, order) = ids.sortedByBytes()
            return Group(ids: sorted, statuses: order.map { statuses[$0] }, countries: order.map { countries[$0] })
        }

        /// Where `id` is, by binary search.
        func index(of wanted: UnsafeRawBufferPointer) -> Int? { ids.index(of: wanted) }

        /// The first index whose id is not before `wanted`.
        func insertionIndex(of wanted: UnsafeRawBufferPointer) -> Int { ids.insertionIndex(of: wanted) }
    }

    private(set) var groups: [String: Group] = [:]
    /// The countries tenants declared, each once; index 0 is none declared.
    private(set) var countries = CountryTable()
    /// How many tenants that are not deleted each region has, per country (by index in `countries`).
    private var live: [String: [Int]] = [:]

    /// Gathers the rows as the database hands them over: one group per run of a region.
    private struct Builder {
        var current: [UInt8] = []
        var group = Group()
        var counts: [Int] = []
        var homes = TenantHomes()

        mutating func add(
            region: UnsafeRawBufferPointer, id: UnsafeRawBufferPointer, status: TenantStatus,
            country: UnsafeRawBufferPointer
        ) {
            if current.withUnsafeBytes({ PackedIDs.compare($0, region) }) != 0 {
                close()
                current.removeAll(keepingCapacity: true)
                current.append(contentsOf: region)
            }
            let index = homes.countries.index(country)
            group.append(id: id, status: status, country: index)
            if status != .deleted {
                if counts.count <= Int(index) { counts += Array(repeating: 0, count: Int(index) + 1 - counts.count) }
                counts[Int(index)] += 1
            }
        }

        mutating func close() {
            guard group.count > 0 else { return }
            let region = String(decoding: current, as: UTF8.self)
            if var earlier = homes.groups.removeValue(forKey: region) {
                group.withIDs { id in
                    for index in 0..<group.count {
                        earlier.append(id: id(index), status: group.statuses[index], country: group.countries[index])
                    }
                }
                homes.groups[region] = earlier
            } else {
                homes.groups[region] = group
            }
            var total = homes.live.removeValue(forKey: region) ?? []
            if total.count < counts.count { total += Array(repeating: 0, count: counts.count - total.count) }
            for (country, count) in counts.enumerated() { total[country] += count }
            homes.live[region] = total
            group = Group()
            counts = []
        }
    }

    private init() {}

    /// Reads the homes `read` hands over, in (region, id) order as the database gives them; a group whose ids the
    /// database ordered otherwise than by bytes (a PostgreSQL collation), or a region in two runs, is sorted.
    init(
        _ read: (
            (
                _ region: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, _ status: TenantStatus,
                _ country: UnsafeRawBufferPointer
            ) throws -> Void
        )
            throws -> Void
    ) rethrows {
        // One value the closure changes through one method (not several captured variables, each checked for
        // exclusive access at every row).
        var builder = Builder()
        try read { region, id, status, country in builder.add(region: region, id: id, status: status, country: country)
        }
        builder.close()
        var homes = builder.homes
        for (region, group) in homes.groups where !group.isInByteOrder { homes.groups[region] = group.sortedByBytes() }
        self = homes
    }

    func group(_ region: String) -> Group { groups[region] ?? Group() }

    /// The home region and status of `id` wherever it is homed (a binary search per region): for data found
    /// outside its home.
    func find(_ id: UnsafeRawBufferPointer) -> (region: String, status: TenantStatus)? {
        for (region, group) in groups {
            if let index = group.index(of: id) { return (region, group.statuses[index]) }
        }
        return nil
    }

    /// The group and place of `id` wherever it is homed.
    func locate(_ id: UnsafeRawBufferPointer) -> (region: String, index: Int)? {
        for (region, group) in groups {
            if let index = group.index(of: id) { return (region, index) }
        }
        return nil
    }

    /// The group and place of each of `ids` (in byte order) wherever it is homed, nil for one that is not: each
    /// group searched by galloping from the previous id's place, so a burst of thousands costs each group
    /// k·log(n/k) comparisons rather than a binary search per id.
    func locateAll(_ ids: PackedIDs) -> [(region: String, index: Int)?] {
        var places = [(region: String, index: Int)?](repeating: nil, count: ids.count)
        ids.withIDs { id in
            for (region, group) in groups {
                group.withIDs { homeID in
                    var at = 0
                    for index in 0..<ids.count {
                        at = group.ids.insertionIndex(of: id(index), from: at)
                        if at == group.count { break }
                        if PackedIDs.compare(homeID(at), id(index)) == 0 { places[index] = (region, at) }
                    }
                }
            }
        }
        return places
    }

    /// How many tenants that are not deleted live in each region and country (nil: none declared; no region or
    /// country with none).
    var liveCountsByCountry: [(region: String, country: String?, tenants: Int)] {
        live.flatMap { region, counts in
            counts.enumerated().compactMap { country, count in
                count > 0 ? (region, countries.name(UInt16(country)), count) : nil
            }
        }
    }

    /// A region with more tenants joining or leaving than this in one update is rebuilt in one pass (its old ids
    /// merged with the new ones) rather than changed in place id by id (each a shift of the arrays after it).
    static let mostShiftedInPlace = 16

    /// Sets the homes of `changed` (distinct, in byte order) to what the directory holds now: `locations` has the
    /// ones that exist (any other id is no longer a tenant). Each one's old place is found by galloping through
    /// each group: a status or country change is made in place; a tenant that joins or leaves a group moves the
    /// ids after it, or, for more than a few in a group, the group is rebuilt in one merge of its old ids with the
    /// new ones — O(group + changes), where one shift per tenant made a burst of thousands cost more than a full
    /// read. The groups and counts are taken out of their dictionaries while they change (no hashing per tenant).
    mutating func update(_ changed: PackedIDs, to locations: [TenantRepository.Location]) {
        var located = [TenantRepository.Location?](repeating: nil, count: changed.count)
        for location in locations {
            var id = location.id
            if let index = id.withUTF8({ changed.index(of: UnsafeRawBufferPointer($0)) }) { located[index] = location }
        }
        let places = locateAll(changed)  // before anything moves
        var regions = Array(groups.keys)
        var numbers: [String: Int] = [:]
        for (number, region) in regions.enumerated() { numbers[region] = number }
        var list = regions.map { groups.removeValue(forKey: $0)! }
        var counts = regions.map { live.removeValue(forKey: $0) ?? [] }
        func number(_ region: String) -> Int {
            if let number = numbers[region] { return number }
            regions.append(region)
            list.append(Group())
            counts.append(live.removeValue(forKey: region) ?? [])
            numbers[region] = regions.count - 1
            return regions.count - 1
        }
        func count(_ group: Int, _ country: UInt16, _ status: TenantStatus, by change: Int) {
            guard status != .deleted else { return }
            let country = Int(country)
            if counts[group].count <= country {
                counts[group] += Array(repeating: 0, count: country + 1 - counts[group].count)
            }
            counts[group][country] += change
        }
        var leaving: [[Int]] = Array(repeating: [], count: list.count)  // old indices, ascending
        var joining: [[(change: Int, status: TenantStatus, country: UInt16)]] = Array(repeating: [], count: list.count)
        for change in 0..<changed.count {
            let location = located[change]
            let country = location.map { countries.index(name: $0.country) } ?? 0
            let home = location.map { number($0.region) }
            if home != nil && home! >= leaving.count {
                leaving.append([])
                joining.append([])
            }
            if let place = places[change] {
                let (group, index) = (numbers[place.region]!, place.index)
                count(group, list[group].countries[index], list[group].statuses[index], by: -1)
                if let location, home == group {
                    list[group].set(status: location.status, country: country, at: index)
                    count(group, country, location.status, by: 1)
                    continue
                }
                leaving[group].append(index)
            }
            guard let location, let home else { continue }
            joining[home].append((change, location.status, country))
            count(home, country, location.status, by: 1)
        }
        changed.withIDs { changedID in
            for group in 0..<list.count where !leaving[group].isEmpty || !joining[group].isEmpty {
                let (out, into) = (leaving[group], joining[group])
                if out.count + into.count <= Self.mostShiftedInPlace {
                    for index in out.reversed() { list[group].remove(at: index) }
                    for joiner in into {
                        let id = changedID(joiner.change)
                        list[group].insert(
                            id: id, status: joiner.status, country: joiner.country,
                            at: list[group].insertionIndex(of: id))
                    }
                } else {
                    list[group] = Self.merged(list[group], without: out, with: into, changedID)
                }
            }
        }
        for (number, region) in regions.enumerated() {
            if list[number].count > 0 { groups[region] = list[number] }
            live[region] = counts[number]
        }
    }

    /// `group` without the tenants at `out` (ascending) and with `into` (in byte order, none of them in it), in one
    /// pass.
    private static func merged(
        _ group: Group, without out: [Int], with into: [(change: Int, status: TenantStatus, country: UInt16)],
        _ changedID: (Int) -> UnsafeRawBufferPointer
    ) -> Group {
        var result = Group()
        result.reserveCapacity(group.count - out.count + into.count, bytes: group.ids.bytes.count + into.count * 32)
        var next = 0  // in `into`
        var skip = 0  // in `out`
        group.withIDs { id in
            for index in 0..<group.count {
                if skip < out.count && out[skip] == index {
                    skip += 1
                    continue
                }
                let kept = id(index)
                while next < into.count && PackedIDs.compare(changedID(into[next].change), kept) < 0 {
                    result.append(
                        id: changedID(into[next].change), status: into[next].status, country: into[next].country)
                    next += 1
                }
                result.append(id: kept, status: group.statuses[index], country: group.countries[index])
            }
        }
        for joiner in into[next...] {
            result.append(id: changedID(joiner.change), status: joiner.status, country: joiner.country)
        }
        return result
    }

    /// `memcmp` order: negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int { PackedIDs.compare(a, b) }
}

/// The countries tenants declared, each given a small number once (0: none declared), so 100,000 tenants keep
/// two bytes each rather than a String. A two-byte code (every country stored through the API) is looked up in a
/// table by its bytes, with no String made; anything else a hand edit wrote, by its text.
struct CountryTable: Sendable {
    private var names: [String?] = [nil]
    /// Number + 1 of each two-byte code, by its bytes; 0 when not seen yet.
    private var byCode: [UInt16] = []
    private var byName: [String: UInt16] = [:]

    func name(_ index: UInt16) -> String? { names[Int(index)] }

    /// The number of the country whose UTF-8 bytes are `bytes` (empty: none declared), given one if it has none.
    mutating func index(_ bytes: UnsafeRawBufferPointer) -> UInt16 {
        if bytes.isEmpty { return 0 }
        if bytes.count == 2 {
            let code = Int(bytes[0]) << 8 | Int(bytes[1])
            if byCode.isEmpty { byCode = Array(repeating: 0, count: 65_536) }
            if byCode[code] != 0 { return byCode[code] - 1 }
            let index = add(String(decoding: bytes, as: UTF8.self))
            byCode[code] = index + 1
            return index
        }
        let name = String(decoding: bytes, as: UTF8.self)
        if let index = byName[name] { return index }
        return add(name)
    }

    mutating func index(name: String?) -> UInt16 {
        guard var name else { return 0 }
        return name.withUTF8 { index(UnsafeRawBufferPointer($0)) }
    }

    private mutating func add(_ name: String) -> UInt16 {
        // A tenant's country is checked to be two characters long: far fewer than 65,535 of them are ever stored.
        precondition(names.count < Int(UInt16.max), "more declared countries than a two-byte number holds")
        names.append(name)
        let index = UInt16(names.count - 1)
        byName[name] = index
        return index
    }
}
