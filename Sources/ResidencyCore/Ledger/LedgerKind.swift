/// What a ledger entry records: the closed set of kinds the controller writes and the reports and the verifier
/// read back.
///
/// The raw values are the strings on disk. The ledger is append-only and hashed, so a raw value can never change
/// (an old log must still verify and still be found by its readers); add a case, never rename one.
/// `LedgerKindTests` lists every raw value to catch an accidental rename.
package enum LedgerKind: String, Sendable, Hashable, CaseIterable {
    // The policy set
    case policyLoaded = "policy.loaded"

    // The directory
    case tenantCreated = "tenant.created"
    case signupRefused = "signup.refused"
    case tenantEvent = "tenant.event"
    case customerApproval = "tenant.customer_approval"
    case customerApprovalRefused = "tenant.customer_approval_refused"
    case tenantAssigned = "tenant.assigned"

    // Residency
    case residencyCheckRefused = "residency.check_refused"
    case residencyAudit = "residency.audit"

    // The access desk
    case accessRequested = "access.requested"
    case accessAutoApproved = "access.auto_approved"
    case accessBreakGlass = "access.break_glass"
    case accessRefused = "access.refused"
    case accessApproved = "access.approved"
    case accessDenied = "access.denied"
    case accessDismissed = "access.dismissed"
    case accessActivated = "access.activated"
    case accessUsed = "access.used"
    case accessUseRefused = "access.use_refused"
    case accessExpired = "access.expired"
    case accessRevoked = "access.revoked"
    case accessCompleted = "access.completed"
    case accessReviewed = "access.reviewed"

    // Migrations
    case migrationRequested = "migration.requested"
    case migrationRefused = "migration.refused"
    case migrationApproved = "migration.approved"
    case migrationCutover = "migration.cutover"
    case migrationCompleted = "migration.completed"
    case migrationCancelled = "migration.cancelled"
    case migrationFailed = "migration.failed"

    // The retention schedule
    case lifecycleSuspended = "lifecycle.suspended"
    case lifecycleClosed = "lifecycle.closed"
    case lifecycleDeleted = "lifecycle.deleted"

    // Tokens and refused calls
    case tokenCreated = "token.created"
    case tokenRevoked = "token.revoked"
    case apiRefused = "api.refused"
    case apiRefusedSummary = "api.refused.summary"

    // Regional services (enrolment, and the events a region's service queues for the ledger)
    case regionEnrolmentOpened = "region.enrolment_opened"
    case regionEnrolled = "region.enrolled"
    case regionKeyRotated = "region.key_rotated"
    case regionRemoved = "region.removed"
    case regionDataWritten = "region.data_written"
    case regionAssignmentRefused = "region.assignment_refused"
    case regionMigrationOrderRefused = "region.migration_order_refused"
    case regionMigrationPurged = "region.migration_purged"
}
