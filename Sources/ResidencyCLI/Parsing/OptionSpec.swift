/// One `--name VALUE` option or `--name` flag a command accepts.
public struct OptionSpec: Sendable {
    public let name: String
    /// The placeholder shown in help; nil for a flag that takes no value.
    public let valueName: String?
    public let help: String
    /// The option may be given more than once.
    public let isRepeatable: Bool
    /// The command cannot run without it: the parser reports every missing one at once, and usage lines show
    /// it without brackets.
    public let isRequired: Bool

    public static func option(
        _ name: String, _ valueName: String, _ help: String, repeatable: Bool = false, required: Bool = false
    ) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, isRepeatable: repeatable, isRequired: required)
    }

    /// A required option (`--tenant <id>` in usage, not `[--tenant <id>]`).
    public static func required(_ name: String, _ valueName: String, _ help: String) -> OptionSpec {
        option(name, valueName, help, required: true)
    }

    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, isRepeatable: false, isRequired: false)
    }

    /// `--name <value>`, as usage lines and help show it.
    var label: String { "--\(name)" + (valueName.map { " <\($0)>" } ?? "") }
}

/// A positional argument, for help text and for counting.
public struct PositionalSpec: Sendable {
    public let name: String
    public let help: String
    public let isOptional: Bool
    public let isVariadic: Bool

    public init(_ name: String, _ help: String, optional: Bool = false, variadic: Bool = false) {
        self.name = name
        self.help = help
        self.isOptional = optional
        self.isVariadic = variadic
    }
}
