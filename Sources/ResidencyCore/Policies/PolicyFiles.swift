/// Readers for the four policy files. Each checks types and ranges field by field and the cross-references
/// (regions, countries, rule ids) against the catalog, reporting every problem with its JSON path.
enum ResidencyPolicyFile {
    static func read(_ reader: JSONReader, catalog: RegionCatalog) -> ResidencyPolicy? {
        guard
            let object = reader.object(known: ["mandatory", "choices", "overrides", "no_permitted_region", "unlocated"])
        else { return nil }
        var ruleIDs = RuleIDs()
        let countries = catalog.countries

        let mandatory = object.required("mandatory")?.array()?.compactMap { element -> ResidencyPolicy.Mandatory? in
            guard let rule = element.object(known: ["rule", "countries", "region", "basis"]) else { return nil }
            let id = rule.required("rule").flatMap { ruleIDs.claim($0) }
            let members = rule.required("countries").flatMap { RegionFile.readCountries($0, countries: countries) }
            let region = rule.required("region").flatMap { $0.region(in: catalog) }
            let basis = rule.required("basis")?.text()
            guard let id, let members, let region, let basis else { return nil }
            return .init(rule: id, countries: members, region: region, basis: basis)
        }
        let choices = object.required("choices")?.array()?.compactMap { element -> ResidencyPolicy.Choice? in
            guard let rule = element.object(known: ["rule", "countries", "regions", "basis"]) else { return nil }
            let id = rule.required("rule").flatMap { ruleIDs.claim($0) }
            let members = rule.required("countries").flatMap { RegionFile.readCountries($0, countries: countries) }
            let regionsReader = rule.required("regions")
            let regions = regionsReader?.array()?.compactMap { $0.region(in: catalog) }
            if let regionsReader, let regions, regions.count < 2 || Set(regions).count != regions.count {
                regionsReader.problem("a choice lists at least two different regions; use \"mandatory\" for one")
            }
            let basis = rule.required("basis")?.text()
            guard let id, let members, let regions, let basis, regions.count >= 2 else { return nil }
            return .init(rule: id, countries: members, regions: regions, basis: basis)
        }
        let overrides = object.required("overrides")?.array()?.compactMap { element -> ResidencyPolicy.Override? in
            guard let rule = element.object(known: ["rule", "countries", "region", "reason"]) else { return nil }
            let id = rule.required("rule").flatMap { ruleIDs.claim($0) }
            let members = rule.required("countries").flatMap { RegionFile.readCountries($0, countries: countries) }
            let region = rule.required("region").flatMap { $0.region(in: catalog) }
            let reason = rule.required("reason")?.text()
            guard let id, let members, let region, let reason else { return nil }
            return .init(rule: id, countries: members, region: region, reason: reason)
        }
        let blocked = object.required("no_permitted_region")?.array()?.compactMap {
            element -> ResidencyPolicy.Blocked? in
            guard let rule = element.object(known: ["rule", "countries", "reason"]) else { return nil }
            let id = rule.required("rule").flatMap { ruleIDs.claim($0) }
            let members = rule.required("countries").flatMap { RegionFile.readCountries($0, countries: countries) }
            let reason = rule.required("reason")?.text()
            guard let id, let members, let reason else { return nil }
            return .init(rule: id, countries: members, reason: reason)
        }
        var unlocated: ResidencyPolicy.Unlocated?
        if let unlocatedReader = object.required("unlocated"),
            let fallback = unlocatedReader.object(known: ["action", "region", "reason"])
        {
            let action = fallback.required("action")?.oneOf(ResidencyPolicy.Unlocated.Action.self)
            let region = fallback.optional("region").flatMap { $0.region(in: catalog) }
            let reason = fallback.required("reason")?.text()
            if action == .region, !fallback.has("region") {
                unlocatedReader.note("missing required field \"region\" (needed when action is \"region\")")
            }
            if action == .refuse, let extra = fallback.optional("region") {
                extra.problem("a region is only accepted when action is \"region\"")
            }
            if let action, let reason, action == .refuse || region != nil {
                unlocated = .init(action: action, region: region, reason: reason)
            }
        }

        if let mandatory, let choices, let overrides, let blocked {
            checkOverlaps(
                reader: reader, mandatory: mandatory, choices: choices, overrides: overrides, blocked: blocked)
        }
        guard let mandatory, let choices, let overrides, let blocked, let unlocated else { return nil }
        return ResidencyPolicy(
            mandatory: mandatory, choices: choices, overrides: overrides, blocked: blocked, unlocated: unlocated)
    }

