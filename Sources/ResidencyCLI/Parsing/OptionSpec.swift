/// One `--name VALUE` option or `--name` flag a command accepts.
package struct OptionSpec: Sendable {
    package let name: String
    /// The placeholder shown in help; nil for a flag that takes no value.
    package let valueName: String?
    package let help: String
    /// The option may be given more than once.
    package let isRepeatable: Bool
    /// The command cannot run without it: the parser reports every missing one at once, and usage lines show
    /// it without brackets.
    package let isRequired: Bool

    package static func option(
        _ name: String, _ valueName: String, _ help: String, repeatable: Bool = false, required: Bool = false
    ) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, isRepeatable: repeatable, isRequired: required)
    }

    /// A required option (`--tenant <id>` in usage, not `[--tenant <id>]`).
    package static func required(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        option(name, valueName, help, required: true)
    }

    package static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, isRepeatable: false, isRequired: false)
    }

    /// `--name <value>`, as usage lines and help show it.
    var label: String { "--\(name)" + (valueName.map { " <\($0)>" } ?? "") }
}

/// A positional argument, for help text and for counting.
package struct PositionalSpec: Sendable {
    package let name: String
    package let help: String
    package let isOptional: Bool
    package let isVariadic: Bool

    package init(_ name: String, _ help: String, optional: Bool = false, variadic: Bool = false) {
        self.name = name
        self.help = help
        self.isOptional = optional
        self.isVariadic = variadic
    }
}
