import Foundation
import ResidencyController
import ResidencyCore

/// `residency access …`: the API's access control from the command line, acting as internal staff (a tenant
/// enrolled in customer approval is decided through the API by its own administrator).
enum AccessCommand {
    static let common: [OptionSpec] = [
        ServeCommand.dataOption, GeoCommand.geoIP, SharedOptions.regions, SharedOptions.policies,
        .option("as", "name", "Who acts, as recorded in the ledger (default: cli)."),
    ]

    static let spec = CommandSpec(
        name: "access", abstract: "Cross-border support access: request, decide, use, review.",
        subcommands: [request(breakGlass: false), request(breakGlass: true), list, show]
            + AccessLifecycle.Decision.allCases.map(decide) + [
                close(.revoke), close(.complete), review, event, customerApproval,
            ])

    /// The controller over the data directory; `.read` for a command that only reads (it refuses a missing
    /// directory rather than create one).
    static func controller(
        _ arguments: ParsedArguments, _ context: CommandContext, _ access: SharedOptions.DataAccess = .write
    ) throws -> Controller {
        let regions = try context.locator.regions(explicit: arguments.value("regions"))
        let data = try SharedOptions.dataDirectory(arguments, context, access)
        let controller = try Controller.open(
            dataDirectory: data, regions: regions,
            policies: try context.locator.policies(explicit: arguments.value("policies")),
            geoIP: context.locator.geoIPDatabase(explicit: arguments.value("geoip"), regions: regions))
        context.opened.add(controller)
        return controller
    }

    static func actor(_ arguments: ParsedArguments) -> Caller {
        Caller(tokenName: arguments.value("as") ?? "cli", role: .compliance)
    }

    static func show(_ request: AccessRequest, _ context: CommandContext, now: Int64) {
        context.print(request.jsonValue(at: now).encoded(pretty: true))
    }

    static func positiveHours(_ arguments: ParsedArguments) throws -> Int? {
        guard let text = arguments.value("hours") else { return nil }
        guard let value = Int(text), value > 0 else {
            throw UsageError("--hours: \"\(text)\" is not a positive integer")
        }
        return value
    }

    static func required(_ arguments: ParsedArguments, _ name: String) throws -> String {
        guard let value = arguments.value(name), !value.isEmpty else { throw UsageError("missing --\(name)") }
        return value
    }

    static func request(breakGlass: Bool) -> CommandSpec {
        CommandSpec(
            name: breakGlass ? "break-glass" : "request",
            abstract: breakGlass
                ? "Open an emergency grant, active at once and reviewed afterwards." : "File an access request.",
            options: [
                .required("tenant", "id", "The tenant."), .required("staff-id", "id", "The staff member."),
                .required("role", "role", "The staff member's job role."),
                .required("office", "id", "The support office (Policies/access.json)."),
                .required("country", "cc", "Where the staff member physically is now."),
                .required("justification", "code", "A justification code (Policies/access.json)."),
                .required(
                    "data-classes", "list", "Comma-separated: customer_data, backups, logs, analytics, directory."),
                .option("entity", "name", "The employing entity (default: the office's, from Policies/access.json)."),
                .option("detail", "ref", "Ticket or case reference."),
                .option("mode", "mode", "read or write (default: read)."),
                .option("hours", "n", "Grant length in hours."),
            ] + common
        ) { arguments, context in
            let classes = try required(arguments, "data-classes").split(separator: ",").map {
                text -> AccessScope.DataClass in
                guard let value = AccessScope.DataClass(rawValue: String(text)) else {
                    throw UsageError(
                        "--data-classes: \"\(text)\"; accepted: \(AccessScope.DataClass.allCases.map(\.rawValue).joined(separator: ", "))"
                    )
                }
                return value
            }
            let mode = try arguments.choice("mode", default: AccessScope.Mode.read)
            let countryText = try required(arguments, "country")
            guard let country = CountryCode(countryText) else {
                throw UsageError("--country: \"\(countryText)\" is not an ISO 3166-1 alpha-2 code")
            }
            let hours = try positiveHours(arguments)
            let controller = try controller(arguments, context)
            let office = try required(arguments, "office")
            // The office's employing entity unless told otherwise (an unknown office is refused by the filing).
            let entity =
                arguments.value("entity") ?? controller.policies.access.office(id: office)?.entity ?? ""
            let filing = AccessDesk.AccessFiling(
                tenant: try required(arguments, "tenant"),
                staff: StaffMember(
                    id: try required(arguments, "staff-id"), entity: entity, jobRole: try required(arguments, "role"),
                    office: office),
                physicalCountry: country, justification: try required(arguments, "justification"),
                detail: arguments.value("detail") ?? "",
                scope: AccessScope(dataClasses: Set(classes), mode: mode), hours: hours)
            show(
                try controller.access.fileAccess(filing, breakGlass: breakGlass, by: actor(arguments).tokenName), context,
                now: controller.clock.now())
            return ExitCode.success
        }
    }

