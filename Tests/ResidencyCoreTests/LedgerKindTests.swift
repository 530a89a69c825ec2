import Testing

@testable import ResidencyCore

/// The ledger's kinds are on disk in every entry ever written: a renamed raw value would leave old entries
/// unfindable by the reports and the verifier. This list is the contract; change it only by adding lines.
@Suite struct LedgerKindTests {
    static let onDisk: [String] = [
        "policy.loaded",
        "tenant.created", "signup.refused", "tenant.event", "tenant.customer_approval",
        "tenant.customer_approval_refused", "tenant.assigned",
        "residency.check_refused", "residency.audit",
        "access.requested", "access.auto_approved", "access.break_glass", "access.refused", "access.approved",
        "access.denied", "access.dismissed", "access.activated", "access.used", "access.use_refused",
        "access.expired", "access.revoked", "access.completed", "access.reviewed",
        "migration.requested", "migration.refused", "migration.approved", "migration.cutover",
        "migration.completed", "migration.cancelled", "migration.failed",
        "lifecycle.suspended", "lifecycle.closed", "lifecycle.deleted",
        "token.created", "token.revoked", "api.refused", "api.refused.summary",
        "region.enrolment_opened", "region.enrolled", "region.key_rotated", "region.removed",
        "region.data_written", "region.assignment_refused", "region.migration_order_refused",
        "region.migration_purged",
    ]

    @Test func everyKindKeepsItsOnDiskName() {
        #expect(LedgerKind.allCases.map(\.rawValue) == Self.onDisk)
    }

    @Test(arguments: onDisk) func everyOnDiskNameReadsBack(_ name: String) {
        #expect(LedgerKind(rawValue: name)?.rawValue == name)
    }
}
