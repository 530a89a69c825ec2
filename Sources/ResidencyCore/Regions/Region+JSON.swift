extension Region {
    /// The region as the API and the CLI show it, in the same field names as its file.
    package func jsonValue(tenantCount: Int? = nil) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)),
            ("name", .string(name)),
            ("jurisdiction", .array(jurisdiction.sorted().map { .string($0.rawValue) })),
            ("status", .string(status.rawValue)),
            ("accepts_signups", .bool(acceptsSignups)),
            ("capacity", .integer(capacity)),
        ]
        if let tenantCount { members.append(("tenants", .integer(tenantCount))) }
        members.append(("sites", .array(sites.map { $0.jsonValue })))
        return .object(members)
    }
}

extension Site {
    package var jsonValue: JSONValue {
        .object([
            ("id", .string(id)),
            ("country", .string(country.rawValue)),
            ("city", .string(city)),
            ("latitude", .double(location.latitude)),
            ("longitude", .double(location.longitude)),
            ("provider", .string(provider.rawValue)),
        ])
    }
}
