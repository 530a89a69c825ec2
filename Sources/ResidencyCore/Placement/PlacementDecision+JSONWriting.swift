extension PlacementDecision {
    /// The bytes of `jsonValue.encodedBytes()`, written without building the tree: `POST /v1/placements`
    /// answers tens of thousands of these a second, and the tree cost as much as the decision itself.
    /// (`PlacementDecisionEncodingTests` holds the two forms equal.)
    package func encodedJSON(capacity: Int = 640) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(capacity)
        writeJSON(into: &output)
        return output
    }

    /// `encodedJSON()`'s bytes appended to `output`. `versionText`, when it is this decision's policy version's,
    /// is copied in instead of writing the version's 64 hex digits again; the reasons `placer` rendered when it
    /// was built are copied in as it rendered them (only those equal to the decision's own: see `RenderedReasons`).
    package func writeJSON(
        into output: inout [UInt8], versionText: PolicyVersionText? = nil, placer: SignupPlacer? = nil
    ) {
        var object = JSONObjectWriter(appendingTo: &output)
        switch outcome {
        case .placed(let region, let site, let kilometres):
            object.string("outcome", "placed")
            object.string("region", region)
            object.string("site", site)
            object.integer("distance_km", kilometres)
        case .refused(let refusal):
            object.string("outcome", "refused")
            object.object("refusal") { nested in
                nested.string("code", refusal.code.rawValue)
                nested.string("rule", refusal.rule)
                nested.string("message", refusal.message)
            }
        }
        object.string("country", country?.rawValue)
        object.string("declared_country", declaredCountry?.rawValue)
        object.string("geolocated_country", geolocatedCountry?.rawValue)
        object.member("reasons") { output in
            output.append(UInt8(ascii: "["))
            for (index, reason) in reasons.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                if let placer, placer.appendRendered(reason, country: country, to: &output) { continue }
                reason.writeJSON(into: &output)
            }
            output.append(UInt8(ascii: "]"))
        }
        object.member("policy_version") { output in
            if let versionText, versionText.version == policyVersion {
                output.append(contentsOf: versionText.quoted)
                return
            }
            output.append(UInt8(ascii: "\""))
            // Straight from the digest's storage: `bytes` would allocate an array per answer.
            withUnsafeBytes(of: policyVersion.storage) { Hex.append($0, to: &output) }
            output.append(UInt8(ascii: "\""))
        }
        object.finish(into: &output)
    }
}

/// A policy version as the JSON string placement answers carry (`"` 64 hex digits `"`), made once when the policy
/// is loaded rather than for every answer (a twelfth of the answer's cost).
package struct PolicyVersionText: Sendable {
    package let version: SHA256Digest
    let quoted: [UInt8]

    package init(_ version: SHA256Digest) {
        self.version = version
        var quoted: [UInt8] = [UInt8(ascii: "\"")]
        withUnsafeBytes(of: version.storage) { Hex.append($0, to: &quoted) }
        quoted.append(UInt8(ascii: "\""))
        self.quoted = quoted
    }
}
