import Foundation
import ResidencyCore
import ResidencyStore

/// The directory's tenants grouped by home region, each group's ids packed in byte order (the order of UTF-8
/// `memcmp`, which for the ids' characters is also Swift's `<`), so the audit can merge a region folder's sorted
/// listing with the tenants homed there in one pass. Packed — one buffer of id bytes per region, no String or
/// struct per tenant — because it is rebuilt from 100,000 rows whenever the tenants table changes, and the
/// Strings and copies cost the map page as much as reading the rows.
struct TenantHomes: Sendable {
    /// One region's tenants: ids in byte order, with their statuses.
    struct Group: Sendable {
        private(set) var bytes: [UInt8] = []
        /// Where each id ends in `bytes` (it starts where the previous ends).
        private(set) var ends: [Int] = []
        private(set) var statuses: [TenantStatus] = []
        /// Each tenant's declared country, as its index in `TenantHomes.countries`.
        private(set) var countries: [UInt16] = []

        var count: Int { ends.count }

        mutating func append(id: UnsafeRawBufferPointer, status: TenantStatus, country: UInt16) {
            bytes.append(contentsOf: id)
            ends.append(bytes.count)
            statuses.append(status)
            countries.append(country)
        }

        /// Puts `id` at `index` (where a binary search for it ended): the ids after it move up, in place.
        mutating func insert(id: UnsafeRawBufferPointer, status: TenantStatus, country: UInt16, at index: Int) {
            let at = start(index)
            bytes.insert(contentsOf: id, at: at)
            ends.insert(at + id.count, at: index)
            for later in (index + 1)..<ends.count { ends[later] += id.count }
            statuses.insert(status, at: index)
            countries.insert(country, at: index)
        }

        mutating func remove(at index: Int) {
            let range = start(index)..<ends[index]
            bytes.removeSubrange(range)
            ends.remove(at: index)
            for later in index..<ends.count { ends[later] -= range.count }
            statuses.remove(at: index)
            countries.remove(at: index)
        }

        mutating func set(status: TenantStatus, country: UInt16, at index: Int) {
            statuses[index] = status
            countries[index] = country
        }

        func start(_ index: Int) -> Int { index == 0 ? 0 : ends[index - 1] }

        func id(_ index: Int) -> String {
            String(decoding: bytes[start(index)..<ends[index]], as: UTF8.self)
        }

        /// Calls `body` with the packed ids and a way to slice one out: for loops over many ids without a copy.
        func withIDs<R>(_ body: (_ id: (Int) -> UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try bytes.withUnsafeBytes { buffer in
                try body { index in UnsafeRawBufferPointer(rebasing: buffer[start(index)..<ends[index]]) }
            }
        }

        var isInByteOrder: Bool {
            withIDs { id in (1..<max(1, count)).allSatisfy { TenantHomes.compare(id($0 - 1), id($0)) < 0 } }
        }

        /// The same tenants in byte order (a database that ordered them by a collation).
        func sortedByBytes() -> Group {
            let order = withIDs { id in
                (0..<count).sorted { TenantHomes.compare(id($0), id($1)) < 0 }
            }
            var sorted = Group()
            withIDs { id in
                for index in order { sorted.append(id: id(index), status: statuses[index], country: countries[index]) }
            }
            return sorted
        }

        /// Where `id` is, by binary search.
        func index(of wanted: UnsafeRawBufferPointer) -> Int? {
            let low = insertionIndex(of: wanted)
            return low < count && withIDs({ TenantHomes.compare($0(low), wanted) == 0 }) ? low : nil
        }

        /// The first index whose id is not before `wanted`.
        func insertionIndex(of wanted: UnsafeRawBufferPointer) -> Int {
            withIDs { id in
                var low = 0
                var high = count
                while low < high {
                    let middle = (low + high) / 2
                    if TenantHomes.compare(id(middle), wanted) < 0 { low = middle + 1 } else { high = middle }
                }
                return low
            }
        }
    }