    static let list = CommandSpec(
        name: "list", abstract: "List access requests.",
        options: [
            .option("tenant", "id", "Only this tenant."), .option("state", "state", "Only this state."),
            .option("region", "id", "Only this region."), SharedOptions.format,
        ] + common
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        var state: AccessState?
        if let text = arguments.value("state") {
            guard let value = AccessState(rawValue: text) else {
                throw UsageError(
                    "--state: \"\(text)\"; accepted: \(AccessState.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            state = value
        }
        let controller = try controller(arguments, context, .read)
        let requests = try controller.access.accessRequests(
            tenant: arguments.value("tenant"), state: state, region: arguments.value("region"))
        let now = controller.clock.now()
        switch format {
        case .json: context.print(JSONValue.array(requests.map { $0.jsonValue(at: now) }).encoded(pretty: true))
        case .table:
            var table = TextTable([
                "ID", "TENANT", "REGION", "STATE", "STAFF", "FROM", "JUSTIFICATION", "BASIS", "REVIEW",
            ])
            for request in requests {
                table.append([
                    request.id, request.tenant, request.region, request.state.rawValue, request.staff.id,
                    request.physicalCountry.rawValue,
                    request.justification, request.basis.mechanism.code,
                    request.isBreakGlass
                        ? (request.reviewedAt != nil ? "done" : request.isReviewOverdue(at: now) ? "OVERDUE" : "due")
                        : "-",
                ])
            }
            context.standardOutput(table.render())
        }
        return ExitCode.success
    }

    static let show = CommandSpec(
        name: "show", abstract: "Show one access request.", options: common,
        positionals: [PositionalSpec("id", "The request id.")]
    ) {
        arguments, context in
        let controller = try controller(arguments, context, .read)
        show(try controller.access.accessRequest(id: arguments.positionals[0]), context, now: controller.clock.now())
        return ExitCode.success
    }

    static func decide(_ decision: AccessLifecycle.Decision) -> CommandSpec {
        CommandSpec(
            name: decision.rawValue, abstract: "\(decision.rawValue.capitalized) a pending request.",
            options: [
                .required("reason", "text", "Why (recorded)."),
                .option("hours", "n", "Grant fewer hours than asked (approve)."),
            ] + common,
            positionals: [PositionalSpec("id", "The request id.")]
        ) { arguments, context in
            let hours = try positiveHours(arguments)
            let controller = try controller(arguments, context)
            let request = try controller.access.decideAccess(
                id: arguments.positionals[0], decision, by: actor(arguments), reason: try required(arguments, "reason"),
                hours: hours)
            show(request, context, now: controller.clock.now())
            return ExitCode.success
        }
    }

    static func close(_ closing: AccessLifecycle.Closing) -> CommandSpec {
        CommandSpec(
            name: closing.rawValue, abstract: closing == .revoke ? "Revoke a grant." : "Mark a grant's work complete.",
            options: [.option("reason", "text", "Why (recorded).")] + common,
            positionals: [PositionalSpec("id", "The request id.")]
        ) { arguments, context in
            let controller = try controller(arguments, context)
            show(
                try controller.access.closeAccess(
                    id: arguments.positionals[0], closing, by: actor(arguments), reason: arguments.value("reason") ?? ""
                ), context, now: controller.clock.now())
            return ExitCode.success
        }
    }

    static let review = CommandSpec(
        name: "review", abstract: "Record the after-the-fact review of a break-glass grant.",
        options: [.required("note", "text", "The review's conclusion.")] + common,
        positionals: [PositionalSpec("id", "The request id.")]
    ) { arguments, context in
        let controller = try controller(arguments, context)
        show(
            try controller.access.reviewAccess(
                id: arguments.positionals[0], by: actor(arguments), note: try required(arguments, "note")), context,
            now: controller.clock.now())
        return ExitCode.success
    }

    static let event = CommandSpec(
        name: "event", abstract: "Record one use of a grant (refused uses are recorded too, and exit 1).",
        options: [
            .required("request", "id", "The grant."), .required("staff-id", "id", "Who."),
            .required("country", "cc", "From where, physically."),
            .required("method", "text", "How (ssh, console, api…)."),
            .required("resource", "text", "What was touched."),
            .required("data-class", "class", "customer_data, backups, logs, analytics or directory."),
            .option("mode", "mode", "read or write (default: read)."),
        ] + common
    ) { arguments, context in
        let classText = try required(arguments, "data-class")
        guard let dataClass = AccessScope.DataClass(rawValue: classText) else {
            throw UsageError(
                "--data-class: \"\(classText)\"; accepted: \(AccessScope.DataClass.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        let countryText = try required(arguments, "country")
        guard let country = CountryCode(countryText) else {
            throw UsageError("--country: \"\(countryText)\" is not an ISO 3166-1 alpha-2 code")
        }
        let use = AccessLifecycle.Use(
            staffID: try required(arguments, "staff-id"), physicalCountry: country,
            method: try required(arguments, "method"),
            resource: try required(arguments, "resource"), dataClass: dataClass,
            mode: try arguments.choice("mode", default: AccessScope.Mode.read))
        let controller = try controller(arguments, context)
        let result = try controller.access.recordAccessEvent(
            requestID: try required(arguments, "request"), use, by: actor(arguments).tokenName)
        context.print("allowed: event \(result.event) on \(result.request.id) (\(result.request.state.rawValue))")
        return ExitCode.success
    }

    /// The tenant is `--tenant`, as in every other command; the older `customer-approval TENANT on|off` form is
    /// refused by the parser (missing --tenant), which names the flag to use.
    static let customerApproval = CommandSpec(
        name: "customer-approval", abstract: "Enrol a tenant in customer approval (on) or not (off).",
        options: [.required("tenant", "id", "The tenant.")] + common,
        positionals: [PositionalSpec("setting", "on or off.")]
    ) { arguments, context in
        let setting = arguments.positionals[0]
        guard setting == "on" || setting == "off" else {
            throw UsageError("<setting>: \"\(setting)\"; accepted: on, off")
        }
        let tenant = try required(arguments, "tenant")
        try controller(arguments, context).access.setCustomerApproval(
            tenant: tenant, enabled: setting == "on", by: actor(arguments))
        context.print("customer approval \(setting) for \(tenant)")
        return ExitCode.success
    }
}
