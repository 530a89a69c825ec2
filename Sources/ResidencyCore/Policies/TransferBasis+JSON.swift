extension TransferBasis {
    /// The basis as records show it: the region, the destination, the rule and the mechanism's own fields.
    package var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("region", .string(region)), ("destination", .string(destination.rawValue)), ("rule", .string(rule)),
        ]
        if case .object(let mechanismMembers) = mechanism.jsonValue { members += mechanismMembers }
        return .object(members)
    }

    package init?(json: JSONValue) {
        guard case .string(let region) = json["region"], case .string(let destination) = json["destination"],
            let country = CountryCode(destination), case .string(let rule) = json["rule"],
            let mechanism = TransferMechanism(json: json)
        else { return nil }
        self.init(region: region, destination: country, mechanism: mechanism, rule: rule)
    }
}
