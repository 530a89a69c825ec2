import Foundation

/// The ISO 3166-1 countries with their representative points, loaded from `Regions/countries.csv`.
package struct CountryTable: Sendable {
    package let countries: [CountryCode: Country]

    package init(countries: [Country]) {
        self.countries = Dictionary(countries.map { ($0.code, $0) }, uniquingKeysWith: { first, _ in first })
    }

    package func country(_ code: CountryCode) -> Country? { countries[code] }

    package func contains(_ code: CountryCode) -> Bool { countries[code] != nil }

    /// False when the table itself failed to load; checks against it are then skipped rather than
    /// burying the one real problem under a report for every country code.
    package var isUsable: Bool { !countries.isEmpty }

    package static let fileName = "countries.csv"
    static let header = "alpha2,alpha3,numeric,name,capital,lat,lon,point,continent,subregion"

    /// Parses the CSV; names with commas are quoted, as in the shipped file.
    package static func load(from url: URL, displayName: String, collector: ProblemCollector) -> CountryTable {
        guard let data = try? Data(contentsOf: url), let text = String(data: data, encoding: .utf8) else {
            collector.report(file: displayName, path: "-", "cannot read the country table (UTF-8 CSV expected)")
            return CountryTable(countries: [])
        }
        // Split on bytes: Swift treats "\r\n" as one Character, and the shipped file uses CRLF as RFC 4180 does.
        var lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true).map {
            String(decoding: $0.last == UInt8(ascii: "\r") ? $0.dropLast() : $0, as: UTF8.self)
        }
        guard !lines.isEmpty, lines.removeFirst() == header else {
            collector.report(file: displayName, path: "line 1", "expected the header \"\(header)\"")
            return CountryTable(countries: [])
        }
        var countries: [Country] = []
        var seen = Set<CountryCode>()
        for (offset, line) in lines.enumerated() {
            let where_ = "line \(offset + 2)"
            let fields = splitCSV(line)
            guard fields.count == 10 else {
                collector.report(file: displayName, path: where_, "expected 10 fields, found \(fields.count)")
                continue
            }
            guard let code = CountryCode(fields[0]), fields[0] == code.rawValue else {
                collector.report(
                    file: displayName, path: where_ + " alpha2", "\"\(fields[0])\" is not two upper-case letters")
                continue
            }
            guard seen.insert(code).inserted else {
                collector.report(file: displayName, path: where_ + " alpha2", "\"\(fields[0])\" appears twice")
                continue
            }
            var point: Coordinate?
            if !fields[5].isEmpty || !fields[6].isEmpty {
                guard let lat = Double(fields[5]), (-90...90).contains(lat), let lon = Double(fields[6]),
                    (-180...180).contains(lon)
                else {
                    collector.report(
                        file: displayName, path: where_ + " lat,lon",
                        "\"\(fields[5]),\(fields[6])\" is not a coordinate; accepted: latitude -90...90, longitude -180...180"
                    )
                    continue
                }
                point = Coordinate(latitude: lat, longitude: lon)
            }
            let pointKind = Country.PointKind(rawValue: fields[7])
            guard (point == nil && fields[7].isEmpty) || (point != nil && pointKind != nil) else {
                let accepted = Country.PointKind.allCases.map(\.rawValue).joined(separator: ", ")
                collector.report(
                    file: displayName, path: where_ + " point",
                    point == nil
                        ? "\"\(fields[7])\" describes a point that is not there; leave it empty when lat,lon are"
                        : "\"\(fields[7])\" is not a kind of point; accepted: \(accepted)")
                continue
            }
            countries.append(
                Country(
                    code: code, alpha3: fields[1], numeric: fields[2], name: fields[3], capital: fields[4],
                    point: point, pointKind: pointKind, continent: fields[8], subregion: fields[9]))
        }
        return CountryTable(countries: countries)
    }

    /// Splits one RFC 4180 line: fields may be quoted, and a doubled quote inside quotes is one quote.
    static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var inQuotes = false
        var characters = Array(line)[...]
        while let character = characters.popFirst() {
            if inQuotes {
                if character == "\"" {
                    if characters.first == "\"" {
                        current.append("\"")
                        characters.removeFirst()
                    } else {
                        inQuotes = false
                    }
                } else {
                    current.append(character)
                }
            } else if character == "\"" && current.isEmpty {
                inQuotes = true
            } else if character == "," {
                fields.append(current)
                current = ""
            } else if character != "\r" {
                current.append(character)
            }
        }
        fields.append(current)
        return fields
    }
}
