import ResidencyCore
import ResidencyStore

/// Finding tenants by country or by the start of their name (the console's search), each through an index, a page
/// at a time.
extension DirectoryService {
    /// A page of `country`'s tenants in id order; `next` is the cursor of the following page, nil at the end.
    package func tenants(
        country: CountryCode, limit: Int, after cursor: String?
    ) throws
        -> (tenants: [Tenant], next: String?)
    {
        guard (1...1000).contains(limit) else {
            throw ControllerError.invalidField(field: "limit", message: "\(limit) is out of range; accepted: 1...1000")
        }
        let page = try context.read {
            try TenantRepository($0).tenants(country: country.rawValue, after: cursor, limit: limit + 1)
        }
        return (Array(page.prefix(limit)), page.count > limit ? page[limit - 1].id : nil)
    }

    /// Up to `limit` tenants whose name starts with `prefix` (ASCII case ignored), in name order; `more` says whether
    /// others match too (the caller narrows the prefix rather than paging).
    package func tenants(namePrefix prefix: String, limit: Int) throws -> (tenants: [Tenant], more: Bool) {
        guard !prefix.isEmpty, prefix.utf8.count <= 200 else {
            throw ControllerError.invalidField(field: "name", message: "a name prefix is 1 to 200 bytes")
        }
        guard (1...1000).contains(limit) else {
            throw ControllerError.invalidField(field: "limit", message: "\(limit) is out of range; accepted: 1...1000")
        }
        let found = try context.read { try TenantRepository($0).tenants(namePrefix: prefix, limit: limit + 1) }
        return (Array(found.prefix(limit)), found.count > limit)
    }
}
