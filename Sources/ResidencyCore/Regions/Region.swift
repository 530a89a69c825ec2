/// A hosting region: the unit of residency. A tenant's data lives in exactly one region, at one of its sites.
public struct Region: Sendable, Hashable {
    public enum Status: String, Sendable, Hashable, CaseIterable {
        /// Serving and, if `acceptsSignups`, taking new tenants.
        case active
        /// Tenants are being moved out; no new tenants.
        case draining
        /// No tenants; kept in the catalog so history still resolves.
        case closed
    }

    public let id: String
    public let name: String
    /// The countries whose law governs data hosted here. Access from inside them is not a transfer.
    public let jurisdiction: Set<CountryCode>
    public let status: Status
    public let acceptsSignups: Bool
    /// The most tenants the region may hold.
    public let capacity: Int
    public let sites: [Site]

    /// The site nearest `point`, ties broken by site id so the answer never depends on file order.
    public func nearestSite(to point: Coordinate) -> (site: Site, kilometres: Double) {
        var best: (site: Site, kilometres: Double)?
        for site in sites {
            let distance = site.location.distanceKilometres(to: point)
            if let current = best,
                current.kilometres < distance || (current.kilometres == distance && current.site.id < site.id)
            {
                continue
            }
            best = (site, distance)
        }
        return best!
    }
}
