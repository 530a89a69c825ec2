/// Where each class of tenant data may be stored or processed (`Policies/data-classes.json`).
package struct DataClassPolicy: Sendable {
    package enum DataClass: String, Sendable, Hashable, CaseIterable {
        case customerData = "customer_data", backups, logs
        case supportAccess = "support_access"
        case analytics, directory
    }

    package enum Within: String, Sendable, Hashable, CaseIterable {
        /// The countries of the tenant's region's jurisdiction.
        case jurisdiction
        /// Only the countries of the region's own sites.
        case sites
        /// Anywhere (no personal data).
        case anywhere
    }

    package struct Rule: Sendable, Hashable {
        package let dataClass: DataClass
        package let within: Within
        package let description: String
    }

    /// Extra countries allowed for one class of one region's data.
    package struct Exception: Sendable, Hashable {
        package let rule: String
        package let region: String
        package let dataClass: DataClass
        package let countries: Set<CountryCode>
        package let basis: String
    }

    package let rules: [DataClass: Rule]
    package let exceptions: [Exception]

    /// The verdict for storing or processing `dataClass` of a tenant in `region` at `country`.
    package func check(_ dataClass: DataClass, region: Region, country: CountryCode) -> ResidencyVerdict {
        let rule = rules[dataClass]!
        let ruleName = "class-\(dataClass.rawValue)-within-\(rule.within.rawValue)"
        switch rule.within {
        case .anywhere:
            return ResidencyVerdict(
                allowed: true, rule: ruleName, message: "\(dataClass.rawValue) may be stored anywhere")
        case .jurisdiction where region.jurisdiction.contains(country):
            return ResidencyVerdict(
                allowed: true, rule: ruleName, message: "\(country) is in the jurisdiction of region \(region.id)")
        case .sites where region.sites.contains(where: { $0.country == country }):
            return ResidencyVerdict(
                allowed: true, rule: ruleName, message: "\(country) hosts a site of region \(region.id)")
        default:
            if let exception = exceptions.first(where: {
                $0.region == region.id && $0.dataClass == dataClass && $0.countries.contains(country)
            }) {
                return ResidencyVerdict(allowed: true, rule: exception.rule, message: exception.basis)
            }
            let allowed = rule.within == .sites ? "the countries of its sites" : "its jurisdiction"
            return ResidencyVerdict(
                allowed: false, rule: ruleName,
                message:
                    "\(dataClass.rawValue) of a tenant in \(region.id) stays within \(allowed); \(country) is outside")
        }
    }
}

/// The answer to "may this data be here?".
package struct ResidencyVerdict: Sendable, Hashable {
    package let allowed: Bool
    package let rule: String
    package let message: String
}

enum DataClassPolicyFile {
    static func read(_ reader: JSONReader, catalog: RegionCatalog) -> DataClassPolicy? {
        guard let object = reader.object(known: ["classes", "exceptions"]) else { return nil }
        var rules: [DataClassPolicy.DataClass: DataClassPolicy.Rule] = [:]
        for element in object.required("classes")?.array() ?? [] {
            guard let item = element.object(known: ["class", "within", "description"]) else { continue }
            let dataClass = item.required("class")?.oneOf(DataClassPolicy.DataClass.self)
            let within = item.required("within")?.oneOf(DataClassPolicy.Within.self)
            let description = item.required("description")?.text()
            guard let dataClass, let within, let description else { continue }
            if rules[dataClass] != nil {
                item.optional("class")?.problem("listed twice; each data class has one rule")
                continue
            }
            rules[dataClass] = .init(dataClass: dataClass, within: within, description: description)
        }
        let missing = DataClassPolicy.DataClass.allCases.filter { rules[$0] == nil }
        if !missing.isEmpty, object.has("classes") {
            object.optional("classes")?.note(
                "missing rules for \(missing.map(\.rawValue).joined(separator: ", ")); every data class needs one")
        }
        var ids = RuleIDs()
        let exceptions = object.required("exceptions")?.array()?.compactMap { element -> DataClassPolicy.Exception? in
            guard let item = element.object(known: ["rule", "region", "class", "countries", "basis"]) else {
                return nil
            }
            let rule = item.required("rule").flatMap { ids.claim($0) }
            let region = item.required("region").flatMap { $0.region(in: catalog) }
            let dataClass = item.required("class")?.oneOf(DataClassPolicy.DataClass.self)
            let countries = item.required("countries").flatMap {
                RegionFile.readCountries($0, countries: catalog.countries)
            }
            let basis = item.required("basis")?.text()
            guard let rule, let region, let dataClass, let countries, let basis else { return nil }
            return .init(rule: rule, region: region, dataClass: dataClass, countries: countries, basis: basis)
        }
        guard missing.isEmpty, let exceptions else { return nil }
        return DataClassPolicy(rules: rules, exceptions: exceptions)
    }
}
