import ResidencyCore
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

    /// A folder as compared: its region and its listing packed in byte order.
    typealias Folder = (region: String, names: PackedIDs)

    /// Tenant files listed.
    let checked: Int
    /// Each folder's findings, their ids in byte order (the order the folder's names are merged in), then the
    /// missing in byte order of their ids: the audit's order.
    private var parts: [[Finding]]

    /// In the order the audit reports them: each folder's findings in byte order, then the missing in byte order.
    var findings: FlattenSequence<[[Finding]]> { parts.joined() }

    /// Each region folder's listing is merged with the tenants homed in that region, both packed in byte order: a
    /// listed id that matches is home data; one that does not is looked up in the other regions' groups. The home
    /// tenants never matched miss their data (listed in byte order, after the folders' findings). No String is
    /// made but for a finding.
    init(homes: TenantHomes, folders: [Folder]) {
        var parts: [[Finding]] = []
        var checked = 0
        var matched: [String: [Bool]] = [:]
        for (region, names) in folders {
            let group = homes.group(region)
            var findings: [Finding] = []
            var hasData = matched[region] ?? [Bool](repeating: false, count: group.count)
            names.withIDs { name in
                group.withIDs { homeID in
                    var next = 0
                    for index in 0..<names.count {
                        let id = name(index)
                        while next < group.count && PackedIDs.compare(homeID(next), id) < 0 { next += 1 }
                        if next < group.count && PackedIDs.compare(homeID(next), id) == 0 {
                            hasData[next] = true
                            if group.statuses[next] == .deleted {
                                findings.append(.deleted(id: names.id(index), region: region))
                            }
                        } else if let home = homes.find(id) {
                            findings.append(
                                home.status == .deleted
                                    ? .deleted(id: names.id(index), region: region)
                                    : .away(id: names.id(index), home: home.region, region: region))
                        } else {
                            findings.append(.unknown(id: names.id(index), region: region))
                        }
                    }
                }
            }
            parts.append(findings)
            matched[region] = hasData
            checked += names.count
        }
        // Each group's missing are in byte order already: merged across the groups, not sorted.
        var heads: [(region: String, group: TenantHomes.Group, missing: [Int], next: Int)] = []
        for (region, group) in homes.groups {
            let hasData = matched[region]
            let missing = (0..<group.count).filter { group.statuses[$0] != .deleted && !(hasData?[$0] ?? false) }
            if !missing.isEmpty { heads.append((region, group, missing, 0)) }
        }
        var missing: [Finding] = []
        while !heads.isEmpty {
            var first = 0
            for head in 1..<heads.count {
                let earlier = heads[head].group.withIDs { a in
                    heads[first].group.withIDs { b in
                        PackedIDs.compare(
                            a(heads[head].missing[heads[head].next]), b(heads[first].missing[heads[first].next]))
                            < 0
                    }
                }
                if earlier { first = head }
            }
            missing.append(
                .missing(id: heads[first].group.id(heads[first].missing[heads[first].next]), home: heads[first].region))
            heads[first].next += 1
            if heads[first].next == heads[first].missing.count { heads.remove(at: first) }
        }
        parts.append(missing)
        self.checked = checked
        self.parts = parts
    }

    /// The comparison of the same folders with the homes after the `changed` tenants (distinct, in byte order)
    /// changed (`homes` as they are now): they are looked up in each folder's listing (galloping from the last one's place)
    /// and their findings worked out again; each part is then rebuilt in one merge of its old findings, less the
    /// changed tenants', with the new ones. O(findings + changed·log(listed/changed)) per folder, so the result —
    /// what a comparison made afresh gives — costs a burst of thousands of tenants a few milliseconds.
    mutating func update(_ changed: PackedIDs, homes: TenantHomes, folders: [Folder]) {
        precondition(folders.count + 1 == parts.count, "a comparison is updated with the folders it was made from")
        let home = homes.locateAll(changed).map { place in
            place.map { (region: $0.region, status: homes.groups[$0.region]!.statuses[$0.index]) }
        }
        var homeHasData = [Bool](repeating: false, count: changed.count)
        for (part, folder) in folders.enumerated() {
            var fresh: [Finding] = []
            changed.withIDs { changedID in
                folder.names.withIDs { name in
                    var at = 0
                    for change in 0..<changed.count {
                        let id = changedID(change)
                        at = folder.names.insertionIndex(of: id, from: at)
                        guard at < folder.names.count && PackedIDs.compare(name(at), id) == 0 else { continue }
                        let tenant = changed.id(change)
                        switch home[change] {
                        case .some(let home) where home.region == folder.region:
                            homeHasData[change] = true
                            if home.status == .deleted { fresh.append(.deleted(id: tenant, region: folder.region)) }
                        case .some(let home):
                            fresh.append(
                                home.status == .deleted
                                    ? .deleted(id: tenant, region: folder.region)
                                    : .away(id: tenant, home: home.region, region: folder.region))
                        case .none:
                            fresh.append(.unknown(id: tenant, region: folder.region))
                        }
                    }
                }
            }
            parts[part] = Self.merged(parts[part], without: changed, with: fresh)
        }
        var missing: [Finding] = []
        for change in 0..<changed.count {
            if let home = home[change], home.status != .deleted, !homeHasData[change] {
                missing.append(.missing(id: changed.id(change), home: home.region))
            }
        }
        parts[parts.count - 1] = Self.merged(parts[parts.count - 1], without: changed, with: missing)
    }

    /// `findings` (in byte order of their ids) less those of the `changed` ids, with `fresh` (findings of changed
    /// ids, in byte order) merged in.
    private static func merged(_ findings: [Finding], without changed: PackedIDs, with fresh: [Finding]) -> [Finding] {
        var result: [Finding] = []
        result.reserveCapacity(findings.count + fresh.count)
        var next = 0  // in `fresh`
        var skip = 0  // in `changed`
        changed.withIDs { changedID in
            for finding in findings {
                let id = finding.id
                while skip < changed.count && PackedIDs.compare(id, changedID(skip)) > 0 { skip += 1 }
                if skip < changed.count && PackedIDs.compare(id, changedID(skip)) == 0 { continue }
                while next < fresh.count && PackedIDs.precedes(fresh[next].id, id) {
                    result.append(fresh[next])
                    next += 1
                }
                result.append(finding)
            }
        }
        result.append(contentsOf: fresh[next...])
        return result
    }

    /// The last comparison worked out and its key, and the folders' listings packed: a view whose key is the same
    /// takes the comparison as it is; one whose folders are the same and whose homes were patched from the kept
    /// comparison's (the same lineage) has the changed tenants worked out again in it (`update`), not 100,000 names
    /// merged; a view after a full read of the homes compares afresh, with the packed listings of the folders that
    /// did not change.
    final class Memo: Sendable {
        private let kept = Mutex<(key: Key, comparison: DataPlaneComparison)?>(nil)
        /// Each folder's listing packed, by region and listing generation (the folders of the last view only).
        private let packed = Mutex<[Key.Folder: PackedIDs]>([:])
        /// How many comparisons were worked out afresh (what the tests check patching by).
        private let fresh = Atomic<Int>(0)
        var comparedAfresh: Int { fresh.load(ordering: .relaxed) }

        /// The folders of `listings`, packed once per listing generation, each name once: two files whose names are
        /// not UTF-8 can read as the same name (U+FFFD for the bytes that are not), and a name listed twice would be
        /// two findings in a fresh comparison but one after a patch.
        func folders(_ listings: [(region: String, listing: FolderListing.Listing)]) -> [Folder] {
            let known = packed.withLock { $0 }
            var now: [Key.Folder: PackedIDs] = [:]
            let folders = listings.map { region, listing -> Folder in
                let key = Key.Folder(region: region, generation: listing.generation)
                let names = known[key] ?? now[key] ?? PackedIDs(distinct: listing.names)
                now[key] = names
                return (region, names)
            }
            packed.withLock { $0 = now }
            return folders
        }

        /// The comparison for `key`, of `folders` with `homes`. `changed` names the tenants changed between two
        /// counter values of the key's lineage, nil when they are not known.
        func comparison(
            for key: Key, homes: TenantHomes, folders: [Folder],
            changed: (_ from: Int64, _ to: Int64) -> PackedIDs?
        ) -> DataPlaneComparison {
            let patched = kept.withLock { kept -> DataPlaneComparison? in
                guard var current = kept else { return nil }
                if current.key == key { return current.comparison }
                guard current.key.folders == key.folders, current.key.lineage == key.lineage,
                    let tenants = changed(current.key.changes, key.changes)
                else { return nil }
                kept = nil  // so the comparison's arrays are not shared while they change
                defer { kept = current }
                current.comparison.update(tenants, homes: homes, folders: folders)
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
