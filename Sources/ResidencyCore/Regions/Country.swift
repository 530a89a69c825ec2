/// A country of ISO 3166-1 with the point placement measures distance from when a database gives no
/// coordinates of its own.
package struct Country: Sendable, Hashable {
    package let code: CountryCode
    package let alpha3: String
    package let numeric: String
    package let name: String
    /// The capital's name as the table gives it; empty for territories without one.
    package let capital: String
    /// The capital, or the most populous city where the capital is unsuitable, or the centre for a
    /// territory with no capital; absent for the few with no meaningful point (AQ, BV, UM).
    package let point: Coordinate?
    /// What `point` is, so a placement reason can say "capital" rather than a vaguer "point".
    package let pointKind: PointKind?
    package let continent: String
    package let subregion: String
}

extension Country {
    /// What a country's representative point stands for (the `point` column of `Regions/countries.csv`).
    package enum PointKind: String, Sendable, Hashable, CaseIterable {
        case capital
        /// The most populous city, used where the capital is unsuitable (Montserrat's was abandoned in 1997).
        case city
        /// The geographic centre, only for territories without a capital.
        case centroid
    }
}
