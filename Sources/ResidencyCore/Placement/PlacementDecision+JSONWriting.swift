extension PlacementDecision {
    /// The bytes of `jsonValue.encodedBytes()`, written without building the tree: `POST /v1/placements`
    /// answers tens of thousands of these a second, and the tree cost as much as the decision itself.
    /// (`PlacementDecisionEncodingTests` holds the two forms equal.)
    package func encodedJSON(capacity: Int = 640) -> [UInt8] {
        var object = JSONObjectWriter(capacity: capacity)
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
        object.objects("reasons", reasons) { nested, reason in
            nested.string("code", reason.code)
            nested.string("message", reason.message)
        }
        object.member("policy_version") { output in
            output.append(UInt8(ascii: "\""))
            Hex.append(policyVersion.bytes, to: &output)
            output.append(UInt8(ascii: "\""))
        }
        return object.finish()
    }
}
