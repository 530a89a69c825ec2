import Foundation
import Testing

@testable import ResidencyCore

/// Signed assignments and join codes: what a regional service accepts is exactly what the controller signed,
/// and a code damaged in copying is refused with what is accepted.
@Suite struct TenantAssignmentTests {
    static let assignment = TenantAssignment(
        tenant: "tn_0193a2b4c5d6e7f8091a2b", region: "eu", site: "eu-ie-dublin", endpoint: "https://10.0.0.1:9101",
        status: .active, epoch: 3, policyVersion: "abc", issuedAt: 1_800_000_000_000)

    static func signed(_ assignment: TenantAssignment, with key: Ed25519PrivateKey) throws -> SignedAssignment {
        SignedAssignment(assignment: assignment, signature: try key.signature(for: assignment.signedMessage))
    }

    @Test func aSignedAssignmentRoundTripsAndVerifiesOnlyUnderItsKey() throws {
        let key = try Ed25519PrivateKey.generate()
        let other = try Ed25519PrivateKey.generate()
        let signed = try Self.signed(Self.assignment, with: key)
        let parsed = try SignedAssignment(parsing: signed.jsonValue.encodedBytes())
        #expect(parsed == signed)
        #expect(parsed.isSigned(by: key.publicKey))
        #expect(!parsed.isSigned(by: other.publicKey))
    }

    @Test(arguments: ["region", "epoch", "status", "endpoint", "tenant"])
    func anAlteredFieldBreaksTheSignature(field: String) throws {
        let key = try Ed25519PrivateKey.generate()
        let signed = try Self.signed(Self.assignment, with: key)
        var text = signed.jsonValue.encoded()
        switch field {
        case "region": text = text.replacingOccurrences(of: "\"region\":\"eu\"", with: "\"region\":\"us\"")
        case "epoch": text = text.replacingOccurrences(of: "\"epoch\":3", with: "\"epoch\":4")
        case "status": text = text.replacingOccurrences(of: "\"active\"", with: "\"suspended\"")
        case "endpoint": text = text.replacingOccurrences(of: "10.0.0.1", with: "10.6.6.6")
        default: text = text.replacingOccurrences(of: "tn_0193a2b4c5d6e7f8091a2b", with: "tn_0193a2b4c5d6e7f8091a2c")
        }
        #expect(text != signed.jsonValue.encoded())
        let parsed = try SignedAssignment(parsing: Array(text.utf8))
        #expect(!parsed.isSigned(by: key.publicKey))
    }

    @Test(arguments: [
        "not json", "[]", "{\"assignment\":{},\"signature\":\"\"}",
        "{\"assignment\":{\"tenant\":\"x\"},\"signature\":\"AAAA\",\"extra\":1}",
    ])
    func malformedAssignmentsAreRefusedWithWhatIsAccepted(text: String) {
        #expect(throws: RegionEnrolmentError.self) { _ = try SignedAssignment(parsing: Array(text.utf8)) }
    }

    @Test func fieldsAreCheckedOneByOne() throws {
        let key = try Ed25519PrivateKey.generate()
        let signature = Data(try key.signature(for: [1])).base64EncodedString()
        func attempt(_ replace: (String, JSONValue)) -> String {
            var members: [(key: String, value: JSONValue)] = []
            guard case .object(let fields) = Self.assignment.jsonValue else { return "" }
            for member in fields { members.append(member.key == replace.0 ? (member.key, replace.1) : member) }
            let value = JSONValue.object([("assignment", .object(members)), ("signature", .string(signature))])
            do {
                _ = try SignedAssignment(parsing: value.encodedBytes())
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(attempt(("tenant", .string("../../etc"))).contains("not a tenant id"))
        #expect(attempt(("epoch", .integer(0))).contains("at least 1"))
        #expect(attempt(("status", .string("gone"))).contains("accepted: active"))
        #expect(attempt(("region", .string("EU/x"))).contains("not a region id"))
        #expect(attempt(("issued_at", .string("yesterday"))).contains("RFC 3339"))
        #expect(attempt(("site", .string(""))).contains("non-empty"))
    }

    @Test func joinCodesRoundTripAndRefuseDamage() throws {
        let key = try Ed25519PrivateKey.generate().publicKey.rawValue
        let code = JoinCode.generate(controllerKey: key)
        #expect(code.text.hasPrefix("rj1-") && code.text.count == 68)
        #expect(try JoinCode(parsing: "  " + code.text + "\n") == code)
        #expect(throws: RegionEnrolmentError.self) { _ = try JoinCode(parsing: String(code.text.dropLast(3))) }
        #expect(throws: RegionEnrolmentError.self) { _ = try JoinCode(parsing: "rj2-" + code.text.dropFirst(4)) }
        #expect(throws: RegionEnrolmentError.self) { _ = try JoinCode(parsing: "") }
        // The proof binds the region and the key pin.
        let proof = code.proof(region: "eu", pin: "pin-a")
        #expect(proof.count == 32)
        #expect(proof == code.proof(region: "eu", pin: "pin-a"))
        #expect(proof != code.proof(region: "us", pin: "pin-a"))
        #expect(proof != code.proof(region: "eu", pin: "pin-b"))
        #expect(proof != JoinCode.generate(controllerKey: key).proof(region: "eu", pin: "pin-a"))
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let code = HMACSHA256.authenticationCode(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))
        #expect(Hex.encode(code) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        #expect(HMACSHA256.constantTimeEqual([1, 2], [1, 2]) && !HMACSHA256.constantTimeEqual([1, 2], [1, 3]))
        #expect(!HMACSHA256.constantTimeEqual([1], [1, 2]))
    }
}
