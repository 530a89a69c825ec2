/// One `--name VALUE` option or `--name` flag a command accepts.
public struct OptionSpec: Sendable {
    public let name: String
    /// The placeholder shown in help; nil for a flag that takes no value.
    public let valueName: String?
    public let help: String
    /// The option may be given more than once.
    public let isRepeatable: Bool

    public static func option(
        _ name: String, _ valueName: String, _ help: String, repeatable: Bool = false
    ) -> OptionSpec {
        OptionSpec(name: name, valueName: valueName, help: help, isRepeatable: repeatable)
    }

    public static func flag(_ name: String, _ help: String) -> OptionSpec {
        OptionSpec(name: name, valueName: nil, help: help, isRepeatable: false)
    }
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
