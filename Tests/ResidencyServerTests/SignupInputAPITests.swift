import ResidencyController
import ResidencyCore
import Testing

@testable import ResidencyServer

/// One bad signup field and what every front end says about it after the field's name. The same table is in
/// `ResidencyCLITests/SignupInputCLITests.swift`: the API and the command line give the same message.
let badSignupFields: [(field: String, value: String, message: String)] = [
    ("plan", "gold", #""gold": is not a plan; accepted: trial, free, paid"#),
    (
        "country", "XX",
        #""XX": is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as "DE", "GB", "US""#
    ),
    (
        "country", "de",
        #""de": is not an ISO 3166-1 alpha-2 country code; accepted: two upper-case letters such as "DE", "GB", "US""#
    ),
    ("region", "atlantis", #""atlantis": is not a region; accepted: africa, "#),
    ("ip", "1.2.3.256", #"invalid IP address "1.2.3.256""#),
]

@Suite struct SignupInputAPITests {
    let api: APIHarness
    init() throws { api = try APIHarness() }

    func message(_ response: (status: Int, json: JSONValue?, response: HTTPResponse)) -> String {
        guard case .string(let text)? = response.json?["error"]?["message"] else { return "" }
        return text
    }

    @Test(arguments: badSignupFields)
    func signupAndPlacementSayTheSame(field: String, value: String, message expected: String) {
        let body =
            field == "plan"
            ? #"{"name": "A", "plan": "\#(value)"}"# : #"{"name": "A", "plan": "free", "\#(field)": "\#(value)"}"#
        let signup = api.send("POST", "/v1/tenants", role: .signup, body: body)
        #expect(signup.status == 400)
        #expect(signup.json?["error"]?["code"] == .string("invalid_field"))
        #expect(message(signup).hasPrefix("$.\(field): \(expected)"), "\(message(signup))")
        let placement = api.send("POST", "/v1/placements", role: .signup, body: #"{"\#(field)": "\#(value)"}"#)
        #expect(placement.status == 400)
        #expect(message(placement).hasPrefix("$.\(field): \(expected)"), "\(message(placement))")
    }

    @Test func aMissingPlanOrNameSaysWhatIsAccepted() {
        let noPlan = api.send("POST", "/v1/tenants", role: .signup, body: #"{"name": "A"}"#)
        #expect(message(noPlan) == "$.plan: is required; accepted: trial, free, paid")
        let noName = api.send("POST", "/v1/tenants", role: .signup, body: #"{"plan": "free"}"#)
        #expect(message(noName) == "$.name: is required; accepted: the customer's name")
        let blank = api.send("POST", "/v1/tenants", role: .signup, body: #"{"name": "  ", "plan": "free"}"#)
        #expect(message(blank) == #"$.name: "  ": must not be empty"#)
        // A field of the wrong type is the body reader's problem, reported once.
        let number = api.send("POST", "/v1/tenants", role: .signup, body: #"{"name": "A", "plan": 3}"#)
        #expect(message(number) == "$.plan: 3: expected a string, found an integer")
    }

    @Test func theInputTypeGivesTheMessageTheAPIAnswers() throws {
        let catalog = api.controller.policies.catalog
        for (field, value, expected) in badSignupFields {
            var input = SignupInput(name: "A", plan: "free")
            input[try #require(SignupInput.Field(rawValue: field))] = value
            #expect(throws: SignupInput.Problems.self) { try input.signup(in: catalog) }
            do {
                _ = try input.signup(in: catalog)
            } catch {
                #expect(error.problems.count == 1)
                #expect(error.problems.first?.message.hasPrefix(expected) == true)
            }
        }
    }
}
