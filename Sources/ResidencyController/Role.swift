/// What a token may do. Each API route names the roles it accepts.
package enum Role: String, Sendable, Hashable, CaseIterable {
    /// The signup flow: placements and new tenants.
    case signup
    /// Operations: the directory, migrations, lifecycle.
    case ops
    /// Support engineers: access requests and events.
    case support
    /// Compliance officers: reports, ledger, approvals.
    case compliance
    /// Everything.
    case admin
    /// Billing events.
    case billing
    /// The application: reads and writes tenant data (through the controller, so a migration can freeze it).
    /// Usually scoped to one tenant.
    case application
}

/// An authenticated caller: the token's name (never the token itself) and its role.
package struct Caller: Sendable, Hashable {
    package let tokenName: String
    package let role: Role
    /// For a tenant administrator's token: the tenant it acts for (customer approval).
    package let tenant: String?

    package init(tokenName: String, role: Role, tenant: String? = nil) {
        self.tokenName = tokenName
        self.role = role
        self.tenant = tenant
    }
}
