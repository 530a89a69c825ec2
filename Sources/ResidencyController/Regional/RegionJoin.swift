import Foundation
import ResidencyCore
import ResidencyTLS

/// A regional service's first call: it presents the join code's proof for its own key to the controller that
/// printed the code, and keeps the controller's key from the code itself — pinned before any byte was exchanged.
package enum RegionJoin {
    /// Joins `region` at `controllerURL` with `code`, for the service holding `identity`. Every failure says what
    /// went wrong and what to do; nothing is written unless the controller accepted the join.
    package static func join(
        region: String, site: String?, controllerURL: String, code: JoinCode, identity: TLSIdentity,
        witnessKey: String?, in directory: URL, clock: Clock = .system
    ) throws -> RegionNodeConfiguration {
        guard let controllerPin = TLSIdentity.pin(ofEd25519: code.controllerKey) else {
            throw RegionEnrolmentError("the join code carries no usable controller key")
        }
        let client: PeerHTTPClient
        do {
            // The controller's API: plain HTTP on loopback or HTTPS with a certificate (no client certificate);
            // the proof, not the channel, authenticates this call.
            guard let parts = PeerHTTPClient.parse(controllerURL), !parts.secure else {
                throw RegionEnrolmentError(
                    "--controller \(controllerURL): accepted: http://HOST:PORT (the controller's API address)")
            }
            client = try PeerHTTPClient(endpoint: controllerURL, context: nil, timeout: 10)
        }
        let body = JSONValue.object([
            ("pin", .string(identity.pin)),
            ("proof", .string(Data(code.proof(region: region, pin: identity.pin)).base64EncodedString())),
            ("witness_key", .optional(witnessKey)),
        ]).encodedBytes()
        let response: PeerHTTPClient.Response
        do {
            response = try client.send("POST", "/v1/regions/\(region)/join", body: body)
        } catch {
            throw RegionEnrolmentError("the controller at \(controllerURL) does not answer: \(error); check --controller")
        }
        let answer = try? JSONParser.parse(response.body)
        guard response.status == 200 else {
            var message = "HTTP \(response.status)"
            if case .string(let text)? = answer?["error"]?["message"] { message = text }
            throw RegionEnrolmentError("the controller refused the join: \(message)")
        }
        guard case .string(let key)? = answer?["controller_key"], Data(base64Encoded: key).map(Array.init) == code.controllerKey,
            case .string(let assignedSite)? = answer?["site"]
        else {
            throw RegionEnrolmentError(
                "the service at \(controllerURL) is not the controller that printed this join code (its key differs); nothing was saved"
            )
        }
        if let site, site != assignedSite {
            throw RegionEnrolmentError("--site \(site): the controller enrolled this service for site \(assignedSite)")
        }
        _ = controllerPin
        var ledgerKey: String?
        if case .string(let key)? = answer?["ledger_key"] { ledgerKey = key }
        let configuration = RegionNodeConfiguration(
            region: region, site: assignedSite, controllerURL: controllerURL, controllerKey: code.controllerKey,
            enrolledAt: clock.now(), ledgerKey: ledgerKey)
        try configuration.save(in: directory)
        return configuration
    }
}
