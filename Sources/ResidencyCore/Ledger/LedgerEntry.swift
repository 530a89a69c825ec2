/// One record of the ledger: canonical JSON (sorted keys, UTF-8, no insignificant whitespace, no
/// floating-point numbers) with index, time, kind, actor, tenant, region and a body. Identifiers only:
/// no names, addresses or other personal data.
package struct LedgerEntry: Sendable, Equatable {
    package let index: Int
    /// Milliseconds since the Unix epoch.
    package let time: Int64
    /// What happened, e.g. `tenant.created`, `token.revoked`, `policy.loaded`.
    package let kind: String
    /// Who did it: a token name, `system`, or `cli:<user>`.
    package let actor: String
    package let tenant: String?
    package let region: String?
    package let body: JSONValue

    package init(index: Int, time: Int64, kind: String, actor: String, tenant: String?, region: String?, body: JSONValue)
    {
        self.index = index
        self.time = time
        self.kind = kind
        self.actor = actor
        self.tenant = tenant
        self.region = region
        self.body = body
    }

    /// The members in key order, the canonical order, so encoding writes them without sorting a copy.
    package var jsonValue: JSONValue {
        .object([
            ("actor", .string(actor)), ("body", body), ("index", .integer(index)), ("kind", .string(kind)),
            ("region", .optional(region)), ("tenant", .optional(tenant)), ("time", .integer(time)),
        ])
    }

    /// The bytes that are stored and hashed.
    package func canonicalBytes() throws(JSONEncodingError) -> [UInt8] { try jsonValue.canonicalBytes() }
}
