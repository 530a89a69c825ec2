import Foundation

/// What `residency regions enroll` prints and a regional service presents once: a one-time secret and the
/// controller's public key, as one copyable string (`rj1-` and base64url of 48 bytes).
///
/// The key lets the regional service pin the controller before it has ever talked to it; the secret proves to
/// the controller that the key presented with it belongs to the region the operator enrolled. The secret never
/// crosses the network: the service sends an HMAC of its own key under it (`proof`), so a code seen by an
/// observer of that one call cannot enrol another key.
package struct JoinCode: Sendable, Equatable {
    package static let prefix = "rj1-"
    package let secret: [UInt8]
    package let controllerKey: [UInt8]

    package init(secret: [UInt8], controllerKey: [UInt8]) {
        self.secret = secret
        self.controllerKey = controllerKey
    }

    /// A fresh code for the controller holding `controllerKey`.
    package static func generate(controllerKey: [UInt8]) -> JoinCode {
        JoinCode(secret: SecureRandom.bytes(16), controllerKey: controllerKey)
    }

    package var text: String {
        Self.prefix
            + Data(secret + controllerKey).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    package init(parsing text: String) throws(RegionEnrolmentError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.hasPrefix(Self.prefix) else {
            throw RegionEnrolmentError("the join code does not start with \(Self.prefix); accepted: the code `residency regions enroll` printed")
        }
        var base64 = String(trimmed.dropFirst(Self.prefix.count))
            .replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        guard let bytes = Data(base64Encoded: base64), bytes.count == 48 else {
            throw RegionEnrolmentError("the join code is damaged (\(trimmed.count) characters); accepted: the 68-character code `residency regions enroll` printed, copied whole")
        }
        secret = Array(bytes.prefix(16))
        controllerKey = Array(bytes.suffix(32))
    }

    /// The HMAC a regional service sends to join: over the region and the pin of the key it will use.
    package func proof(region: String, pin: String) -> [UInt8] {
        HMACSHA256.authenticationCode(key: secret, message: Array("residency-join-v1\n\(region)\n\(pin)".utf8))
    }
}

/// A refused enrolment, join or assignment: what was wrong and what is accepted.
package struct RegionEnrolmentError: Error, Sendable, CustomStringConvertible {
    package let description: String
    package init(_ description: String) { self.description = description }
}
