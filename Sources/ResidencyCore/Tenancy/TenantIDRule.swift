/// The shape of a tenant id (`tn_`, 12 hex digits of creation time, 10 random hex digits), for every layer that
/// must refuse a malformed one before it reaches a file name or a query: the controller and the regional services.
package enum TenantIDRule {
    package static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 25 && id.hasPrefix("tn_")
            && id.utf8.dropFirst(3).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
