/// Where a tenant is in its life. Only the transitions below exist; anything else is a bug or an attack.
package enum TenantStatus: String, Sendable, Hashable, CaseIterable {
    case active
    /// Data kept, refused to the application (e.g. a payment failed for too long).
    case suspended
    /// Can no longer sign in; data kept until the retention schedule deletes it.
    case closed
    /// Data removed from every region; the directory entry remains, without personal data.
    case deleted
}