    private(set) var groups: [String: Group] = [:]
    /// The countries tenants declared, each once; index 0 is none declared.
    private(set) var countries = CountryTable()
    /// How many tenants that are not deleted each region has, per country (by index in `countries`).
    private var live: [String: [Int]] = [:]

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
        var current: [UInt8] = []
        var group = Group()
        var counts: [Int] = []
        var groups: [String: Group] = [:]
        var countries = CountryTable()
        var live: [String: [Int]] = [:]
        func close() {
            guard group.count > 0 else { return }
            let region = String(decoding: current, as: UTF8.self)
            if var earlier = groups[region] {
                group.withIDs { id in
                    for index in 0..<group.count {
                        earlier.append(id: id(index), status: group.statuses[index], country: group.countries[index])
                    }
                }
                groups[region] = earlier
            } else {
                groups[region] = group
            }
            var total = live[region] ?? []
            if total.count < counts.count { total += Array(repeating: 0, count: counts.count - total.count) }
            for (country, count) in counts.enumerated() { total[country] += count }
            live[region] = total
            group = Group()
            counts = []
        }
        try read { region, id, status, country in
            if !region.elementsEqual(current) {
                close()
                current = Array(region)
            }
            let index = countries.index(country)
            group.append(id: id, status: status, country: index)
            if status != .deleted {
                if counts.count <= Int(index) { counts += Array(repeating: 0, count: Int(index) + 1 - counts.count) }
                counts[Int(index)] += 1
            }
        }
        close()
        for (region, group) in groups where !group.isInByteOrder { groups[region] = group.sortedByBytes() }
        self.groups = groups
        self.countries = countries
        self.live = live
    }

    func group(_ region: String) -> Group { groups[region] ?? Group() }

    /// The home region and status of `id` wherever it is homed (a binary search per region): for data found
    /// outside its home.
    func find(_ id: UnsafeRawBufferPointer) -> (region: String, status: TenantStatus)? {
        locate(id).map { ($0.region, groups[$0.region]!.statuses[$0.index]) }
    }

    /// The group and place of `id` wherever it is homed.
    func locate(_ id: UnsafeRawBufferPointer) -> (region: String, index: Int)? {
        for (region, group) in groups {
            if let index = group.index(of: id) { return (region, index) }
        }
        return nil
    }

    /// How many tenants that are not deleted live in each region and country (nil: none declared), as the
    /// database counts them (`TenantRepository.liveCountsByCountry`; no region or country with none).
    var liveCountsByCountry: [(region: String, country: String?, tenants: Int)] {
        live.flatMap { region, counts in
            counts.enumerated().compactMap { country, count in
                count > 0 ? (region, countries.name(UInt16(country)), count) : nil
            }
        }
    }

    /// Sets the homes of `ids` to what the directory holds now: `locations` has the ones that exist (any other id
    /// is no longer a tenant). Each id's old place is found by binary search and the group changed in place (its
    /// ids after the change move), so a few changes cost a few copies of a group's arrays, not a read of every
    /// tenant.
    mutating func update(_ ids: some Sequence<String>, to locations: [TenantRepository.Location]) {
        var now: [String: TenantRepository.Location] = [:]
        for location in locations { now[location.id] = location }
        for id in ids { update(id, to: now[id]) }
    }

    private mutating func update(_ id: String, to location: TenantRepository.Location?) {
        var id = id
        id.withUTF8 { bytes in
            let id = UnsafeRawBufferPointer(bytes)
            let country = location.map { countries.index(name: $0.country) } ?? 0
            if let place = locate(id) {
                let (region, index) = (place.region, place.index)
                // Read out, not the group copied: a copy alive while the group changes would copy its arrays.
                let (oldCountry, oldStatus) = (groups[region]!.countries[index], groups[region]!.statuses[index])
                count(region: region, country: oldCountry, status: oldStatus, by: -1)
                if let location, location.region == region {
                    groups[region]!.set(status: location.status, country: country, at: index)
                    count(region: region, country: country, status: location.status, by: 1)
                    return
                }
                groups[region]!.remove(at: index)
                if groups[region]!.count == 0 { groups[region] = nil }
            }
            guard let location else { return }
            var group = groups.removeValue(forKey: location.region) ?? Group()
            group.insert(id: id, status: location.status, country: country, at: group.insertionIndex(of: id))
            groups[location.region] = group
            count(region: location.region, country: country, status: location.status, by: 1)
        }
    }

    private mutating func count(region: String, country: UInt16, status: TenantStatus, by change: Int) {
        guard status != .deleted else { return }
        var counts = live.removeValue(forKey: region) ?? []
        if counts.count <= Int(country) { counts += Array(repeating: 0, count: Int(country) + 1 - counts.count) }
        counts[Int(country)] += change
        live[region] = counts
    }

    /// `memcmp` order: negative, zero or positive as `a` sorts before, with or after `b`.
    static func compare(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let common = min(a.count, b.count)
        if common > 0 {
            let order = memcmp(a.baseAddress!, b.baseAddress!, common)
            if order != 0 { return Int(order) }
        }
        return a.count - b.count
    }
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
