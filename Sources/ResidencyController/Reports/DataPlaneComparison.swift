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

    /// Each region folder's listing is merged with the tenants homed in that region, both in byte order: a listed
    /// id that matches is home data; one that does not is looked up in the other regions' groups. The home tenants
    /// never matched miss their data (listed in id order, after the folders' findings).
    init(homes: TenantHomes, folders: [(region: String, ids: [String])]) {
        var findings: [Finding] = []
        var checked = 0
        var matched: [String: [Bool]] = [:]
        for (region, listed) in folders {
            let group = homes.group(region)
            // FolderListing sorts by Swift's `<`, the same as byte order for the ids' characters; a listing with a
            // name for which it is not is merged again in byte order (checked as it is merged: a separate pass over
            // 100,000 names cost the view after a change a third of its time).
            let merged =
                Self.merge(listed, region: region, group: group, homes: homes)
                ?? Self.merge(
                    listed.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, region: region, group: group,
                    homes: homes)!
            findings += merged.findings
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
        findings += missing.map { Finding.missing(id: $0.id, home: $0.home) }
        self.checked = checked
        self.findings = findings
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
