extension Tenant {
    /// The directory entry as the API shows it; `placement` is the decision recorded at signup.
    package func jsonValue(placement: JSONValue? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)),
            ("name", .string(name)),
            ("plan", .string(plan.rawValue)),
            ("country", .optional(country?.rawValue)),
            ("region", .string(region)),
            ("site", .string(site)),
            ("status", .string(status.rawValue)),
            ("created_at", .string(Timestamp.rfc3339(milliseconds: createdAt))),
            ("policy_version", .string(policyVersion)),
        ]
        if let placement { members.append(("placement", placement)) }
        return .object(members)
    }
}
