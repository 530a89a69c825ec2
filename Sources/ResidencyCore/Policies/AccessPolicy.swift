/// How cross-border support access is requested, approved and bounded (`Policies/access.json`).
package struct AccessPolicy: Sendable {
    package struct Justification: Sendable, Hashable {
        package let code: String
        package let name: String
        /// A ticket or case reference must accompany the request.
        package let requiresReference: Bool
        /// Policy may approve without a person when the transfer basis resolves and the tenant has not
        /// enrolled in customer approval.
        package let autoApprove: Bool
        /// May be used for an emergency grant that is active at once and reviewed afterwards.
        package let allowsBreakGlass: Bool
    }

    package struct SupportOffice: Sendable, Hashable {
        package let id: String
        package let entity: String
        package let country: CountryCode
        package let city: String
    }

    package let justifications: [Justification]
    package let supportOffices: [SupportOffice]
    /// A request nobody decided within this many hours expires.
    package let pendingExpiryHours: Int
    package let defaultGrantHours: Int
    package let maximumGrantHours: Int
    /// Whether tenants are enrolled in customer approval unless they opt out.
    package let customerApprovalByDefault: Bool
    package let breakGlassMaximumGrantHours: Int
    /// A break-glass grant must be reviewed within this many hours of being opened.
    package let breakGlassReviewHours: Int

    package func justification(code: String) -> Justification? { justifications.first { $0.code == code } }
    package func office(id: String) -> SupportOffice? { supportOffices.first { $0.id == id } }
}
