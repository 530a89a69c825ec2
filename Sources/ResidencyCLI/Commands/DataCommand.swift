import Foundation
import ResidencyController
import ResidencyCore

/// `residency data …`: a tenant's application data, read and written through the controller (as the
/// application does over the API), for operators and tests.
enum DataCommand {
    static let spec = CommandSpec(
        name: "data", abstract: "Read and write a tenant's application data where it lives.",
        subcommands: [put, get, list, delete, digest])

    static let target: [OptionSpec] = [
        .required("tenant", "id", "The tenant."),
        .required("collection", "name", "contacts, accounts or documents."),
    ]

    /// Each collection's fields as `help data put` and the README show them, from `TenantCollection` itself.
    static var fieldsHelp: String {
        var lines = ["FIELDS (* required; text lengths in characters, bytes as base64):"]
        for collection in TenantCollection.allCases {
            let fields = collection.fields.map { field -> String in
                let size: String
                switch field.kind {
                case .text: size = "text ≤ \(field.maximumLength)"
                case .integer: size = "integer"
                case .bytes: size = "bytes ≤ \(field.maximumLength >> 20) MiB"
                }
                return "\(field.name)\(field.required ? "*" : "") (\(size))"
            }
            lines.append("  \(collection.rawValue): " + fields.joined(separator: ", "))
        }
        lines.append("  keys: \(TenantCollection.keyRule)")
        return lines.joined(separator: "\n")
    }

    static func collection(_ arguments: ParsedArguments) throws -> TenantCollection {
        let text = try AccessCommand.required(arguments, "collection")
        guard let collection = TenantCollection(rawValue: text) else {
            throw UsageError(
                "--collection: \"\(text)\"; accepted: \(TenantCollection.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return collection
    }

    static let put = CommandSpec(
        name: "put", abstract: "Create or replace a record.",
        discussion: """
            The fields are one JSON object (bytes in base64), e.g. '{"name": "Ada", "email": "ada@example.com"}', \
            or @FILE to read them from a file. Prints one line: the collection, key, fields and size stored.

            \(fieldsHelp)
            """,
        options: target + [.required("key", "key", "The record's key."), .required("json", "object", "The fields.")]
            + AccessCommand.common
    ) { arguments, context in
        let collection = try collection(arguments)
        let key = try AccessCommand.required(arguments, "key")
        let text = try AccessCommand.required(arguments, "json")
        var bytes = Array(text.utf8)
        if text.hasPrefix("@") {
            do {
                bytes = Array(try Data(contentsOf: URL(fileURLWithPath: String(text.dropFirst()))))
            } catch {
                throw CommandFailure("--json: cannot read \(text.dropFirst()): \(error.localizedDescription)")
            }
        }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw UsageError("--json: \(error)")
        }
        let controller = try AccessCommand.controller(arguments, context)
        let collector = ProblemCollector()
        let record = TenantRecord.read(
            JSONReader(value: value, file: "--json", collector: collector), collection: collection, key: key,
            updatedAt: controller.clock.now())
        try collector.throwIfAny()
        guard let record else { throw UsageError("--json: not a \(collection.rawValue) record") }
        let tenant = try AccessCommand.required(arguments, "tenant")
        try controller.directory.putRecord(tenant: tenant, record)
        // A summary, not the record: a document's body may be megabytes of base64.
        context.print(
            "stored \(collection.rawValue)/\(key) for \(tenant): \(record.values.keys.sorted().joined(separator: ", ")) "
                + "(\(bytes.count) bytes of JSON)")
        return ExitCode.success
    }

    static let get = CommandSpec(
        name: "get", abstract: "Print one record as JSON.",
        options: target + [.required("key", "key", "The record's key.")] + AccessCommand.common
    ) { arguments, context in
        let record = try AccessCommand.controller(arguments, context, .read).directory.record(
            tenant: try AccessCommand.required(arguments, "tenant"), try collection(arguments),
            key: try AccessCommand.required(arguments, "key"))
        context.print(record.jsonValue.encoded(pretty: true))
        return ExitCode.success
    }

    static let list = CommandSpec(
        name: "list", abstract: "Print a collection's records as JSON lines, in key order.",
        options: target + [
            .option("after", "key", "Start after this key."), .option("limit", "n", "At most n (default 100)."),
        ]
            + AccessCommand.common
    ) { arguments, context in
        let limitText = arguments.value("limit") ?? "100"
        guard let limit = Int(limitText) else { throw UsageError("--limit: \"\(limitText)\" is not an integer") }
        for record in try AccessCommand.controller(arguments, context, .read).directory.records(
            tenant: try AccessCommand.required(arguments, "tenant"), try collection(arguments),
            after: arguments.value("after"), limit: limit)
        {
            context.print(record.jsonValue.encoded())
        }
        return ExitCode.success
    }

    static let delete = CommandSpec(
        name: "delete", abstract: "Delete a record.",
        options: target + [.required("key", "key", "The record's key.")] + AccessCommand.common
    ) { arguments, context in
        let key = try AccessCommand.required(arguments, "key")
        let deleted = try AccessCommand.controller(arguments, context).directory.deleteRecord(
            tenant: try AccessCommand.required(arguments, "tenant"), try collection(arguments), key: key)
        context.print(deleted ? "deleted \(key)" : "no record \(key)")
        return deleted ? ExitCode.success : ExitCode.failure
    }

    static let digest = CommandSpec(
        name: "digest", abstract: "Rows per collection and the content SHA-256 of a tenant's data, where it lives.",
        options: [.required("tenant", "id", "The tenant.")] + AccessCommand.common
    ) { arguments, context in
        let digest = try AccessCommand.controller(arguments, context, .read).directory.dataDigest(
            tenant: try AccessCommand.required(arguments, "tenant"))
        context.print(digest.jsonValue.encoded())
        return ExitCode.success
    }
}
