import Foundation
import ResidencyCore
import ResidencyStore

/// Where a tenant's data is served, as the application caches it; and what the controller knows of each
/// region's service.
extension DirectoryService {
    /// The tenant's region, site, the endpoint of its regional service (nil: served by this controller) and the
    /// epoch of its assignment (nil: none issued — no regional service was ever enrolled).
    package func route(tenant id: String) throws -> JSONValue {
        guard TenantID.isWellFormed(id), let tenant = try context.read({ try TenantRepository($0).tenant(id: id) }) else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        let route = try regional?.route(of: tenant)
        return .object([
            ("tenant", .string(id)), ("region", .string(tenant.region)), ("site", .string(tenant.site)),
            ("status", .string(tenant.status.rawValue)), ("endpoint", .optional(route?.endpoint ?? nil)),
            ("served_by", .string(route?.endpoint == nil ? "controller" : "regional_service")),
            ("epoch", route?.epoch.map { .integer($0) } ?? .null),
        ])
    }

    /// A region's service as `regions list` and `GET /v1/regions` show it; nil when the region has none.
    package func regionalServiceView(region: String) -> JSONValue? {
        guard let regional, let service = try? regional.services().first(where: { $0.region == region }) else {
            return nil
        }
        func time(_ value: Int64?) -> JSONValue { value.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null }
        let state: String
        if service.pin == nil {
            state = "awaiting_join"
        } else if regional.unreachableRegions.contains(region) {
            state = "unreachable"
        } else {
            state = service.lastContactAt == nil ? "joined" : "reachable"
        }
        return .object([
            ("endpoint", .string(service.endpoint)), ("site", .string(service.site)), ("state", .string(state)),
            ("pin", .optional(service.pin)), ("enrolled_at", time(service.enrolledAt)),
            ("join_code_expires_at", time(service.joinExpiresAt)), ("last_contact_at", time(service.lastContactAt)),
            ("last_error", .optional(service.lastError)), ("version", .optional(service.version)),
            ("tenants", service.tenants.map { .integer($0) } ?? .null),
            ("free_disk_bytes", service.freeDiskBytes.map { .integer($0) } ?? .null),
            ("pending_events", service.pendingEvents.map { .integer($0) } ?? .null),
            ("order_refusals_tallied", regional.orderRefusalsTallied[region].map { .integer($0) } ?? .null),
            ("witness_key", .optional(service.witnessKey)),
            ("witness_url", service.witnessKey == nil ? .null : .string(WitnessPolicy.regionalScheme + region)),
        ])
    }
}
