import ResidencyStore
import Synchronization

/// The data plane's folders held against the directory: each listed tenant file is its tenant's home data, data
/// of an unknown or a deleted tenant, or data away from the tenant's home; and each live tenant whose home folder
/// lacks its file misses its data. Worked out from the folder listings and the directory's locations alone, so it
/// is kept for as long as neither changed (`DataPlaneComparison.Memo`). What data away from home means — a
/// migration's copy in flight, a residency violation, a stray copy — depends on migrations and on the tenant's
/// record, and the audit decides it at every view.
struct DataPlaneComparison: Sendable {
    enum Finding: Sendable, Equatable {
        /// Data in `region` for an id the directory does not know.
        case unknown(id: String, region: String)
        /// Data in `region` for a tenant that is deleted.
        case deleted(id: String, region: String)
        /// Data in `region`, which is not the home of the tenant.
        case away(id: String, home: String, region: String)
        /// A tenant that is not deleted with no data in its home folder.
        case missing(id: String, home: String)

        var id: String {
            switch self {
            case .unknown(let id, _), .deleted(let id, _), .away(let id, _, _), .missing(let id, _): id
            }
        }
    }

    /// What a comparison was worked out from: the directory's location change counter and the lineage of the
    /// homes read at it (`TenantLocationsMemo.Reading`), and each folder listed (region and listing generation, in
    /// order). Equal keys mean equal inputs (`FolderListing.Listing`).
    struct Key: Hashable, Sendable {
        struct Folder: Hashable, Sendable {
            let region: String
            let generation: UInt64
        }
        let changes: Int64
        let lineage: Int
        let folders: [Folder]
    }

    /// Tenant files listed.
    let checked: Int
    /// Each folder's findings, their ids in byte order (the order the folder's names are merged in), then the
    /// missing in id order: the audit's order.
    private var parts: [[Finding]]
    /// Whether each folder's listing was in byte order (and can be searched as it is).
    private let listingsInByteOrder: [Bool]

    /// In the order the audit reports them: each folder's findings in listing order, then the missing in id order.
    var findings: FlattenSequence<[[Finding]]> { parts.joined() }

    /// Each region folder's listing is merged with the tenants homed in that region, both in byte order: a listed
    /// id that matches is home data; one that does not is looked up in the other regions' groups. The home tenants
    /// never matched miss their data (listed in id order, after the folders' findings).
    init(homes: TenantHomes, folders: [(region: String, ids: [String])]) {
        var parts: [[Finding]] = []
        var inByteOrder: [Bool] = []
        var checked = 0
        var matched: [String: [Bool]] = [:]
        for (region, listed) in folders {
            let group = homes.group(region)
            // FolderListing sorts by Swift's `<`, the same as byte order for the ids' characters; a listing with a
            // name for which it is not is merged again in byte order (checked as it is merged: a separate pass over
            // 100,000 names cost the view after a change a third of its time).
            let inOrder = Self.merge(listed, region: region, group: group, homes: homes)
            let merged =
                inOrder
                ?? Self.merge(
                    listed.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, region: region, group: group,
                    homes: homes)!
            parts.append(merged.findings)
            inByteOrder.append(inOrder != nil)
            matched[region] = merged.hasData
            checked += listed.count
        }
        var missing: [(id: String, home: String)] = []
        for (region, group) in homes.groups {
            let hasData = matched[region]
            for index in 0..<group.count where group.statuses[index] != .deleted && !(hasData?[index] ?? false) {
                missing.append((group.id(index), region))
            }
        }
        missing.sort { $0.id < $1.id }
        parts.append(missing.map { Finding.missing(id: $0.id, home: $0.home) })
        self.checked = checked
        self.parts = parts
        self.listingsInByteOrder = inByteOrder
    }

