/// One record of the ledger: canonical JSON (sorted keys, UTF-8, no insignificant whitespace, no
/// floating-point numbers) with index, time, kind, actor, tenant, region and a body. Identifiers only:
/// no names, addresses or other personal data.
public struct LedgerEntry: Sendable, Equatable {
    public let index: Int
    /// Milliseconds since the Unix epoch.
    public let time: Int64
    /// What happened, e.g. `tenant.created`, `token.revoked`, `policy.loaded`.
    public let kind: String
    /// Who did it: a token name, `system`, or `cli:<user>`.
    public let actor: String
    public let tenant: String?
    public let region: String?
    public let body: JSONValue

    public init(index: Int, time: Int64, kind: String, actor: String, tenant: String?, region: String?, body: JSONValue)
    {
        self.index = index
        self.time = time
        self.kind = kind
        self.actor = actor
        self.tenant = tenant
        self.region = region
        self.body = body
    }

    public var jsonValue: JSONValue {
        .object([
            ("index", .integer(index)), ("time", .integer(time)), ("kind", .string(kind)), ("actor", .string(actor)),
            ("tenant", .optional(tenant)), ("region", .optional(region)), ("body", body),
        ])
    }

    /// The bytes that are stored and hashed.
    public func canonicalBytes() throws(JSONEncodingError) -> [UInt8] { try jsonValue.canonicalBytes() }
}
