import ResidencyCore
import ResidencyStore

/// One write transaction on the commit path (`ControllerContext.commit`): the state change goes through
/// `database`, its record through `append`, and both commit or roll back together.
///
/// It remembers what the commit must do afterwards: sign a checkpoint when entries were appended, and the
/// second bump of the occupancy counter when the counts changed. Used only inside the commit's body, on the
/// thread running it.
final class LedgerTransaction {
    let database: Database
    private let tenantOccupancy: TenantOccupancy
    private(set) var appendedEntries = 0
    /// The size of the log with this transaction's entries (the index of the last one plus one); 0 without any.
    private(set) var logSize = 0
    private(set) var changedOccupancy = false

    init(database: Database, occupancy: TenantOccupancy) {
        self.database = database
        tenantOccupancy = occupancy
    }

    /// Appends one entry in this transaction; returns its index.
    @discardableResult
    func append(
        _ kind: LedgerKind, time: Int64, actor: String, tenant: String? = nil, region: String? = nil, body: JSONValue
    ) throws -> Int {
        let index = try Ledger.append(
            in: database, time: time, kind: kind, actor: actor, tenant: tenant, region: region, body: body)
        appendedEntries += 1
        logSize = index + 1
        return index
    }

    /// The live-tenant counts every process has committed, read in this transaction when they moved.
    func occupancy() throws -> [String: Int] { try tenantOccupancy.counts(in: database) }

    /// Changes the live-tenant counts with this transaction (undone if it rolls back).
    func changeOccupancy(_ change: (inout [String: Int]) -> Void) throws {
        try tenantOccupancy.change(in: database, change)
        changedOccupancy = true
    }
}
