/// The steps of moving a tenant between regions. Each step is persisted before it runs and again when it
/// has finished, and each is idempotent, so an interrupted migration is resumed by running its current
/// step again.
package enum MigrationState: String, Sendable, Hashable, CaseIterable {
    /// Filed; waits for an approver.
    case requested
    /// Approved; waits for a runner.
    case approved
    /// Bulk copy of a snapshot while the tenant keeps working.
    case copying
    /// Writes are being stopped: the tenant is read-only from here to cutover.
    case frozen
    /// The rows changed since the snapshot are copied.
    case syncing
    /// Row counts and content hash compared on both sides.
    case verifying
    /// The directory is switched to the target in one transaction.
    case cutover
    /// The source copy is purged.
    case cleaning
    case completed
    /// The target copy is removed and the source thawed; ends in `failed` or `cancelled`.
    case rollingBack = "rolling_back"
    case failed
    case cancelled

    /// The forward step after this one; nil for the waiting and final states.
    package var next: MigrationState? {
        switch self {
        case .approved: return .copying
        case .copying: return .frozen
        case .frozen: return .syncing
        case .syncing: return .verifying
        case .verifying: return .cutover
        case .cutover: return .cleaning
        case .cleaning: return .completed
        case .requested, .completed, .rollingBack, .failed, .cancelled: return nil
        }
    }

    package var isFinal: Bool { self == .completed || self == .failed || self == .cancelled }

    /// Until the directory points at the target the migration can still be undone.
    package var canRollBack: Bool {
        switch self {
        case .requested, .approved, .copying, .frozen, .syncing, .verifying: return true
        default: return false
        }
    }
}
