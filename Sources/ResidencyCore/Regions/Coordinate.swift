import Foundation

/// A point on the Earth in decimal degrees (WGS 84).
package struct Coordinate: Sendable, Hashable, CustomStringConvertible {
    package let latitude: Double
    package let longitude: Double

    package init(latitude: Double, longitude: Double) {
        self.latitude = latitude
        self.longitude = longitude
    }

    /// The mean Earth radius (IUGG), the usual choice for great-circle distances.
    package static let earthRadiusKilometres = 6371.0088

    /// Great-circle distance by the haversine formula, which stays accurate for the short distances
    /// (Dublin to Frankfurt) where the spherical law of cosines loses precision.
    package func distanceKilometres(to other: Coordinate) -> Double {
        let toRadians = Double.pi / 180
        let lat1 = latitude * toRadians
        let lat2 = other.latitude * toRadians
        let dLat = lat2 - lat1
        let dLon = (other.longitude - longitude) * toRadians
        let sinLat = sin(dLat / 2)
        let sinLon = sin(dLon / 2)
        let a = sinLat * sinLat + cos(lat1) * cos(lat2) * sinLon * sinLon
        return 2 * Self.earthRadiusKilometres * asin(min(1, a.squareRoot()))
    }

    package var description: String { "\(latitude),\(longitude)" }
}
