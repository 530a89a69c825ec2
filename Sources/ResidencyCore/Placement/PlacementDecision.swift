/// The answer to "where does this new customer go?", with every step that led to it.
package struct PlacementDecision: Sendable, Hashable {
    package enum Outcome: Sendable, Hashable {
        case placed(region: String, site: String, kilometres: Int?)
        case refused(PlacementRefusal)
    }

    package let outcome: Outcome
    /// The country the decision used: declared when given, else geolocated.
    package let country: CountryCode?
    package let declaredCountry: CountryCode?
    package let geolocatedCountry: CountryCode?
    package let reasons: [PlacementReason]
    package let policyVersion: SHA256Digest

    package var region: String? {
        if case .placed(let region, _, _) = outcome { return region }
        return nil
    }

    package var site: String? {
        if case .placed(_, let site, _) = outcome { return site }
        return nil
    }

    package var refusal: PlacementRefusal? {
        if case .refused(let refusal) = outcome { return refusal }
        return nil
    }
}

/// Why a signup cannot be placed, with the rule that forbids it.
package struct PlacementRefusal: Sendable, Hashable, CustomStringConvertible {
    package enum Code: String, Sendable, Hashable {
        /// Policy hosts nobody from the customer's country.
        case noPermittedRegion = "no_permitted_region"
        /// The requested region is not one policy permits for the customer's country.
        case regionNotPermitted = "region_not_permitted"
        /// The requested region is permitted but draining, closed, closed to signups or full.
        case regionUnavailable = "region_unavailable"
        /// No such region in the catalog.
        case unknownRegion = "unknown_region"
        /// Every permitted region is unavailable.
        case noRegionAvailable = "no_region_available"
        /// Nothing locates the customer and policy refuses to guess.
        case unlocated
    }

    package let code: Code
    /// The policy rule that forbids it, when one does.
    package let rule: String?
    package let message: String

    package var description: String { message }
}

extension PlacementDecision {
    /// The decision as the API, the CLI and the ledger show it.
    package var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = []
        switch outcome {
        case .placed(let region, let site, let kilometres):
            members.append(("outcome", .string("placed")))
            members.append(("region", .string(region)))
            members.append(("site", .string(site)))
            members.append(("distance_km", kilometres.map { .integer($0) } ?? .null))
        case .refused(let refusal):
            members.append(("outcome", .string("refused")))
            members.append(
                (
                    "refusal",
                    .object([
                        ("code", .string(refusal.code.rawValue)), ("rule", .optional(refusal.rule)),
                        ("message", .string(refusal.message)),
                    ])
                ))
        }
        members.append(("country", .optional(country?.rawValue)))
        members.append(("declared_country", .optional(declaredCountry?.rawValue)))
        members.append(("geolocated_country", .optional(geolocatedCountry?.rawValue)))
        members.append(
            (
                "reasons",
                .array(reasons.map { .object([("code", .string($0.code)), ("message", .string($0.message))]) })
            ))
        members.append(("policy_version", .string(policyVersion.hex)))
        return .object(members)
    }
}
