/// How cross-border support access is requested, approved and bounded (`Policies/access.json`).
public struct AccessPolicy: Sendable {
    public struct Justification: Sendable, Hashable {
        public let code: String
        public let name: String
        /// A ticket or case reference must accompany the request.
        public let requiresReference: Bool
        /// Policy may approve without a person when the transfer basis resolves and the tenant has not
        /// enrolled in customer approval.
        public let autoApprove: Bool
        /// May be used for an emergency grant that is active at once and reviewed afterwards.
        public let allowsBreakGlass: Bool
    }

    public struct SupportOffice: Sendable, Hashable {
        public let id: String
        public let entity: String
        public let country: CountryCode
        public let city: String
    }

    public let justifications: [Justification]
    public let supportOffices: [SupportOffice]
    /// A request nobody decided within this many hours expires.
    public let pendingExpiryHours: Int
    public let defaultGrantHours: Int
    public let maximumGrantHours: Int
    /// Whether tenants are enrolled in customer approval unless they opt out.
    public let customerApprovalByDefault: Bool
    public let breakGlassMaximumGrantHours: Int
    /// A break-glass grant must be reviewed within this many hours of being opened.
    public let breakGlassReviewHours: Int

    public func justification(code: String) -> Justification? { justifications.first { $0.code == code } }
    public func office(id: String) -> SupportOffice? { supportOffices.first { $0.id == id } }
}