    /// A country may fall under one constraint at most, and an override may not send a country where its
    /// constraint forbids.
    static func checkOverlaps(
        reader: JSONReader, mandatory: [ResidencyPolicy.Mandatory], choices: [ResidencyPolicy.Choice],
        overrides: [ResidencyPolicy.Override], blocked: [ResidencyPolicy.Blocked]
    ) {
        var owner: [CountryCode: String] = [:]
        func claim(_ countries: Set<CountryCode>, by description: String, at path: String) {
            for country in countries.sorted() {
                if let first = owner[country] {
                    reader.collector.report(
                        file: reader.file, path: path,
                        "\"\(country)\" is claimed by \(first) and by \(description); a country may have one rule")
                } else {
                    owner[country] = description
                }
            }
        }
        for (index, rule) in mandatory.enumerated() {
            claim(
                rule.countries, by: "mandatory rule \"\(rule.rule)\" (region \(rule.region))",
                at: "$.mandatory[\(index)].countries")
        }
        for (index, rule) in choices.enumerated() {
            claim(rule.countries, by: "choice rule \"\(rule.rule)\"", at: "$.choices[\(index)].countries")
        }
        for (index, rule) in blocked.enumerated() {
            claim(
                rule.countries, by: "no_permitted_region rule \"\(rule.rule)\"",
                at: "$.no_permitted_region[\(index)].countries")
        }
        var overridden: [CountryCode: String] = [:]
        for (index, rule) in overrides.enumerated() {
            for country in rule.countries.sorted() {
                let path = "$.overrides[\(index)].countries"
                if let first = overridden[country] {
                    reader.collector.report(
                        file: reader.file, path: path,
                        "\"\(country)\" is overridden by \"\(first)\" and \"\(rule.rule)\"")
                }
                overridden[country] = rule.rule
                if let m = mandatory.first(where: { $0.countries.contains(country) }), m.region != rule.region {
                    reader.collector.report(
                        file: reader.file, path: path,
                        "\"\(country)\" must be hosted in \(m.region) (mandatory rule \"\(m.rule)\"); an override cannot send it to \(rule.region)"
                    )
                }
                if let c = choices.first(where: { $0.countries.contains(country) }), !c.regions.contains(rule.region) {
                    reader.collector.report(
                        file: reader.file, path: path,
                        "\"\(country)\" may only be hosted in \(c.regions.joined(separator: ", ")) (choice rule \"\(c.rule)\"); an override cannot send it to \(rule.region)"
                    )
                }
                if let b = blocked.first(where: { $0.countries.contains(country) }) {
                    reader.collector.report(
                        file: reader.file, path: path,
                        "\"\(country)\" has no permitted region (rule \"\(b.rule)\"); it cannot be overridden")
                }
            }
        }
    }
}

enum TransferPolicyFile {
    static let ruleFields = [
        "rule", "countries", "mechanism", "reference", "module", "contract", "tia", "law", "provision", "reason",
    ]

    /// The fields each mechanism needs and accepts besides `rule`, `countries` and `mechanism`.
    static let mechanismFields: [String: (required: [String], optional: [String])] = [
        "adequacy": (["reference"], []),
        "eu_scc": (["module", "contract"], ["tia"]),
        "uk_idta": (["contract"], ["tia"]),
        "uk_addendum": (["contract"], ["tia"]),
        "local_law": (["law", "provision"], ["tia"]),
        "forbidden": (["reason"], []),
    ]

    static func read(_ reader: JSONReader, catalog: RegionCatalog) -> TransferPolicy? {
        guard let object = reader.object(known: ["regions"]), let regionsReader = object.required("regions"),
            let regionsObject = regionsReader.object(known: catalog.declaredRegionIDs.sorted())
        else { return nil }
        var ruleIDs = RuleIDs()
        var result: [String: TransferPolicy.RegionRules] = [:]
        var valid = true
        for region in catalog.regions {
            guard let regionReader = regionsObject.optional(region.id) else {
                regionsReader.note(
                    "missing transfer rules for region \"\(region.id)\"; every region in the catalog needs an entry")
                valid = false
                continue
            }
            guard let rules = regionReader.object(known: ["destinations", "default"]) else {
                valid = false
                continue
            }
            var seen: [CountryCode: String] = [:]
            let destinations = rules.required("destinations")?.array()?.compactMap { element -> TransferPolicy.Rule? in
                guard let rule = readRule(element, catalog: catalog, ruleIDs: &ruleIDs, withCountries: true) else {
                    return nil
                }
                for country in rule.countries.sorted() {
                    if region.jurisdiction.contains(country) {
                        element.collector.report(
                            file: element.file, path: element.path + ".countries",
                            "\"\(country)\" is in the jurisdiction of region \(region.id); access from there is not a transfer and needs no rule"
                        )
                    }
                    if let first = seen[country] {
                        element.collector.report(
                            file: element.file, path: element.path + ".countries",
                            "\"\(country)\" already has rule \"\(first)\" for region \(region.id)")
                    }
                    seen[country] = rule.rule
                }
                return rule
            }
            let otherwise = rules.required("default").flatMap {
                readRule($0, catalog: catalog, ruleIDs: &ruleIDs, withCountries: false)
            }
            guard let destinations, let otherwise else {
                valid = false
                continue
            }
            result[region.id] = TransferPolicy.RegionRules(destinations: destinations, otherwise: otherwise)
        }
        return valid ? TransferPolicy(regions: result) : nil
    }

