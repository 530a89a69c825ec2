import ResidencyCore

/// A signup, or a placement question, as a front end receives it: text. Every front end — the API
/// (`POST /v1/tenants`, `POST /v1/placements`), `residency tenants create` and `residency place` — parses and
/// checks it here, so the same bad input gets the same message everywhere; each front end only says where the
/// field was (`$.country` in a body, `--country` on a command line).
///
/// A signup names its plan: the API has always required it, and the command line requires it too, since a
/// silent default would decide billing and whether a trial clock starts. A placement question may leave any
/// field out.
package struct SignupInput: Sendable, Hashable {
    /// The fields, named as the API's body and the command line's options spell them. A front end reads every
    /// case (the API's body, the command line's options), so a new field is added here and nowhere above.
    package enum Field: String, Sendable, Hashable, CaseIterable {
        case ip, country, region, plan, name

        /// What the field is, for help texts.
        package var meaning: String {
            switch self {
            case .ip: "The signup's IP address (geolocated when no country is declared)."
            case .country: "The declared country."
            case .region: "A requested region."
            case .plan: "The plan."
            case .name: "The customer's name."
            }
        }

        /// What is accepted, for help texts and messages.
        package var accepted: String {
            switch self {
            case .ip: "an IPv4 or IPv6 address"
            case .country: "an ISO 3166-1 alpha-2 code, two upper-case letters such as \"DE\", \"GB\", \"US\""
            case .region: "a region id"
            case .plan: Plan.allCases.map(\.rawValue).joined(separator: ", ")
            case .name: "the customer's name"
            }
        }

        /// Whether a signup must give it (a placement question may leave out anything).
        package var isRequiredForSignup: Bool {
            switch self {
            case .plan, .name: true
            case .ip, .country, .region: false
            }
        }

        /// Whether a placement question reads it (a signup reads every field).
        package var isPlacementField: Bool {
            switch self {
            case .ip, .country, .region, .plan: true
            case .name: false
            }
        }
    }

    /// The fields of a placement question, in the order the API lists them.
    package static let placementFields = Field.allCases.filter(\.isPlacementField)

    package var name: String?
    package var plan: String?
    package var country: String?
    package var ip: String?
    package var region: String?

    package init(
        name: String? = nil, plan: String? = nil, country: String? = nil, ip: String? = nil, region: String? = nil
    ) {
        self.name = name
        self.plan = plan
        self.country = country
        self.ip = ip
        self.region = region
    }

    package subscript(field: Field) -> String? {
        get {
            switch field {
            case .name: name
            case .plan: plan
            case .country: country
            case .ip: ip
            case .region: region
            }
        }
        set {
            switch field {
            case .name: name = newValue
            case .plan: plan = newValue
            case .country: country = newValue
            case .ip: ip = newValue
            case .region: region = newValue
            }
        }
    }

    /// One thing wrong with one field: a required field left out, or a value that is not accepted — the value,
    /// what is wrong with it and what is accepted.
    package struct Problem: Error, Sendable, Hashable, CustomStringConvertible {
        package let field: Field
        /// True when the field is required and was not given.
        package let isMissing: Bool
        /// `"XX": is not an ISO 3166-1 alpha-2 country code; accepted: …` (what a front end prints after the
        /// field's name).
        package let message: String

        package var description: String { "\(field.rawValue): \(message)" }
    }

    /// Everything wrong with an input, in field order.
    package struct Problems: Error, Sendable, Hashable, CustomStringConvertible {
        package let problems: [Problem]
        package var description: String { problems.map(\.description).joined(separator: "; ") }
    }

    /// The placement question: every field optional; `name` is not read.
    package func placementRequest(in catalog: RegionCatalog) throws(Problems) -> PlacementRequest {
        var problems: [Problem] = []
        let request = placementRequest(in: catalog, problems: &problems)
        if !problems.isEmpty { throw Problems(problems: problems) }
        return request
    }

    /// The signup: `name` and `plan` required, the rest as for a placement question.
    package func signup(in catalog: RegionCatalog) throws(Problems) -> Signup {
        var problems = Field.allCases.filter { $0.isRequiredForSignup && self[$0] == nil }.map(Self.missing)
        var checkedName: String?
        if let name {
            if name.contains(where: { !$0.isWhitespace }) {
                checkedName = name
            } else {
                problems.append(
                    Problem(field: .name, isMissing: false, message: "\(Self.quoted(name)): must not be empty"))
            }
        }
        let request = placementRequest(in: catalog, problems: &problems)
        guard problems.isEmpty, let checkedName, let plan = request.plan else { throw Problems(problems: problems) }
        return Signup(
            name: checkedName, plan: plan, declaredCountry: request.declaredCountry, ip: request.ip,
            requestedRegion: request.requestedRegion)
    }

    private func placementRequest(in catalog: RegionCatalog, problems: inout [Problem]) -> PlacementRequest {
        var request = PlacementRequest()
        func take<Value>(_ result: Result<Value, Problem>?, _ assign: (Value) -> Void) {
            switch result {
            case .success(let value)?: assign(value)
            case .failure(let problem)?: problems.append(problem)
            case nil: break
            }
        }
        take(plan.map(Self.plan)) { request.plan = $0 }
        take(country.map { Self.country($0, in: catalog) }) { request.declaredCountry = $0 }
        take(ip.map(Self.ip)) { request.ip = $0 }
        take(region.map { Self.region($0, in: catalog) }) { request.requestedRegion = $0 }
        problems.sort { Field.allCases.firstIndex(of: $0.field)! < Field.allCases.firstIndex(of: $1.field)! }
        return request
    }

    // One parser per field, also used on their own by the API's fast path for placement questions.

    package static func plan(_ text: String) -> Result<Plan, Problem> {
        guard let plan = Plan(rawValue: text) else {
            let accepted = Plan.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(
                Problem(
                    field: .plan, isMissing: false, message: "\(quoted(text)): is not a plan; accepted: \(accepted)"))
        }
        return .success(plan)
    }

    /// Two upper-case letters naming a country of the catalog's country table (any two letters when the
    /// catalog has no table).
    package static func country(_ text: String, in catalog: RegionCatalog) -> Result<CountryCode, Problem> {
        guard let code = CountryCode(text), code.rawValue == text,
            !catalog.countries.isUsable || catalog.countries.contains(code)
        else {
            return .failure(
                Problem(
                    field: .country, isMissing: false,
                    message:
                        "\(quoted(text)): is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as \"DE\", \"GB\", \"US\""
                ))
        }
        return .success(code)
    }

    package static func ip(_ text: String) -> Result<IPAddress, Problem> {
        switch IPAddress.parse(text) {
        case .success(let address): return .success(address)
        // The parser's message quotes the address and says what is wrong with it.
        case .failure(let error): return .failure(Problem(field: .ip, isMissing: false, message: "\(error)"))
        }
    }

    package static func region(_ text: String, in catalog: RegionCatalog) -> Result<String, Problem> {
        guard catalog.region(id: text) != nil else {
            return .failure(
                Problem(
                    field: .region, isMissing: false,
                    message: "\(quoted(text)): is not a region; accepted: \(catalog.regionIDs.joined(separator: ", "))")
            )
        }
        return .success(text)
    }

    static func missing(_ field: Field) -> Problem {
        Problem(field: field, isMissing: true, message: "is required; accepted: \(field.accepted)")
    }

    /// The value as a JSON string literal, as the API's reader quotes values.
    static func quoted(_ text: String) -> String { JSONValue.string(text).encoded() }
}
