/// One tenant's move from one region to another, as the controller records it.
package struct Migration: Sendable {
    package let id: String
    package let tenant: String
    package let fromRegion: String
    package let fromSite: String
    package let toRegion: String
    package let toSite: String
    package var state: MigrationState
    /// Where a rollback ends: `failed` or `cancelled`.
    package var ending: MigrationState?
    package let reason: String
    package let requestedBy: String
    package var approvedBy: String?
    /// The bulk plan it came from, if any.
    package let plan: String?
    /// The legal basis of moving data from the source region's jurisdiction to the target site's country.
    package let transfer: TransferBasis
    package let movers: [String]
    package let createdAt: Int64
    package var updatedAt: Int64
    /// The change counter of the source at the bulk copy's snapshot.
    package var snapshotSequence: Int64?
    /// Verified content: rows and SHA-256, hex.
    package var content: JSONValue?
    package var bytesCopied: Int64?
    /// Rows copied again after the freeze.
    package var changedRows: Int?
    package var frozenAt: Int64?
    package var cutoverAt: Int64?
    package var finishedAt: Int64?
    package var error: String?

    package init(
        id: String, tenant: String, fromRegion: String, fromSite: String, toRegion: String, toSite: String,
        reason: String, requestedBy: String, plan: String?, transfer: TransferBasis, movers: [String], createdAt: Int64
    ) {
        self.id = id
        self.tenant = tenant
        self.fromRegion = fromRegion
        self.fromSite = fromSite
        self.toRegion = toRegion
        self.toSite = toSite
        self.state = .requested
        self.reason = reason
        self.requestedBy = requestedBy
        self.plan = plan
        self.transfer = transfer
        self.movers = movers
        self.createdAt = createdAt
        self.updatedAt = createdAt
    }

    /// Milliseconds the tenant's writes were held, once the freeze has ended (at cutover or rollback).
    package var frozenMilliseconds: Int64? {
        guard let frozenAt, let end = cutoverAt ?? (state.isFinal ? finishedAt : nil) else { return nil }
        return end - frozenAt
    }

    package var jsonValue: JSONValue {
        func time(_ value: Int64?) -> JSONValue { value.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null }
        return .object([
            ("id", .string(id)), ("tenant", .string(tenant)),
            ("from", .object([("region", .string(fromRegion)), ("site", .string(fromSite))])),
            ("to", .object([("region", .string(toRegion)), ("site", .string(toSite))])),
            ("state", .string(state.rawValue)), ("ending", .optional(ending?.rawValue)),
            ("reason", .string(reason)), ("requested_by", .string(requestedBy)),
            ("approved_by", .optional(approvedBy)), ("plan", .optional(plan)),
            ("transfer_basis", transfer.jsonValue), ("movers", .array(movers.map { .string($0) })),
            ("created_at", time(createdAt)), ("updated_at", time(updatedAt)),
            ("snapshot_sequence", snapshotSequence.map { .integer($0) } ?? .null),
            ("content", content ?? .null), ("bytes_copied", bytesCopied.map { .integer($0) } ?? .null),
            ("changed_rows", changedRows.map { .integer($0) } ?? .null),
            ("frozen_at", time(frozenAt)), ("cutover_at", time(cutoverAt)),
            ("frozen_ms", frozenMilliseconds.map { .integer($0) } ?? .null),
            ("finished_at", time(finishedAt)), ("error", .optional(error)),
        ])
    }
}
