/// The commercial plan a tenant is on; placement and retention rules can depend on it.
package enum Plan: String, Sendable, Hashable, CaseIterable {
    case trial, free, paid
}
