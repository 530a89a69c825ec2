/// Places new signups: the customer's country, then the residency constraint, then a requested region or
/// the nearest available candidate (with overrides), then the nearest site. Deterministic: the same
/// request, policy and occupancy give the same decision.
///
/// Everything that depends only on policy — each country's constraint, candidates, override and the
/// distance from its capital (or other representative point) to every region — is computed once here, so a
/// decision is a few array reads and a short scan.
///
/// A class, though immutable: the placer and its country plans hold many tables, and as structs every hand-off
/// (a service reading it from its context, a plan read out of the table) retained each of them — measured at
/// a tenth of a placement's own time.
package final class SignupPlacer: Sendable {
    package let policies: PolicySet
    package let locator: GeoLocator?

    private let regions: [Region]
    private let regionIndex: [String: Int]
    /// Indexed by `Self.slot(of:)`; nil for codes that name no country.
    private let countries: [CountryPlan?]

    final class CountryPlan: Sendable {
        let code: CountryCode
        let constraint: ResidencyPolicy.Constraint
        /// Candidate region indices in policy order (choices as listed, unrestricted by id).
        let candidates: [Int]
        let override: ResidencyPolicy.Override?
        let point: Coordinate?
        let pointSource: LocationSource
        /// Candidates ordered by distance from `point` (ties by region id), with the nearest site of each.
        let byDistance: [(region: Int, site: Int, kilometres: Double)]
        /// The reason the constraint gives (nil when it blocks the country: that is a refusal).
        let constraintReason: PlacementReason?
        let rendered: RenderedReasons

        init(
            code: CountryCode, constraint: ResidencyPolicy.Constraint, candidates: [Int],
            override: ResidencyPolicy.Override?, point: Coordinate?, pointSource: LocationSource,
            byDistance: [(region: Int, site: Int, kilometres: Double)], regions: [Region]
        ) {
            self.code = code
            self.constraint = constraint
            self.candidates = candidates
            self.override = override
            self.point = point
            self.pointSource = pointSource
            self.byDistance = byDistance
            switch constraint {
            case .mandatory(let rule): constraintReason = .mandatoryRegion(country: code, rule: rule.rule, region: rule.region)
            case .choice(let rule): constraintReason = .regionChoice(country: code, rule: rule.rule, regions: rule.regions)
            case .unrestricted: constraintReason = .anyRegion(country: code)
            case .blocked: constraintReason = nil
            }
            // The reasons `place` gives when it takes a candidate measured from this point: `nearest_region` (from
            // the point's own source: a database point is measured per request) and its nearest site.
            rendered = RenderedReasons(
                constraint: constraintReason,
                nearest: byDistance.map {
                    .nearestRegion(
                        region: regions[$0.region].id, kilometres: Int($0.kilometres.rounded()), from: pointSource)
                },
                sites: byDistance.map {
                    .site(site: regions[$0.region].sites[$0.site].id, kilometres: Int($0.kilometres.rounded()))
                })
        }
    }

    package init(policies: PolicySet, locator: GeoLocator?) {
        self.policies = policies
        self.locator = locator
        let regions = policies.catalog.regions
        self.regions = regions
        var regionIndex: [String: Int] = [:]
        for (index, region) in regions.enumerated() { regionIndex[region.id] = index }
        self.regionIndex = regionIndex
        var countries = [CountryPlan?](repeating: nil, count: 26 * 26)
        for country in policies.catalog.countries.countries.values {
            let constraint = policies.residency.constraint(for: country.code)
            let candidates: [Int]
            switch constraint {
            case .mandatory(let rule): candidates = [regionIndex[rule.region]!]
            case .choice(let rule): candidates = rule.regions.map { regionIndex[$0]! }
            case .blocked: candidates = []
            case .unrestricted: candidates = Array(regions.indices)
            }
            var byDistance: [(region: Int, site: Int, kilometres: Double)] = []
            if let point = country.point {
                byDistance = candidates.map { index in
                    let (site, kilometres) = Self.nearestSite(of: regions[index], to: point)
                    return (index, site, kilometres)
                }.sorted { ($0.kilometres, regions[$0.region].id) < ($1.kilometres, regions[$1.region].id) }
            }
            countries[Self.slot(of: country.code)] = CountryPlan(
                code: country.code, constraint: constraint, candidates: candidates,
                override: policies.residency.override(for: country.code), point: country.point,
                pointSource: LocationSource(country.pointKind), byDistance: byDistance, regions: regions)
        }
        self.countries = countries
    }

    /// Appends `reason`'s JSON (`{"code":…,"message":…}`) as the plan of `country` rendered it at load, when it
    /// rendered that very reason; false, with nothing written, otherwise (the caller writes it).
    package func appendRendered(_ reason: PlacementReason, country: CountryCode?, to output: inout [UInt8]) -> Bool {
        appendRenderedReason(reason, country: country, to: &output)
    }

    func appendRenderedReason<Sink: JSONByteSink & ~Copyable>(
        _ reason: PlacementReason, country: CountryCode?, to output: inout Sink
    ) -> Bool {
        guard let country, let plan = countries[Self.slot(of: country)] else { return false }
        return plan.rendered.append(reason, to: &output)
    }

    @inline(__always)
    static func slot(of code: CountryCode) -> Int {
        let utf8 = code.rawValue.utf8
        return Int(utf8.first! &- 65) * 26 + Int(utf8[utf8.index(after: utf8.startIndex)] &- 65)
    }

    static func nearestSite(of region: Region, to point: Coordinate) -> (site: Int, kilometres: Double) {
        var best = (site: 0, kilometres: Double.infinity)
        for (index, site) in region.sites.enumerated() {
            let kilometres = site.location.distanceKilometres(to: point)
            if kilometres < best.kilometres || (kilometres == best.kilometres && site.id < region.sites[best.site].id) {
                best = (index, kilometres)
            }
        }
        return best
    }

    /// Why `region` cannot take a signup given the current number of tenants in each region, or nil.
    func unavailability(_ region: Region, occupancy: [String: Int], unreachable: Set<String>) -> RegionUnavailability? {
        if unreachable.contains(region.id) { return .serviceUnreachable }
        switch region.status {
        case .draining: return .draining
        case .closed: return .closed
        case .active: break
        }
        if !region.acceptsSignups { return .notAcceptingSignups }
        if occupancy[region.id, default: 0] >= region.capacity { return .full }
        return nil
    }

    /// Decides where `request` goes. `occupancy` is the number of live tenants per region; `unreachable` the
    /// regions whose regional service does not answer (passed over, and said so in the reasons).
    package func place(
        _ request: PlacementRequest, occupancy: [String: Int] = [:], unreachable: Set<String> = []
    ) -> PlacementDecision {
        var reasons: [PlacementReason] = []
        reasons.reserveCapacity(6)

        // 1. The customer's country: declared when given, else geolocated; both recorded.
        var geolocated: CountryCode?
        var databasePoint: Coordinate?
        if let ip = request.ip {
            if let locator {
                do {
                    switch try locator.locate(ip) {
                    case .located(let record):
                        geolocated = record.country
                        databasePoint = record.coordinate
                        if let country = record.country {
                            reasons.append(
                                .geolocated(address: ip, country: country, hasCoordinates: record.coordinate != nil))
                        } else {
                            reasons.append(.geolocatedWithoutCountry(address: ip))
                        }
                    case .notInDatabase: reasons.append(.notInDatabase(address: ip))
                    case .notLocatable(let range): reasons.append(.notLocatable(address: ip, range: range))
                    }
                } catch {
                    reasons.append(.geolocationFailed(address: ip, error: error.description))
                }
            } else {
                reasons.append(.geolocationFailed(address: ip, error: "no geolocation database is configured"))
            }
        }
        if let declared = request.declaredCountry {
            reasons.append(.declaredCountry(declared))
            if let geolocated, geolocated != declared {
                reasons.append(.countryMismatch(declared: declared, geolocated: geolocated))
            }
            // A declared point is where the customer says they are; a database point for another country is not.
            if geolocated != declared { databasePoint = nil }
        }
        let country = request.declaredCountry ?? geolocated
        func decision(_ outcome: PlacementDecision.Outcome) -> PlacementDecision {
            PlacementDecision(
                outcome: outcome, country: country, declaredCountry: request.declaredCountry,
                geolocatedCountry: geolocated, reasons: reasons, policyVersion: policies.version)
        }
        func refuse(_ code: PlacementRefusal.Code, rule: String?, _ message: String) -> PlacementDecision {
            decision(.refused(PlacementRefusal(code: code, rule: rule, message: message)))
        }

        // 2. The residency constraint: which regions are candidates at all.
        var candidates: [Int]
        var constraintRule: String?
        var byDistance: [(region: Int, site: Int, kilometres: Double)] = []
        var point: Coordinate?
        var pointSource = LocationSource.countryPoint
        var override: ResidencyPolicy.Override?
        if let country, let plan = countries[Self.slot(of: country)] {
            switch plan.constraint {
            case .blocked(let rule):
                reasons.append(.noPermittedRegion(country: country, rule: rule.rule, reason: rule.reason))
                return refuse(
                    .noPermittedRegion, rule: rule.rule, "no region may host customers from \(country): \(rule.reason)")
            case .mandatory(let rule): constraintRule = rule.rule
            case .choice(let rule): constraintRule = rule.rule
            case .unrestricted: break
            }
            // The plan's own value (the same as building it here): what `RenderedReasons` compares with.
            if let reason = plan.constraintReason { reasons.append(reason) }
            candidates = plan.candidates
            override = plan.override
            if let databasePoint {
                point = databasePoint
                byDistance = candidates.map { index in
                    let (site, kilometres) = Self.nearestSite(of: regions[index], to: databasePoint)
                    return (index, site, kilometres)
                }.sorted { ($0.kilometres, regions[$0.region].id) < ($1.kilometres, regions[$1.region].id) }
            } else {
                point = plan.point
                pointSource = plan.pointSource
                byDistance = plan.byDistance
            }
        } else {
            let unlocated = policies.residency.unlocated
            guard unlocated.action == .region, let region = unlocated.region, let index = regionIndex[region] else {
                return refuse(
                    .unlocated, rule: "unlocated",
                    "the customer's country is unknown and policy refuses to guess: \(unlocated.reason)")
            }
            reasons.append(.unlocatedFallback(region: region, reason: unlocated.reason))
            candidates = [index]
            constraintRule = "unlocated"
        }
        let locationSource: LocationSource = databasePoint != nil && point == databasePoint ? .database : pointSource

        func place(_ index: Int, kilometres knownDistance: Double?, site knownSite: Int?) -> PlacementDecision {
            // The region read in place, not copied out of the catalog (a copy retained its every field).
            var site = knownSite ?? 0
            var kilometres = knownDistance
            if knownSite == nil, let point {
                (site, kilometres) = Self.nearestSite(of: regions[index], to: point)
            } else if knownSite == nil {
                let sites = regions[index].sites
                site = sites.indices.min { sites[$0].id < sites[$1].id }!
            }
            let roundedKilometres = kilometres.map { Int($0.rounded()) }
            let siteID = regions[index].sites[site].id
            reasons.append(.site(site: siteID, kilometres: roundedKilometres))
            return decision(.placed(region: regions[index].id, site: siteID, kilometres: roundedKilometres))
        }

        // 3. A requested region: honoured when permitted and open, otherwise refused with the rule.
        if let requested = request.requestedRegion {
            guard let index = regionIndex[requested] else {
                return refuse(
                    .unknownRegion, rule: nil,
                    "unknown region \"\(requested)\"; accepted: \(regions.map(\.id).joined(separator: ", "))")
            }
            guard candidates.contains(index) else {
                let who = country.map { "customers from \($0)" } ?? "customers whose country is unknown"
                let allowed = candidates.map { regions[$0].id }.joined(separator: ", ")
                return refuse(
                    .regionNotPermitted, rule: constraintRule,
                    "\(requested) is not permitted for \(who): rule \(constraintRule ?? "-") allows \(allowed)")
            }
            if let why = unavailability(regions[index], occupancy: occupancy, unreachable: unreachable) {
                reasons.append(.regionUnavailable(region: requested, why: why))
                return refuse(.regionUnavailable, rule: nil, "requested region \(requested) \(why.message)")
            }
            reasons.append(.requestedRegionHonoured(region: requested))
            let known = byDistance.first { $0.region == index }
            return place(index, kilometres: known?.kilometres, site: known?.site)
        }

        // 4. Overrides, then the nearest available candidate.
        if let override, let country, let index = regionIndex[override.region], candidates.contains(index) {
            if let why = unavailability(regions[index], occupancy: occupancy, unreachable: unreachable) {
                reasons.append(.overrideUnavailable(rule: override.rule, region: override.region, why: why))
            } else {
                reasons.append(.overrideApplied(country: country, rule: override.rule, region: override.region))
                let known = byDistance.first { $0.region == index }
                return place(index, kilometres: known?.kilometres, site: known?.site)
            }
        }
        if point != nil {
            for candidate in byDistance {
                if let why = unavailability(regions[candidate.region], occupancy: occupancy, unreachable: unreachable) {
                    reasons.append(.regionUnavailable(region: regions[candidate.region].id, why: why))
                    continue
                }
                reasons.append(
                    .nearestRegion(
                        region: regions[candidate.region].id, kilometres: Int(candidate.kilometres.rounded()),
                        from: locationSource))
                return place(candidate.region, kilometres: candidate.kilometres, site: candidate.site)
            }
        } else {
            if let country { reasons.append(.noCoordinates(country: country)) }
            // Without a distance, prefer the region policy uses for unknown locations, then policy order.
            let fallback = policies.residency.unlocated.region.flatMap { regionIndex[$0] }
            let ordered = candidates.filter { $0 == fallback } + candidates.filter { $0 != fallback }
            for index in ordered {
                if let why = unavailability(regions[index], occupancy: occupancy, unreachable: unreachable) {
                    reasons.append(.regionUnavailable(region: regions[index].id, why: why))
                    continue
                }
                reasons.append(.firstAvailableRegion(region: regions[index].id))
                return place(index, kilometres: nil, site: nil)
            }
        }
        let names = candidates.map { regions[$0].id }.joined(separator: ", ")
        return refuse(
            .noRegionAvailable, rule: constraintRule, "no permitted region is available (candidates: \(names))")
    }
}
