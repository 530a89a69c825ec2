import ResidencyCore
import ResidencyStore

@testable import ResidencyController

/// Access entries for the report tests, in the shapes the access use cases write them: one function per kind with
/// the members that kind carries, so a fixture says only what differs between its entries. Appended inside the
/// caller's write transaction.
struct AccessEntries {
    let database: Database

    /// `access.requested`, or `access.auto_approved` when `auto`.
    func filed(
        auto: Bool, time: Int64, tenant: String, request: String, staff: String? = nil, justification: String,
        detail: String, basis: String, basisRule: String
    ) throws {
        var body: [(key: String, value: JSONValue)] = [("request", .string(request))]
        if let staff { body.append(("staff", .string(staff))) }
        body += [
            ("justification", .string(justification)), ("detail", .string(detail)), ("basis", .string(basis)),
            ("basis_rule", .string(basisRule)),
        ]
        try append(time, auto ? .accessAutoApproved : .accessRequested, tenant: tenant, region: "eu", body)
    }

    func approved(
        time: Int64, by actor: String, tenant: String, request: String, justification: String,
        detail: String? = nil, basis: String
    ) throws {
        var body: [(key: String, value: JSONValue)] = [
            ("request", .string(request)), ("justification", .string(justification)),
        ]
        if let detail { body.append(("detail", .string(detail))) }
        body.append(("basis", .string(basis)))
        try append(time, .accessApproved, actor: actor, tenant: tenant, region: "eu", body)
    }

    /// Refused at filing (no request is made).
    func refused(
        time: Int64, tenant: String, region: String, staff: String, country: String, code: String, rule: String,
        message: String? = nil
    ) throws {
        var body: [(key: String, value: JSONValue)] = [
            ("staff", .string(staff)), ("physical_country", .string(country)), ("code", .string(code)),
            ("rule", .string(rule)),
        ]
        if let message { body.append(("message", .string(message))) }
        try append(time, .accessRefused, tenant: tenant, region: region, body)
    }

    /// Refused at use under a grant.
    func useRefused(
        time: Int64, tenant: String, region: String, request: String, staff: String, country: String,
        refusal: String
    ) throws {
        try append(
            time, .accessUseRefused, tenant: tenant, region: region,
            [
                ("request", .string(request)), ("staff", .string(staff)), ("physical_country", .string(country)),
                ("refusal", .string(refusal)),
            ])
    }

    func breakGlass(
        time: Int64, tenant: String, region: String, request: String, staff: String, country: String,
        justification: String
    ) throws {
        try append(
            time, .accessBreakGlass, tenant: tenant, region: region,
            [
                ("request", .string(request)), ("staff", .string(staff)), ("physical_country", .string(country)),
                ("justification", .string(justification)), ("break_glass", .bool(true)),
            ])
    }

    func used(
        time: Int64, tenant: String, region: String, request: String, staff: String, country: String,
        dataClass: String, mode: String, resource: String? = nil, note: String? = nil
    ) throws {
        var body: [(key: String, value: JSONValue)] = [
            ("request", .string(request)), ("staff", .string(staff)), ("physical_country", .string(country)),
            ("data_class", .string(dataClass)), ("mode", .string(mode)),
        ]
        if let resource { body.append(("resource", .string(resource))) }
        if let note { body.append(("note", .string(note))) }
        try append(time, .accessUsed, tenant: tenant, region: region, body)
    }

    private func append(
        _ time: Int64, _ kind: LedgerKind, actor: String = "desk", tenant: String, region: String,
        _ body: [(key: String, value: JSONValue)]
    ) throws {
        try Ledger.append(
            in: database, time: time, kind: kind, actor: actor, tenant: tenant, region: region, body: .object(body))
    }
}
