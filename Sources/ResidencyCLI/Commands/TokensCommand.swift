import Foundation
import ResidencyController
import ResidencyCore

enum TokensCommand {
    static let spec = CommandSpec(
        name: "tokens", abstract: "Manage API bearer tokens.", subcommands: [create, list, revoke])

    /// The data directory; its ledger is signed (and published) before the command returns, since creating and
    /// revoking tokens are ledger entries.
    static func directory(
        _ arguments: ParsedArguments, _ context: CommandContext, _ access: SharedOptions.DataAccess
    ) throws -> ControllerDirectory {
        let url = try SharedOptions.dataDirectory(arguments, context, access)
        let directory = try ControllerDirectory.open(url)
        if access == .write {
            context.opened.add(
                try LedgerPublisher.open(
                    ledger: try directory.ledger(), policy: try Controller.loadWitnessPolicy(in: url)))
        }
        return directory
    }

    static let create = CommandSpec(
        name: "create", abstract: "Create a token; it is printed once and only its hash is stored.",
        options: [
            .required("role", "role", Role.allCases.map(\.rawValue).joined(separator: ", ") + "."),
            .required("name", "name", "A unique name, shown in logs instead of the token."),
            .option(
                "tenant", "id",
                "Make it a tenant administrator's token, acting for that tenant only (customer approval)."),
            ServeCommand.dataOption,
        ]
    ) { arguments, context in
        let roleText = try AccessCommand.required(arguments, "role")
        guard let role = Role(rawValue: roleText) else {
            throw UsageError(
                "--role: \"\(roleText)\"; accepted: \(Role.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let name = try AccessCommand.required(arguments, "name")
        let secret = try directory(arguments, context, .write).createToken(
            name: name, role: role, tenant: arguments.value("tenant"))
        context.print(secret)
        return ExitCode.success
    }

    static let list = CommandSpec(
        name: "list", abstract: "List tokens (names, roles, dates; never the tokens).",
        options: [SharedOptions.format, ServeCommand.dataOption]
    ) { arguments, context in
        let format = try arguments.choice("format", default: RecordFormat.table)
        let tokens = try directory(arguments, context, .read).tokens()
        switch format {
        case .json:
            context.print(
                JSONValue.array(
                    tokens.map {
                        .object([
                            ("name", .string($0.name)), ("role", .string($0.role)),
                            ("created_at", .string(Timestamp.rfc3339(milliseconds: $0.createdAt))),
                            ("revoked_at", .optional($0.revokedAt.map { Timestamp.rfc3339(milliseconds: $0) })),
                        ])
                    }
                ).encoded(pretty: true))
        case .table:
            var table = TextTable(["NAME", "ROLE", "CREATED", "REVOKED"])
            for token in tokens {
                table.append([
                    token.name, token.role, Timestamp.rfc3339(milliseconds: token.createdAt),
                    token.revokedAt.map { Timestamp.rfc3339(milliseconds: $0) } ?? "-",
                ])
            }
            context.standardOutput(table.render())
        }
        return ExitCode.success
    }

    static let revoke = CommandSpec(
        name: "revoke", abstract: "Revoke a token; requests using it fail at once.",
        options: [ServeCommand.dataOption], positionals: [PositionalSpec("name", "The token's name.")]
    ) { arguments, context in
        try directory(arguments, context, .read).revokeToken(name: arguments.positionals[0])
        context.print("revoked \(arguments.positionals[0])")
        return ExitCode.success
    }
}
