import Foundation
import ResidencyCore

/// An operator-configured external mover (`movers.json` in the data directory, or the file named by
/// `RESIDENCY_MOVERS`): shell commands run at each migration step for data the controller does not hold
/// itself — a `pg_dump`/`pg_restore` pair, an object-store copy, a search index rebuild.
///
/// ```json
/// {"movers": [{"name": "documents-bucket",
///              "export": "…", "import": "…", "verify": "…", "purge": "…", "timeout_seconds": 3600}]}
/// ```
package struct CommandMoverConfiguration: Sendable, Hashable {
    package static let defaultFileName = "movers.json"

    package let name: String
    package let export: String
    package let importCommand: String
    package let verify: String
    package let purge: String
    package let timeoutSeconds: Int

    /// Reads the file; a missing file means no external movers. Every problem is reported with its field.
    package static func load(from url: URL) throws -> [CommandMoverConfiguration] {
        guard FileManager.default.fileExists(atPath: url.path) else { return [] }
        let collector = ProblemCollector()
        let file = url.path
        let value: JSONValue
        do {
            value = try JSONParser.parse(Array(try Data(contentsOf: url)))
        } catch {
            throw ConfigurationError(problems: [ConfigurationProblem(file: file, path: "$", message: "\(error)")])
        }
        let root = JSONReader(value: value, file: file, collector: collector)
        var movers: [CommandMoverConfiguration] = []
        if let object = root.object(known: ["movers"]), let list = object.required("movers")?.array() {
            var names: Set<String> = ["local"]
            for entry in list {
                guard
                    let fields = entry.object(known: ["name", "export", "import", "verify", "purge", "timeout_seconds"])
                else { continue }
                let name = fields.required("name")?.identifier()
                let export = fields.required("export")?.text()
                let importCommand = fields.required("import")?.text()
                let verify = fields.required("verify")?.text()
                let purge = fields.required("purge")?.text()
                let timeout = fields.optional("timeout_seconds")?.integer(in: 1...86_400) ?? 3600
                if let name, !names.insert(name).inserted {
                    fields.required("name")?.problem("\"\(name)\" is used twice (or is the built-in \"local\")")
                }
                if let name, let export, let importCommand, let verify, let purge {
                    movers.append(
                        CommandMoverConfiguration(
                            name: name, export: export, importCommand: importCommand, verify: verify, purge: purge,
                            timeoutSeconds: Int(timeout)))
                }
            }
        }
        try collector.throwIfAny()
        return movers
    }
}
