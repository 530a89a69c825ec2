import Foundation

/// The regions the service hosts in, and the country table they refer to.
package struct RegionCatalog: Sendable {
    /// Regions in id order.
    package let regions: [Region]
    package let countries: CountryTable
    /// SHA-256 over the canonical form of every region file, in id order.
    package let version: SHA256Digest

    /// Ids of every region file found, valid or not, so policy checks do not repeat a region file's own
    /// problem as an "unknown region" wherever the policies name it.
    let declaredRegionIDs: Set<String>
    private let byID: [String: Region]
    private let byJurisdiction: [CountryCode: String]

    package init(regions: [Region], countries: CountryTable, version: SHA256Digest, declaredRegionIDs: Set<String> = [])
    {
        self.declaredRegionIDs = declaredRegionIDs.union(regions.map(\.id))
        self.regions = regions.sorted { $0.id < $1.id }
        self.countries = countries
        self.version = version
        self.byID = Dictionary(regions.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var jurisdiction: [CountryCode: String] = [:]
        for region in regions { for country in region.jurisdiction { jurisdiction[country] = region.id } }
        self.byJurisdiction = jurisdiction
    }

    package func region(id: String) -> Region? { byID[id] }

    /// The region whose jurisdiction covers `country`, if any.
    package func region(governing country: CountryCode) -> Region? { byJurisdiction[country].flatMap { byID[$0] } }

    package var regionIDs: [String] { regions.map(\.id) }

    /// The site with this id, in whichever region holds it.
    package func site(id: String) -> (region: Region, site: Site)? {
        for region in regions { if let site = region.sites.first(where: { $0.id == id }) { return (region, site) } }
        return nil
    }
}

extension RegionCatalog {
    /// Loads `countries.csv` and every `*.json` region file in `directory`, validating all of them and
    /// throwing every problem found at once.
    package static func load(from directory: URL) throws(ConfigurationError) -> RegionCatalog {
        let collector = ProblemCollector()
        let catalog = load(from: directory, collector: collector)
        try collector.throwIfAny()
        return catalog
    }

    package static func load(from directory: URL, collector: ProblemCollector) -> RegionCatalog {
        let countries = CountryTable.load(
            from: directory.appendingPathComponent(CountryTable.fileName),
            displayName: DisplayPath.of(directory.appendingPathComponent(CountryTable.fileName)), collector: collector)
        var regions: [Region] = []
        var canonical: [(key: String, value: JSONValue)] = []
        let files: [URL]
        do {
            files = try FileManager.default.contentsOfDirectory(at: directory, includingPropertiesForKeys: nil)
                .filter { $0.pathExtension == "json" }.sorted { $0.lastPathComponent < $1.lastPathComponent }
        } catch {
            collector.report(
                file: DisplayPath.of(directory), path: "-",
                "cannot list the regions directory: \(error.localizedDescription)")
            return RegionCatalog(regions: [], countries: countries, version: SHA256.hash([]))
        }
        if files.isEmpty {
            collector.report(file: DisplayPath.of(directory), path: "-", "no region files (*.json) found")
        }
        for file in files {
            let name = DisplayPath.of(file)
            guard let document = JSONFile.read(file, displayName: name, collector: collector) else { continue }
            let reader = JSONReader(value: document, file: name, collector: collector)
            guard let region = RegionFile.read(reader, countries: countries) else { continue }
            let expectedName = region.id + ".json"
            if file.lastPathComponent != expectedName {
                collector.report(
                    file: name, path: "$.id",
                    "\"\(region.id)\": the file of region \"\(region.id)\" must be named \(expectedName)")
            }
            regions.append(region)
            canonical.append((region.id, document))
        }
        validateAcrossRegions(regions, collector: collector, directory: directory)
        let bytes = (try? JSONValue.object(canonical).canonicalBytes(allowsFractions: true)) ?? []
        let declared = Set(files.map { $0.deletingPathExtension().lastPathComponent })
        return RegionCatalog(
            regions: regions, countries: countries, version: SHA256.hash(bytes), declaredRegionIDs: declared)
    }

    private static func validateAcrossRegions(_ regions: [Region], collector: ProblemCollector, directory: URL) {
        var regionIDs: [String: Int] = [:]
        var siteOwners: [String: String] = [:]
        var countryOwners: [CountryCode: String] = [:]
        for region in regions.sorted(by: { $0.id < $1.id }) {
            let file = DisplayPath.of(directory.appendingPathComponent(region.id + ".json"))
            regionIDs[region.id, default: 0] += 1
            if regionIDs[region.id] == 2 {
                collector.report(
                    file: file, path: "$.id", "\"\(region.id)\": duplicate region id; each region id must be unique")
            }
            for (index, site) in region.sites.enumerated() {
                if let owner = siteOwners[site.id] {
                    collector.report(
                        file: file, path: "$.sites[\(index)].id",
                        "\"\(site.id)\": duplicate site id, already used in region \"\(owner)\"; site ids must be unique across regions"
                    )
                } else {
                    siteOwners[site.id] = region.id
                }
            }
            for country in region.jurisdiction.sorted() {
                if let owner = countryOwners[country], owner != region.id {
                    collector.report(
                        file: file, path: "$.jurisdiction",
                        "\"\(country)\" is already in the jurisdiction of region \"\(owner)\"; a country's law governs one region at most"
                    )
                } else {
                    countryOwners[country] = region.id
                }
            }
        }
    }
}

/// Reads one region file.
enum RegionFile {
    static let fields = ["id", "name", "jurisdiction", "status", "accepts_signups", "capacity", "sites"]
    static let siteFields = ["id", "country", "city", "latitude", "longitude", "provider"]

    static func read(_ reader: JSONReader, countries: CountryTable) -> Region? {
        guard let object = reader.object(known: fields) else { return nil }
        let id = object.required("id")?.identifier()
        let name = object.required("name")?.text()
        let jurisdiction = object.required("jurisdiction").flatMap { readCountries($0, countries: countries) }
        let status = object.required("status")?.oneOf(Region.Status.self)
        let accepts = object.required("accepts_signups")?.bool()
        let capacity = object.required("capacity")?.integer(in: 0...1_000_000_000)
        let siteReaders = object.required("sites")?.array()
        let sites = siteReaders?.compactMap { readSite($0, countries: countries, jurisdiction: jurisdiction) }

        if let siteReaders, siteReaders.isEmpty {
            object.optional("sites")?.note("a region needs at least one site")
        }
        if let status, status != .active, accepts == true {
            object.optional("accepts_signups")?.problem(
                "a \(status.rawValue) region cannot accept signups; set it to false or the status to \"active\"")
        }
        guard let id, let name, let jurisdiction, let status, let accepts, let capacity, let siteReaders, let sites,
            !sites.isEmpty, sites.count == siteReaders.count
        else { return nil }
        return Region(
            id: id, name: name, jurisdiction: jurisdiction, status: status, acceptsSignups: accepts,
            capacity: Int(capacity), sites: sites)
    }

    static func readCountries(_ reader: JSONReader, countries: CountryTable) -> Set<CountryCode>? {
        guard let elements = reader.array() else { return nil }
        if elements.isEmpty {
            reader.note("must list at least one country")
            return nil
        }
        var result = Set<CountryCode>()
        var valid = true
        for element in elements {
            guard let code = element.country(in: countries) else {
                valid = false
                continue
            }
            if !result.insert(code).inserted {
                element.problem("listed twice")
                valid = false
            }
        }
        return valid ? result : nil
    }

    static func readSite(_ reader: JSONReader, countries: CountryTable, jurisdiction: Set<CountryCode>?) -> Site? {
        guard let object = reader.object(known: siteFields) else { return nil }
        let id = object.required("id")?.identifier()
        let countryReader = object.required("country")
        let country = countryReader?.country(in: countries)
        let city = object.required("city")?.text()
        let latitude = object.required("latitude")?.double(in: -90...90)
        let longitude = object.required("longitude")?.double(in: -180...180)
        let provider = object.required("provider")?.oneOf(Site.Provider.self)
        if let country, let jurisdiction, !jurisdiction.contains(country) {
            countryReader?.problem("a site must be in a country of its region's jurisdiction")
            return nil
        }
        guard let id, let country, let city, let latitude, let longitude, let provider else { return nil }
        return Site(
            id: id, country: country, city: city, location: Coordinate(latitude: latitude, longitude: longitude),
            provider: provider)
    }
}

extension JSONReader {
    /// An ISO 3166-1 alpha-2 code that the country table knows, written in upper case.
    package func country(in countries: CountryTable) -> CountryCode? {
        guard let text = string() else { return nil }
        guard let code = CountryCode(text), code.rawValue == text else {
            problem("is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as \"DE\"")
            return nil
        }
        guard !countries.isUsable || countries.contains(code) else {
            problem("is not an ISO 3166-1 alpha-2 country code; accepted: e.g. FR, DE, US")
            return nil
        }
        return code
    }
}
