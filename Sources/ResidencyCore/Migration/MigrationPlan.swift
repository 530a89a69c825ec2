/// A bulk move worked out in advance: which tenants of a region would move to another and, for the rest,
/// why not. Saved as JSON, reviewed, then run; each tenant is checked against the policy again when its
/// migration is filed, so a stale plan cannot move anyone policy no longer allows.
package struct MigrationPlan: Sendable {
    package struct Entry: Sendable, Hashable {
        package let tenant: String
        package let country: CountryCode?
        package let movable: Bool
        /// For an entry that will not move: the refusal's code, rule and message.
        package let code: String?
        package let rule: String?
        package let message: String?
        /// The basis the move would rest on.
        package let transfer: String?

        package init(
            tenant: String, country: CountryCode?, movable: Bool, code: String?, rule: String?, message: String?,
            transfer: String?
        ) {
            self.tenant = tenant
            self.country = country
            self.movable = movable
            self.code = code
            self.rule = rule
            self.message = message
            self.transfer = transfer
        }
    }

    package let id: String
    package let from: String
    package let to: String
    package let toSite: String?
    package let country: CountryCode?
    package let createdAt: Int64
    package let policyVersion: String
    package let entries: [Entry]

    package init(
        id: String, from: String, to: String, toSite: String?, country: CountryCode?, createdAt: Int64,
        policyVersion: String, entries: [Entry]
    ) {
        self.id = id
        self.from = from
        self.to = to
        self.toSite = toSite
        self.country = country
        self.createdAt = createdAt
        self.policyVersion = policyVersion
        self.entries = entries
    }

    package var movable: [Entry] { entries.filter(\.movable) }

    package var jsonValue: JSONValue {
        .object([
            ("plan", .string(id)), ("from", .string(from)), ("to", .string(to)), ("to_site", .optional(toSite)),
            ("country", .optional(country?.rawValue)),
            ("created_at", .string(Timestamp.rfc3339(milliseconds: createdAt))),
            ("policy_version", .string(policyVersion)),
            (
                "summary",
                .object([("movable", .integer(movable.count)), ("staying", .integer(entries.count - movable.count))])
            ),
            (
                "tenants",
                .array(
                    entries.map { entry in
                        .object([
                            ("tenant", .string(entry.tenant)), ("country", .optional(entry.country?.rawValue)),
                            ("movable", .bool(entry.movable)), ("code", .optional(entry.code)),
                            ("rule", .optional(entry.rule)), ("message", .optional(entry.message)),
                            ("transfer_basis", .optional(entry.transfer)),
                        ])
                    })
            ),
        ])
    }

    /// Reads a saved plan, reporting what is wrong with its file.
    package static func read(_ value: JSONValue, file: String) throws(ConfigurationError) -> MigrationPlan {
        let collector = ProblemCollector()
        let reader = JSONReader(value: value, file: file, collector: collector)
        /// Optional members are written as null when absent.
        func present(_ object: JSONObjectReader, _ key: String) -> JSONReader? {
            guard let member = object.optional(key), member.value != .null else { return nil }
            return member
        }
        var plan: MigrationPlan?
        if let object = reader.object(known: [
            "plan", "from", "to", "to_site", "country", "created_at", "policy_version", "summary", "tenants",
        ]) {
            let id = object.required("plan")?.string()
            let from = object.required("from")?.string()
            let to = object.required("to")?.string()
            let toSite = present(object, "to_site")?.string()
            let country = present(object, "country")?.string().flatMap(CountryCode.init)
            let created = object.required("created_at")?.string().flatMap(Timestamp.milliseconds(rfc3339:))
            let version = object.required("policy_version")?.string()
            var entries: [Entry] = []
            for element in object.required("tenants")?.array() ?? [] {
                guard
                    let fields = element.object(known: [
                        "tenant", "country", "movable", "code", "rule", "message", "transfer_basis",
                    ]), let tenant = fields.required("tenant")?.string(),
                    let movable = fields.required("movable")?.bool()
                else { continue }
                entries.append(
                    Entry(
                        tenant: tenant, country: present(fields, "country")?.string().flatMap(CountryCode.init),
                        movable: movable, code: present(fields, "code")?.string(),
                        rule: present(fields, "rule")?.string(), message: present(fields, "message")?.string(),
                        transfer: present(fields, "transfer_basis")?.string()))
            }
            if let id, let from, let to, let created, let version {
                plan = MigrationPlan(
                    id: id, from: from, to: to, toSite: toSite, country: country, createdAt: created,
                    policyVersion: version, entries: entries)
            }
        }
        try collector.throwIfAny()
        guard let plan else {
            throw ConfigurationError(problems: [
                ConfigurationProblem(file: file, path: "$", message: "not a migration plan")
            ])
        }
        return plan
    }
}