    static func readRule(
        _ reader: JSONReader, catalog: RegionCatalog, ruleIDs: inout RuleIDs, withCountries: Bool
    )
        -> TransferPolicy.Rule?
    {
        let known = withCountries ? ruleFields : ruleFields.filter { $0 != "countries" }
        guard let object = reader.object(known: known) else { return nil }
        let id = object.required("rule").flatMap { ruleIDs.claim($0) }
        let countries: Set<CountryCode>? =
            withCountries
            ? object.required("countries").flatMap { RegionFile.readCountries($0, countries: catalog.countries) } : []
        guard let mechanismReader = object.required("mechanism"), let name = mechanismReader.string() else {
            return nil
        }
        guard let fields = mechanismFields[name] else {
            mechanismReader.problem(
                "is not a transfer mechanism; accepted: \(mechanismFields.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", "))"
            )
            return nil
        }
        let allowed = Set(["rule", "countries", "mechanism"] + fields.required + fields.optional)
        for key in ruleFields where object.has(key) && !allowed.contains(key) {
            object.optional(key)?.problem(
                "is not used by mechanism \"\(name)\"; it takes \((fields.required + fields.optional).joined(separator: ", "))"
            )
        }
        func text(_ key: String) -> String? {
            fields.required.contains(key) ? object.required(key)?.text() : object.optional(key)?.text()
        }
        let mechanism: TransferMechanism?
        switch name {
        case "adequacy": mechanism = text("reference").map { .adequacy(reference: $0) }
        case "eu_scc":
            let module = object.required("module")?.integer(in: 1...4)
            let contract = text("contract")
            mechanism = module.flatMap { m in
                contract.map { .euSCC(module: Int(m), contract: $0, impactAssessment: text("tia")) }
            }
        case "uk_idta": mechanism = text("contract").map { .ukIDTA(contract: $0, impactAssessment: text("tia")) }
        case "uk_addendum":
            mechanism = text("contract").map { .ukAddendum(contract: $0, impactAssessment: text("tia")) }
        case "local_law":
            let law = text("law")
            let provision = text("provision")
            mechanism = law.flatMap { l in
                provision.map { .localLaw(law: l, provision: $0, impactAssessment: text("tia")) }
            }
        default: mechanism = text("reason").map { .forbidden(reason: $0) }
        }
        guard let id, let countries, let mechanism else { return nil }
        return TransferPolicy.Rule(rule: id, countries: countries, mechanism: mechanism)
    }
}

enum AccessPolicyFile {
    static func read(_ reader: JSONReader, catalog: RegionCatalog) -> AccessPolicy? {
        guard
            let object = reader.object(known: [
                "justifications", "support_offices", "pending_expiry_hours", "default_grant_hours", "max_grant_hours",
                "customer_approval_default", "break_glass",
            ])
        else { return nil }
        var codes = RuleIDs()
        let justifications = object.required("justifications")?.array()?.compactMap {
            element -> AccessPolicy.Justification? in
            guard
                let item = element.object(known: ["code", "name", "requires_reference", "auto_approve", "break_glass"])
            else { return nil }
            let code = item.required("code").flatMap { codes.claim($0) }
            let name = item.required("name")?.text()
            let reference = item.required("requires_reference")?.bool()
            let auto = item.required("auto_approve")?.bool()
            let breakGlass = item.required("break_glass")?.bool()
            guard let code, let name, let reference, let auto, let breakGlass else { return nil }
            return .init(
                code: code, name: name, requiresReference: reference, autoApprove: auto, allowsBreakGlass: breakGlass)
        }
        var officeIDs = RuleIDs()
        let offices = object.required("support_offices")?.array()?.compactMap {
            element -> AccessPolicy.SupportOffice? in
            guard let item = element.object(known: ["id", "entity", "country", "city"]) else { return nil }
            let id = item.required("id").flatMap { officeIDs.claim($0) }
            let entity = item.required("entity")?.text()
            let country = item.required("country")?.country(in: catalog.countries)
            let city = item.required("city")?.text()
            guard let id, let entity, let country, let city else { return nil }
            return .init(id: id, entity: entity, country: country, city: city)
        }
        let year: ClosedRange<Int64> = 1...8760
        let pending = object.required("pending_expiry_hours")?.integer(in: year)
        let defaultGrant = object.required("default_grant_hours")?.integer(in: year)
        let maximumReader = object.required("max_grant_hours")
        let maximum = maximumReader?.integer(in: year)
        let customerApproval = object.required("customer_approval_default")?.bool()
        var breakGlassMaximum: Int64?
        var breakGlassReview: Int64?
        if let breakGlass = object.required("break_glass")?.object(known: ["max_grant_hours", "review_within_hours"]) {
            breakGlassMaximum = breakGlass.required("max_grant_hours")?.integer(in: year)
            breakGlassReview = breakGlass.required("review_within_hours")?.integer(in: year)
        }
        if let defaultGrant, let maximum, defaultGrant > maximum {
            maximumReader?.problem("must be at least default_grant_hours (\(defaultGrant))")
        }
        if let justifications, justifications.isEmpty {
            object.optional("justifications")?.note("at least one justification type is needed")
        }
        guard let justifications, !justifications.isEmpty, let offices, let pending, let defaultGrant, let maximum,
            defaultGrant <= maximum, let customerApproval, let breakGlassMaximum, let breakGlassReview
        else { return nil }
        return AccessPolicy(
            justifications: justifications, supportOffices: offices, pendingExpiryHours: Int(pending),
            defaultGrantHours: Int(defaultGrant), maximumGrantHours: Int(maximum),
            customerApprovalByDefault: customerApproval, breakGlassMaximumGrantHours: Int(breakGlassMaximum),
            breakGlassReviewHours: Int(breakGlassReview))
    }
}

