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

        var count: Int { ends.count }

        mutating func append(id: UnsafeRawBufferPointer, status: TenantStatus) {
            bytes.append(contentsOf: id)
            ends.append(bytes.count)
            statuses.append(status)
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
            withIDs { id in for index in order { sorted.append(id: id(index), status: statuses[index]) } }
            return sorted
        }

        /// Where `id` is, by binary search.
        func index(of wanted: UnsafeRawBufferPointer) -> Int? {
            withIDs { id in
                var low = 0
                var high = count
                while low < high {
                    let middle = (low + high) / 2
                    if TenantHomes.compare(id(middle), wanted) < 0 { low = middle + 1 } else { high = middle }
                }
                return low < count && TenantHomes.compare(id(low), wanted) == 0 ? low : nil
            }
        }
    }

    private(set) var groups: [String: Group] = [:]

    /// Reads the homes `read` hands over, in (region, id) order as the database gives them; a group whose ids the
    /// database ordered otherwise than by bytes (a PostgreSQL collation), or a region in two runs, is sorted.
    init(
        _ read: (
            (_ region: UnsafeRawBufferPointer, _ id: UnsafeRawBufferPointer, _ status: TenantStatus) throws -> Void
        )
            throws -> Void
    ) rethrows {
        var current: [UInt8] = []
        var group = Group()
        var groups: [String: Group] = [:]
        func close() {
            guard group.count > 0 else { return }
            let region = String(decoding: current, as: UTF8.self)
            if var earlier = groups[region] {
                group.withIDs { id in
                    for index in 0..<group.count { earlier.append(id: id(index), status: group.statuses[index]) }
                }
                groups[region] = earlier
            } else {
                groups[region] = group
            }
            group = Group()
        }
        try read { region, id, status in
            if !region.elementsEqual(current) {
                close()
                current = Array(region)
            }
            group.append(id: id, status: status)
        }
        close()
        for (region, group) in groups where !group.isInByteOrder { groups[region] = group.sortedByBytes() }
        self.groups = groups
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
