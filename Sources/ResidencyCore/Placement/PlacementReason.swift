/// One step of a placement decision, in the order it was taken. Typed values rather than text, so a
/// decision is cheap to make; `code` and `message` render them for people and records.
package enum PlacementReason: Sendable, Hashable {
    case declaredCountry(CountryCode)
    case geolocated(address: IPAddress, country: CountryCode, hasCoordinates: Bool)
    case geolocatedWithoutCountry(address: IPAddress)
    case notLocatable(address: IPAddress, range: SpecialPurposeRange)
    case notInDatabase(address: IPAddress)
    case geolocationFailed(address: IPAddress, error: String)
    case countryMismatch(declared: CountryCode, geolocated: CountryCode)
    case unlocatedFallback(region: String, reason: String)
    case noPermittedRegion(country: CountryCode, rule: String, reason: String)
    case mandatoryRegion(country: CountryCode, rule: String, region: String)
    case regionChoice(country: CountryCode, rule: String, regions: [String])
    case anyRegion(country: CountryCode)
    case requestedRegionHonoured(region: String)
    case overrideApplied(country: CountryCode, rule: String, region: String)
    case overrideUnavailable(rule: String, region: String, why: RegionUnavailability)
    case regionUnavailable(region: String, why: RegionUnavailability)
    case nearestRegion(region: String, kilometres: Int, from: LocationSource)
    case noCoordinates(country: CountryCode)
    case firstAvailableRegion(region: String)
    case site(site: String, kilometres: Int?)

    package var code: String {
        switch self {
        case .declaredCountry: return "declared_country"
        case .geolocated: return "geolocated"
        case .geolocatedWithoutCountry: return "geolocated_without_country"
        case .notLocatable: return "not_locatable"
        case .notInDatabase: return "not_in_database"
        case .geolocationFailed: return "geolocation_failed"
        case .countryMismatch: return "country_mismatch"
        case .unlocatedFallback: return "unlocated_fallback"
        case .noPermittedRegion: return "no_permitted_region"
        case .mandatoryRegion: return "mandatory_region"
        case .regionChoice: return "region_choice"
        case .anyRegion: return "any_region"
        case .requestedRegionHonoured: return "requested_region"
        case .overrideApplied: return "override"
        case .overrideUnavailable: return "override_unavailable"
        case .regionUnavailable: return "region_unavailable"
        case .nearestRegion: return "nearest_region"
        case .noCoordinates: return "no_coordinates"
        case .firstAvailableRegion: return "first_available_region"
        case .site: return "site"
        }
    }

    package var message: String {
        switch self {
        case .declaredCountry(let country): return "declared country \(country)"
        case .geolocated(let address, let country, let hasCoordinates):
            return "\(address) geolocates to \(country)" + (hasCoordinates ? " (with coordinates)" : "")
        case .geolocatedWithoutCountry(let address): return "\(address) is in the database but has no country"
        case .notLocatable(let address, let range):
            return "\(address) is not locatable: \(range.name) (\(range.prefix))"
        case .notInDatabase(let address): return "\(address) is in no network of the geolocation database"
        case .geolocationFailed(let address, let error): return "geolocating \(address) failed: \(error)"
        case .countryMismatch(let declared, let geolocated):
            return "declared country \(declared) differs from geolocated \(geolocated); the declared country is used"
        case .unlocatedFallback(let region, let reason):
            return "the customer's country is unknown; policy places in \(region): \(reason)"
        case .noPermittedRegion(let country, let rule, let reason):
            return "no region may host customers from \(country) (rule \(rule)): \(reason)"
        case .mandatoryRegion(let country, let rule, let region):
            return "customers from \(country) must be hosted in \(region) (rule \(rule))"
        case .regionChoice(let country, let rule, let regions):
            return "customers from \(country) may be hosted in \(regions.joined(separator: ", ")) (rule \(rule))"
        case .anyRegion(let country): return "no residency rule for \(country): every region is a candidate"
        case .requestedRegionHonoured(let region): return "requested region \(region) is permitted and open"
        case .overrideApplied(let country, let rule, let region):
            return "override \(rule) places \(country) in \(region)"
        case .overrideUnavailable(let rule, let region, let why):
            return "override \(rule) names \(region), which \(why.message)"
        case .regionUnavailable(let region, let why): return "region \(region) skipped: it \(why.message)"
        case .nearestRegion(let region, let kilometres, let from):
            return "\(region) is the nearest available candidate, \(kilometres) km from the \(from.message)"
        case .noCoordinates(let country): return "no coordinates for \(country): distance cannot be measured"
        case .firstAvailableRegion(let region): return "\(region) is the first available candidate"
        case .site(let site, let kilometres): return "site \(site)" + (kilometres.map { ", \($0) km away" } ?? "")
        }
    }
}

/// Why a region cannot take a signup now.
package enum RegionUnavailability: String, Sendable, Hashable {
    case draining, closed
    case notAcceptingSignups = "not_accepting_signups"
    case full
    /// The region's service has not answered the controller's health calls (distributed mode).
    case serviceUnreachable = "service_unreachable"

    package var message: String {
        switch self {
        case .serviceUnreachable: return "has a regional service that does not answer"
        case .draining: return "is draining"
        case .closed: return "is closed"
        case .notAcceptingSignups: return "does not accept signups"
        case .full: return "is at capacity"
        }
    }
}

/// Where the point distances were measured from came from.
package enum LocationSource: String, Sendable, Hashable {
    /// The geolocation database's own coordinates (city databases).
    case database
    /// The country's capital in `Regions/countries.csv`.
    case capital
    /// The country's most populous city, where `Regions/countries.csv` finds the capital unsuitable.
    case city
    /// The centre of a territory without a capital.
    case countryPoint = "country_point"

    init(_ kind: Country.PointKind?) {
        switch kind {
        case .capital: self = .capital
        case .city: self = .city
        case .centroid, nil: self = .countryPoint
        }
    }

    var message: String {
        switch self {
        case .database: return "geolocated coordinates"
        case .capital: return "country's capital"
        case .city: return "country's most populous city"
        case .countryPoint: return "country's centre"
        }
    }
}
