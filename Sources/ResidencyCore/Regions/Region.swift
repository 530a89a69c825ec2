/// A hosting region: the unit of residency. A tenant's data lives in exactly one region, at one of its sites.
package struct Region: Sendable, Hashable {
    package enum Status: String, Sendable, Hashable, CaseIterable {
        /// Serving and, if `acceptsSignups`, taking new tenants.
        case active
        /// Tenants are being moved out; no new tenants.
        case draining
        /// No tenants; kept in the catalog so history still resolves.
        case closed
    }

    package let id: String
    package let name: String
    /// The countries whose law governs data hosted here. Access from inside them is not a transfer.
    package let jurisdiction: Set<CountryCode>
    package let status: Status
    package let acceptsSignups: Bool
    /// The most tenants the region may hold.
    package let capacity: Int
    package let sites: [Site]

    /// The site nearest `point`, ties broken by site id so the answer never depends on file order.
    package func nearestSite(to point: Coordinate) -> (site: Site, kilometres: Double) {
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
