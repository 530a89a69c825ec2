/// What a geolocation database says about one address: the country and, for city databases, coordinates.
package struct GeoRecord: Sendable, Hashable {
    package let country: CountryCode?
    package let coordinate: Coordinate?
    package let prefixLength: Int
}

extension MaxMindDatabase {
    private static let country = Array("country".utf8)
    private static let registeredCountry = Array("registered_country".utf8)
    private static let countryCode = Array("country_code".utf8)
    private static let isoCode = Array("iso_code".utf8)
    private static let location = Array("location".utf8)
    private static let latitude = Array("latitude".utf8)
    private static let longitude = Array("longitude".utf8)

    /// The country and coordinates for `address`, reading only `country.iso_code` (else
    /// `registered_country.iso_code`, else IPinfo's top-level `country_code`) and `location.latitude` /
    /// `location.longitude`. Nil when no network contains the address.
    package func geoRecord(for address: IPAddress) throws(MaxMindError) -> GeoRecord? {
        guard let match = try match(address) else { return nil }
        return try geoRecord(at: match)
    }

    /// The country and coordinates of the data record a lookup landed on.
    package func geoRecord(at match: Match) throws(MaxMindError) -> GeoRecord {
        let data = self.data
        let offset = match.dataOffset
        var code: CountryCode?
        // The two names in turn, not as an array of them: this runs once per address of a bulk lookup.
        for outer in 0..<2 where code == nil {
            if let mapOffset = try data.member(outer == 0 ? Self.country : Self.registeredCountry, inMapAt: offset),
                let valueOffset = try data.member(Self.isoCode, inMapAt: mapOffset),
                let bytes = try data.stringBytes(at: valueOffset)
            {
                code = Self.countryCode(bytes)
            }
        }
        if code == nil,
            let valueOffset = try data.member(Self.countryCode, inMapAt: offset),
            let bytes = try data.stringBytes(at: valueOffset)
        {
            code = Self.countryCode(bytes)
        }
        var coordinate: Coordinate?
        if let locationOffset = try data.member(Self.location, inMapAt: offset),
            let latitudeOffset = try data.member(Self.latitude, inMapAt: locationOffset),
            let longitudeOffset = try data.member(Self.longitude, inMapAt: locationOffset),
            let latitude = try data.number(at: latitudeOffset), let longitude = try data.number(at: longitudeOffset),
            (-90...90).contains(latitude), (-180...180).contains(longitude)
        {
            coordinate = Coordinate(latitude: latitude, longitude: longitude)
        }
        return GeoRecord(country: code, coordinate: coordinate, prefixLength: match.prefixLength)
    }

    /// Just the country, the hot path of placement.
    package func countryCode(for address: IPAddress) throws(MaxMindError) -> CountryCode? {
        guard let match = try match(address) else { return nil }
        let data = self.data
        let offset = match.dataOffset
        guard let mapOffset = try data.member(Self.country, inMapAt: offset),
            let valueOffset = try data.member(Self.isoCode, inMapAt: mapOffset),
            let bytes = try data.stringBytes(at: valueOffset)
        else { return try geoRecord(for: address)?.country }
        return Self.countryCode(bytes)
    }

    private static func countryCode(_ bytes: UnsafeRawBufferPointer) -> CountryCode? {
        guard bytes.count == 2 else { return nil }
        return CountryCode(upperCaseASCII: bytes[0], bytes[1])
    }
}
