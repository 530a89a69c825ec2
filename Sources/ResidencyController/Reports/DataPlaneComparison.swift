import ResidencyStore
import Synchronization

/// The data plane's folders held against the directory: each listed tenant file is its tenant's home data, data
/// of an unknown or a deleted tenant, or data away from the tenant's home; and each live tenant whose home folder
/// lacks its file misses its data. Worked out from the folder listings and the directory's locations alone, so it
/// is kept for as long as neither changed (`DataPlaneComparison.Memo`). What data away from home means — a
/// migration's copy in flight, a residency violation, a stray copy — depends on migrations and on the tenant's
/// record, and the audit decides it at every view.
struct DataPlaneComparison: Sendable {
    typealias Location = TenantRepository.Location

    enum Finding: Sendable {
        /// Data in `region` for an id the directory does not know.
        case unknown(id: String, region: String)
        /// Data in `region` for a tenant that is deleted.
        case deleted(id: String, region: String)
        /// Data in `region`, which is not the home of `tenant`.
        case away(tenant: Location, region: String)
        /// A tenant that is not deleted with no data in its home folder.
        case missing(Location)
    }

    /// What a comparison was worked out from: the directory's location change counter and each folder listed
    /// (region and listing generation, in order). Equal keys mean equal inputs (`FolderListing.Listing`).
    struct Key: Hashable, Sendable {
        struct Folder: Hashable, Sendable {
            let region: String
            let generation: UInt64
        }
        let changes: Int64
        let folders: [Folder]
    }

    /// Tenant files listed.
    let checked: Int
    /// In the order the audit reports them: each folder's findings in listing order, then the missing in id order.
    let findings: [Finding]

    /// Each region folder's sorted listing is merged with the tenants homed in that region (id order): a listed id
    /// that matches is home data; one that does not is looked up in the other regions' groups. The home tenants
    /// never matched miss their data.
    init(homes: TenantHomes, folders: [(region: String, ids: [String])]) {
        var findings: [Finding] = []
        var checked = 0
        var matched: [String: [Bool]] = [:]
        for (region, ids) in folders {
            let group = homes.group(region)
            var hasData = [Bool](repeating: false, count: group.count)
            var next = 0
            for id in ids {
                checked += 1
                while next < group.count && group[next].id < id { next += 1 }
                let atHome = next < group.count && group[next].id == id
                if atHome { hasData[next] = true }
                guard let entry = atHome ? group[next] : homes.find(id) else {
                    findings.append(.unknown(id: id, region: region))
                    continue
                }
                if entry.status == .deleted {
                    findings.append(.deleted(id: id, region: region))
                } else if !atHome {
                    findings.append(.away(tenant: entry, region: region))
                }
            }
            matched[region] = hasData
        }
        var missing: [Location] = []
        for (region, group) in homes.groups {
            let hasData = matched[region]
            for (offset, entry) in group.enumerated() where entry.status != .deleted && !(hasData?[offset] ?? false) {
                missing.append(entry)
            }
        }
        missing.sort { $0.id < $1.id }
        findings += missing.map(Finding.missing)
        self.checked = checked
        self.findings = findings
    }

    /// The last comparison worked out and its key: a view whose key is the same takes it as it is.
    final class Memo: Sendable {
        private let kept = Mutex<(key: Key, comparison: DataPlaneComparison)?>(nil)

        func comparison(
            for key: Key, _ compare: () -> DataPlaneComparison
        ) -> DataPlaneComparison {
            if let kept = kept.withLock({ $0 }), kept.key == key { return kept.comparison }
            let fresh = compare()
            kept.withLock { $0 = (key, fresh) }
            return fresh
        }
    }
}