    /// The comparison of the same folders with the homes after `tenants` changed (`homes` as they are now): each
    /// changed tenant's findings taken out and worked out again, each at its place in the order, so the result is
    /// what the comparison made afresh gives. False, and nothing changed, when a folder's listing was not in byte
    /// order (it cannot be searched as it is; the caller compares afresh).
    mutating func update(
        _ tenants: Set<String>, homes: TenantHomes, folders: [(region: String, ids: [String])]
    ) -> Bool {
        guard folders.count == listingsInByteOrder.count, !listingsInByteOrder.contains(false) else { return false }
        func before(_ a: String, _ b: String) -> Bool { a.utf8.lexicographicallyPrecedes(b.utf8) }
        /// The first index of `items` whose key is not before `key`.
        func place<T>(_ items: [T], _ key: String, _ order: (String, String) -> Bool, _ keyOf: (T) -> String) -> Int {
            var low = 0
            var high = items.count
            while low < high {
                let middle = (low + high) / 2
                if order(keyOf(items[middle]), key) { low = middle + 1 } else { high = middle }
            }
            return low
        }
        let missingPart = parts.count - 1
        for tenant in tenants {
            var bytes = tenant
            let home = bytes.withUTF8 { id in
                homes.locate(UnsafeRawBufferPointer(id)).map {
                    (region: $0.region, status: homes.groups[$0.region]!.statuses[$0.index])
                }
            }
            var homeHasData = false
            for (part, folder) in folders.enumerated() {
                let at = place(parts[part], tenant, before, \.id)
                func same(_ id: String) -> Bool { id.utf8.elementsEqual(tenant.utf8) }
                if at < parts[part].count && same(parts[part][at].id) { parts[part].remove(at: at) }
                let listed = place(folder.ids, tenant, before, { $0 })
                guard listed < folder.ids.count && same(folder.ids[listed]) else { continue }
                let finding: Finding?
                switch home {
                case .some(let home) where home.region == folder.region:
                    homeHasData = true
                    finding = home.status == .deleted ? .deleted(id: tenant, region: folder.region) : nil
                case .some(let home):
                    finding =
                        home.status == .deleted
                        ? .deleted(id: tenant, region: folder.region)
                        : .away(id: tenant, home: home.region, region: folder.region)
                case .none:
                    finding = .unknown(id: tenant, region: folder.region)
                }
                if let finding { parts[part].insert(finding, at: at) }
            }
            let at = place(parts[missingPart], tenant, <, \.id)
            if at < parts[missingPart].count && parts[missingPart][at].id == tenant {
                parts[missingPart].remove(at: at)
            }
            if let home, home.status != .deleted, !homeHasData {
                parts[missingPart].insert(.missing(id: tenant, home: home.region), at: at)
            }
        }
        return true
    }

    /// One folder's names merged with its region's group: what each name is, and which of the group have data.
    /// Nil when the names are not in byte order.
    private static func merge(
        _ names: [String], region: String, group: TenantHomes.Group, homes: TenantHomes
    ) -> (findings: [Finding], hasData: [Bool])? {
        var findings: [Finding] = []
        var hasData = [Bool](repeating: false, count: group.count)
        var previous: [UInt8] = []
        var ordered = true
        group.withIDs { homeID in
            var next = 0
            for name in names {
                var utf8 = name  // withUTF8 may make a copy contiguous; `name` stays for the findings
                utf8.withUTF8 { nameBytes in
                    let id = UnsafeRawBufferPointer(nameBytes)
                    guard previous.withUnsafeBytes({ TenantHomes.compare($0, id) < 0 }) else {
                        ordered = false
                        return
                    }
                    previous.removeAll(keepingCapacity: true)
                    previous.append(contentsOf: nameBytes)
                    while next < group.count && TenantHomes.compare(homeID(next), id) < 0 { next += 1 }
                    if next < group.count && TenantHomes.compare(homeID(next), id) == 0 {
                        hasData[next] = true
                        if group.statuses[next] == .deleted { findings.append(.deleted(id: name, region: region)) }
                    } else if let home = homes.find(id) {
                        findings.append(
                            home.status == .deleted
                                ? .deleted(id: name, region: region)
                                : .away(id: name, home: home.region, region: region))
                    } else {
                        findings.append(.unknown(id: name, region: region))
                    }
                }
                if !ordered { return }
            }
        }
        return ordered ? (findings, hasData) : nil
    }

    /// The last comparison worked out and its key: a view whose key is the same takes it as it is; one whose
    /// folders are the same and whose homes were patched from the kept comparison's (the same lineage) has the
    /// changed tenants worked out again in it (`update`), not 100,000 names merged.
    final class Memo: Sendable {
        private let kept = Mutex<(key: Key, comparison: DataPlaneComparison)?>(nil)
        /// How many comparisons were worked out afresh (what the tests check patching by).
        private let fresh = Atomic<Int>(0)
        var comparedAfresh: Int { fresh.load(ordering: .relaxed) }

        /// The comparison for `key`, of `folders` with `homes`. `changed` names the tenants changed between two
        /// counter values of the key's lineage, nil when they are not known.
        func comparison(
            for key: Key, homes: TenantHomes, folders: [(region: String, ids: [String])],
            changed: (_ from: Int64, _ to: Int64) -> Set<String>?
        ) -> DataPlaneComparison {
            let patched = kept.withLock { kept -> DataPlaneComparison? in
                guard var current = kept else { return nil }
                if current.key == key { return current.comparison }
                guard current.key.folders == key.folders, current.key.lineage == key.lineage,
                    let tenants = changed(current.key.changes, key.changes)
                else { return nil }
                kept = nil  // so the comparison's arrays are not shared while they change
                defer { kept = current }
                guard current.comparison.update(tenants, homes: homes, folders: folders) else { return nil }
                current.key = key
                return current.comparison
            }
            if let patched { return patched }
            let made = DataPlaneComparison(homes: homes, folders: folders)
            fresh.add(1, ordering: .relaxed)
            kept.withLock { $0 = (key, made) }
            return made
        }
    }
}
