import Foundation
import Testing

@testable import ResidencyCore

/// The points of `Regions/countries.csv` checked against capitals known independently of the file, so a
/// centroid in the tundra (Canada's, once) or a capital that is not the capital (Brazil's) cannot return.
@Suite struct CountryPointTests {
    /// Capitals (or, for Montserrat, the city used instead) to two decimals, from public knowledge.
    static let known: [(code: String, place: String, latitude: Double, longitude: Double)] = [
        ("CA", "Ottawa", 45.42, -75.70), ("BR", "Brasília", -15.79, -47.88), ("RU", "Moscow", 55.76, 37.62),
        ("AU", "Canberra", -35.28, 149.13), ("US", "Washington", 38.90, -77.04), ("IN", "New Delhi", 28.61, 77.21),
        ("CN", "Beijing", 39.90, 116.41), ("ZA", "Pretoria", -25.75, 28.19), ("NG", "Abuja", 9.06, 7.49),
        ("AE", "Abu Dhabi", 24.45, 54.38), ("KZ", "Astana", 51.17, 71.45), ("TR", "Ankara", 39.93, 32.86),
        ("PK", "Islamabad", 33.68, 73.05), ("NZ", "Wellington", -41.29, 174.78),
        ("AR", "Buenos Aires", -34.60, -58.38), ("MX", "Mexico City", 19.43, -99.13), ("EG", "Cairo", 30.04, 31.24),
        ("JP", "Tokyo", 35.68, 139.69), ("DE", "Berlin", 52.52, 13.40), ("GB", "London", 51.51, -0.13),
        ("FR", "Paris", 48.86, 2.35), ("SG", "Singapore", 1.29, 103.85), ("IE", "Dublin", 53.35, -6.26),
        ("ES", "Madrid", 40.42, -3.70), ("PT", "Lisbon", 38.72, -9.14), ("IT", "Rome", 41.90, 12.50),
        ("NL", "Amsterdam", 52.37, 4.90), ("BE", "Brussels", 50.85, 4.35), ("AT", "Vienna", 48.21, 16.37),
        ("CH", "Bern", 46.95, 7.45), ("PL", "Warsaw", 52.23, 21.01), ("SE", "Stockholm", 59.33, 18.07),
        ("NO", "Oslo", 59.91, 10.75), ("FI", "Helsinki", 60.17, 24.94), ("DK", "Copenhagen", 55.68, 12.57),
        ("GR", "Athens", 37.98, 23.73), ("UA", "Kyiv", 50.45, 30.52), ("RO", "Bucharest", 44.43, 26.10),
        ("HU", "Budapest", 47.50, 19.04), ("CZ", "Prague", 50.08, 14.44), ("IS", "Reykjavík", 64.15, -21.94),
        ("LU", "Luxembourg", 49.61, 6.13), ("ME", "Podgorica", 42.44, 19.26), ("TN", "Tunis", 36.81, 10.18),
        ("DJ", "Djibouti", 11.59, 43.15), ("TZ", "Dodoma", -6.17, 35.74), ("KE", "Nairobi", -1.29, 36.82),
        ("ET", "Addis Ababa", 9.03, 38.74), ("MA", "Rabat", 34.02, -6.83), ("DZ", "Algiers", 36.75, 3.06),
        ("GH", "Accra", 5.60, -0.19), ("SN", "Dakar", 14.72, -17.47), ("SA", "Riyadh", 24.71, 46.68),
        ("IR", "Tehran", 35.69, 51.39), ("IQ", "Baghdad", 33.31, 44.37), ("ID", "Jakarta", -6.21, 106.85),
        ("TH", "Bangkok", 13.76, 100.50), ("VN", "Hanoi", 21.03, 105.85), ("PH", "Manila", 14.60, 120.98),
        ("MY", "Kuala Lumpur", 3.14, 101.69), ("KR", "Seoul", 37.57, 126.98), ("BD", "Dhaka", 23.81, 90.41),
        ("CL", "Santiago", -33.45, -70.67), ("PE", "Lima", -12.05, -77.04), ("CO", "Bogotá", 4.71, -74.07),
        ("VE", "Caracas", 10.49, -66.88), ("CU", "Havana", 23.11, -82.37), ("TL", "Dili", -8.56, 125.57),
        ("RE", "Saint-Denis", -20.88, 55.45), ("IM", "Douglas", 54.15, -4.48), ("GD", "St. George's", 12.06, -61.75),
        ("AG", "St. John's", 17.12, -61.85), ("AI", "The Valley", 18.22, -63.06),
        ("PM", "Saint-Pierre", 46.78, -56.17), ("SH", "Jamestown", -15.93, -5.72), ("NF", "Kingston", -29.05, 167.96),
        ("MS", "Brades", 16.79, -62.21),
    ]

    /// Territories with no capital, whose point (if any) may be their centre.
    static let withoutCapital: Set<String> = ["AQ", "BV", "HM", "UM"]

    let countries: CountryTable

    init() throws {
        countries = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies).catalog.countries
    }

    @Test func everyKnownPlaceIsWithinFiftyKilometres() throws {
        #expect(Self.known.count >= 60)
        for place in Self.known {
            let country = try #require(countries.country(CountryCode(place.code)!), "\(place.code) is missing")
            let point = try #require(country.point, "\(place.code) has no point")
            let kilometres = point.distanceKilometres(
                to: Coordinate(latitude: place.latitude, longitude: place.longitude))
            #expect(kilometres <= 50, "\(place.code)'s point is \(Int(kilometres)) km from \(place.place)")
        }
    }

    @Test func onlyTerritoriesWithoutACapitalUseTheirCentre() {
        for country in countries.countries.values {
            if country.pointKind == .centroid || country.point == nil {
                #expect(Self.withoutCapital.contains(country.code.rawValue), "\(country.code) has a capital")
            } else {
                #expect(!country.capital.isEmpty, "\(country.code) has a point but names no place")
            }
        }
        #expect(countries.country(CountryCode("CA")!)?.pointKind == .capital)
        #expect(countries.country(CountryCode("MS")!)?.pointKind == .city)
    }

    @Test func aPointWithoutAKindIsRefused() throws {
        let copy = try Fixtures.copyOfShippedFiles()
        defer { try? FileManager.default.removeItem(at: copy.root) }
        try Fixtures.replace(
            in: copy.regions.appendingPathComponent("countries.csv"), "Ottawa,45.4200,-75.7000,capital",
            with: "Ottawa,45.4200,-75.7000,somewhere")
        #expect(throws: (any Error).self) {
            try PolicySet.load(regions: copy.regions, policies: copy.policies)
        }
    }
}
