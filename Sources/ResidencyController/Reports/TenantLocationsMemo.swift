import ResidencyStore
import Synchronization

/// What the residency map and the audit read of every tenant — where each is homed, its status and country, and
/// how many live in each region and country (`TenantHomes`) — kept between views with the value of the tenants
/// table's location change counter (`TenantRepository.locationChanges`, schema version 14) it describes.
///
/// A view reads the counter in its own read transaction and reuses what is kept when the value is the same. When
/// it moved, the ring log of changes (schema version 15, `TenantRepository.locationLog`) names the tenants changed
/// since, read in that same transaction: only those tenants' rows are read again and the kept homes changed in
/// place. When the log cannot vouch for every change since (more than it holds, a counter that went backwards —
/// a file restored — or a row that no longer holds its change), every tenant is read again, in that transaction
/// (one snapshot: the rows and the counter agree). Triggers keep both, so a change by any writer — this process, a
/// command beside it, another controller on the same PostgreSQL, a hand edit in the sqlite3 shell — is seen at the
/// next view. Nothing is kept on trust or age. Any burst the log vouches for (up to its 8,192 changes) is patched:
/// the homes and the comparison with the folders are each rebuilt in one merge of the old with the changed tenants
/// (`TenantHomes.update`, `DataPlaneComparison.update`). Measured with `Scripts/bench-console` (100,000 tenants,
/// medians): 1,100 changed 8.5 ms, 8,000 changed 42 ms, every tenant read 37 ms; the counter costs one row.
final class TenantLocationsMemo: Sendable {
    typealias CountryCount = (region: String, country: String?, tenants: Int)

    /// The homes and the counter value they describe.
    private struct Kept: Sendable {
        var changes: Int64
        /// Which full read they descend from (`readsOfEveryHome` when it was made): what a comparison worked out
        /// from them is patched only within one lineage.
        let lineage: Int
        var homes: TenantHomes
        /// The tenants each recent patch changed, oldest first: from the counter value to the next.
        var patches: [(from: Int64, to: Int64, tenants: PackedIDs)] = []
    }

    private let kept = Mutex<Kept?>(nil)
    /// How many times every tenant's home was read afresh rather than reused or patched (what the tests check
    /// reuse by), and how many tenants were read one by one to patch them.
    private let freshReads = Atomic<Int>(0)
    private let patchedReads = Atomic<Int>(0)
    var readsOfEveryHome: Int { freshReads.load(ordering: .relaxed) }
    var tenantsReadToPatch: Int { patchedReads.load(ordering: .relaxed) }

    /// The homes a view works from: the counter value they describe and their lineage.
    struct Reading: Sendable {
        let changes: Int64
        let lineage: Int
        let homes: TenantHomes
    }

    /// Inside a read transaction: every tenant grouped by home region (`TenantHomes`), as of the counter's value
    /// read in it.
    func homes(in database: Database) throws -> Reading {
        let directory = TenantRepository(database)
        let changes = try directory.locationChanges()
        let before = kept.withLock { kept in kept.map { (changes: $0.changes, lineage: $0.lineage) } }
        if let before, before.changes == changes, let reading = reading(at: changes) { return reading }
        if let before, let reading = try patched(from: before.changes, lineage: before.lineage, to: changes, directory)
        {
            return reading
        }
        let lineage = freshReads.add(1, ordering: .relaxed).newValue
        let fresh = try TenantHomes(directory.forEachHome)
        // Kept even when what was kept is of a later counter value: two views finishing out of order cost the next
        // view a patch from the log, and a counter that went backwards (a file restored) must not leave a later
        // value of another history kept, to be patched forward once the counter passes it.
        kept.withLock { $0 = Kept(changes: changes, lineage: lineage, homes: fresh) }
        return Reading(changes: changes, lineage: lineage, homes: fresh)
    }

    /// Inside a read transaction: how many tenants that are not deleted live in each region and country.
    func liveCountsByCountry(in database: Database) throws -> [CountryCount] {
        try homes(in: database).homes.liveCountsByCountry
    }

    /// The tenants changed from counter value `from` to `to` within `lineage`, from the patches kept; nil when
    /// they are not all known (a full read since, or older than the patches kept).
    func tenantsChanged(from: Int64, to: Int64, lineage: Int) -> PackedIDs? {
        kept.withLock { kept -> PackedIDs? in
            guard let kept, kept.lineage == lineage, from <= to else { return nil }
            var at = from
            var spanned: [PackedIDs] = []
            for patch in kept.patches where patch.from >= at && patch.to <= to {
                guard patch.from == at else { return nil }
                spanned.append(patch.tenants)
                at = patch.to
            }
            guard at == to else { return nil }
            // One patch (the usual case: a view after each change) as it is; several, their tenants each once.
            return spanned.count == 1 ? spanned[0] : PackedIDs(distinct: spanned.flatMap(\.strings))
        }
    }

    private func reading(at changes: Int64) -> Reading? {
        kept.withLock { kept in
            guard let kept, kept.changes == changes else { return nil }
            return Reading(changes: kept.changes, lineage: kept.lineage, homes: kept.homes)
        }
    }

    /// The kept homes brought from counter value `from` to `to` by the log's entries and the rows of the tenants
    /// they name, read in the caller's transaction; nil when the log cannot vouch for them all or another view
    /// moved what is kept meanwhile.
    private func patched(
        from: Int64, lineage: Int, to changes: Int64, _ directory: TenantRepository
    ) throws
        -> Reading?
    {
        guard let entries = try directory.locationLog(after: from, through: changes) else { return nil }
        var named: [String] = []
        named.reserveCapacity(entries.count)
        for entry in entries {
            // A TRUNCATE names no tenant: everything may have gone.
            guard let tenant = entry.tenant else { return nil }
            named.append(tenant)
            if let former = entry.former { named.append(former) }
        }
        // Each tenant once, in byte order (sorted by bytes, not hashed into a set: thousands of ids in a burst).
        let tenants = PackedIDs(distinct: named)
        let locations = try directory.locations(ids: tenants.strings)
        patchedReads.add(tenants.count, ordering: .relaxed)
        return kept.withLock { kept -> Reading? in
            guard var current = kept else { return nil }
            kept = nil
            defer { kept = current }
            if current.changes == changes {
                return Reading(changes: changes, lineage: current.lineage, homes: current.homes)
            }
            guard current.changes == from, current.lineage == lineage else { return nil }
            // Taken out of the lock's storage while it changes, so the arrays are not shared and change in place.
            current.homes.update(tenants, to: locations)
            current.changes = changes
            current.patches.append((from, changes, tenants))
            if current.patches.count > 64 { current.patches.removeFirst() }
            return Reading(changes: changes, lineage: current.lineage, homes: current.homes)
        }
    }
}
