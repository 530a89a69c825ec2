/// The commercial plan a tenant is on; placement and retention rules can depend on it.
public enum Plan: String, Sendable, Hashable, CaseIterable {
    case trial, free, paid
}