enum RetentionPolicyFile {
    static func read(_ reader: JSONReader) -> RetentionPolicy? {
        guard let object = reader.object(known: ["rules", "late_event_grace_days", "trial_days"]) else { return nil }
        var ids = RuleIDs()
        // Optional so that a schedule written before the grace existed still loads, with the default.
        let graceReader = object.optional("late_event_grace_days")
        let grace = graceReader?.integer(in: RetentionPolicy.lateEventGraceRange)
        // Optional too: 14 days when absent.
        let trialReader = object.optional("trial_days")
        let trialDays = trialReader?.integer(in: RetentionPolicy.trialDaysRange)
        let ruleReaders = object.required("rules")?.array()
        let rules = ruleReaders?.compactMap { element -> RetentionPolicy.Rule? in
            guard let item = element.object(known: ["rule", "plan", "clock", "after_days", "action", "description"])
            else { return nil }
            let id = item.required("rule").flatMap { ids.claim($0) }
            let plan = item.required("plan")?.oneOf(Plan.self)
            let clock = item.required("clock")?.oneOf(RetentionPolicy.Clock.self)
            let days = item.required("after_days")?.integer(in: 1...3650)
            let action = item.required("action")?.oneOf(RetentionPolicy.Action.self)
            let description = item.required("description")?.text()
            guard let id, let plan, let clock, let days, let action, let description else { return nil }
            return .init(
                rule: id, plan: plan, clock: clock, afterDays: Int(days), action: action, description: description)
        }
        guard let ruleReaders, let rules, graceReader == nil || grace != nil, trialReader == nil || trialDays != nil
        else { return nil }
        // Two rules with the same plan, clock and action would make the schedule ambiguous.
        var seen: [String: String] = [:]
        for (index, rule) in rules.enumerated() {
            let key = "\(rule.plan.rawValue)/\(rule.clock.rawValue)/\(rule.action.rawValue)"
            if let first = seen[key] {
                reader.collector.report(
                    file: reader.file, path: "$.rules[\(index)]",
                    "rule \"\(rule.rule)\" repeats plan, clock and action of rule \"\(first)\"")
            }
            seen[key] = rule.rule
        }
        guard rules.count == ruleReaders.count else { return nil }
        return RetentionPolicy(
            rules: rules, lateEventGraceDays: grace.map { Int($0) } ?? RetentionPolicy.defaultLateEventGraceDays,
            trialDays: trialDays.map { Int($0) } ?? RetentionPolicy.defaultTrialDays)
    }
}

/// Tracks rule ids within one file so a duplicate is reported where it occurs.
struct RuleIDs {
    private var seen = Set<String>()

    mutating func claim(_ reader: JSONReader) -> String? {
        guard let id = reader.identifier() else { return nil }
        guard seen.insert(id).inserted else {
            reader.problem("duplicate id; each must be unique in this file")
            return nil
        }
        return id
    }
}

extension JSONReader {
    /// The id of a region in the catalog.
    func region(in catalog: RegionCatalog) -> String? {
        guard let id = string() else { return nil }
        if catalog.declaredRegionIDs.contains(id) { return catalog.region(id: id) == nil ? nil : id }
        guard catalog.region(id: id) != nil else {
            problem("is not a region; accepted: \(catalog.regionIDs.map { "\"\($0)\"" }.joined(separator: ", "))")
            return nil
        }
        return id
    }
}
