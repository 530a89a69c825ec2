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
        appendJSON(to: &output, versionText: versionText, placer: placer)
    }

    /// `writeJSON` into a raw buffer (the server's answers: see `ByteWriter`).
    package func writeJSON(
        into output: inout ByteWriter, versionText: PolicyVersionText? = nil, placer: SignupPlacer? = nil
    ) {
        appendJSON(to: &output, versionText: versionText, placer: placer)
    }

    /// The members in the tree's order, each key written with the punctuation around it as one piece of fixed
    /// text (a key's quotes, colon and the comma before it were five appends).
    func appendJSON<Sink: JSONByteSink & ~Copyable>(
        to output: inout Sink, versionText: PolicyVersionText?, placer: SignupPlacer?
    ) {
        switch outcome {
        case .placed(let region, let site, let kilometres):
            output.literal(#"{"outcome":"placed","region":"#)
            output.quoted(region)
            output.literal(#","site":"#)
            output.quoted(site)
            output.literal(#","distance_km":"#)
            if let kilometres { output.decimal(kilometres) } else { output.literal("null") }
        case .refused(let refusal):
            output.literal(#"{"outcome":"refused","refusal":{"code":"#)
            output.quoted(refusal.code.rawValue)
            output.literal(#","rule":"#)
            output.optional(refusal.rule)
            output.literal(#","message":"#)
            output.quoted(refusal.message)
            output.append(UInt8(ascii: "}"))
        }
        output.literal(#","country":"#)
        output.optional(country?.rawValue)
        output.literal(#","declared_country":"#)
        output.optional(declaredCountry?.rawValue)
        output.literal(#","geolocated_country":"#)
        output.optional(geolocatedCountry?.rawValue)
        output.literal(#","reasons":["#)
        // By index: `for reason in` copied (retained) each reason.
        for index in reasons.indices {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            if let placer, placer.appendRenderedReason(reasons[index], country: country, to: &output) { continue }
            reasons[index].appendJSON(to: &output)
        }
        output.literal(#"],"policy_version":"#)
        if let versionText, versionText.version == policyVersion {
            output.appendBytes(versionText.quoted)
        } else {
            output.append(UInt8(ascii: "\""))
            // Straight from the digest's storage: `bytes` would allocate an array per answer.
            withUnsafeBytes(of: policyVersion.storage) { digest in
                let digits: StaticString = "0123456789abcdef"
                for byte in digest {
                    output.append(digits.utf8Start[Int(byte >> 4)])
                    output.append(digits.utf8Start[Int(byte & 0xF)])
                }
            }
            output.append(UInt8(ascii: "\""))
        }
        output.append(UInt8(ascii: "}"))
    }
}

extension JSONByteSink where Self: ~Copyable {
    /// A JSON string, or `null` for nil.
    fileprivate mutating func optional(_ text: String?) {
        if let text { quoted(text) } else { literal("null") }
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
