/// A node of the command tree: either a group of subcommands or a command that runs.
package struct CommandSpec: Sendable {
    package typealias Run = @Sendable (ParsedArguments, CommandContext) throws -> Int32

    package let name: String
    package let abstract: String
    package let discussion: String?
    package let options: [OptionSpec]
    package let positionals: [PositionalSpec]
    package let subcommands: [CommandSpec]
    package let run: Run?

    package init(
        name: String, abstract: String, discussion: String? = nil, options: [OptionSpec] = [],
        positionals: [PositionalSpec] = [], subcommands: [CommandSpec] = [], run: Run? = nil
    ) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.positionals = positionals
        self.subcommands = subcommands
        self.run = run
    }

    func subcommand(named name: String) -> CommandSpec? { subcommands.first { $0.name == name } }

    /// Help in the shape swift-argument-parser made familiar: OVERVIEW, USAGE, ARGUMENTS, OPTIONS, SUBCOMMANDS.
    func help(path: [String]) -> String {
        var text = "OVERVIEW: \(abstract)\n"
        if let discussion { text += "\n\(discussion)\n" }
        text += "\nUSAGE: \(usage(path: path))\n"
        if !positionals.isEmpty {
            text += "\nARGUMENTS:\n"
            for positional in positionals { text += Self.row("<\(positional.name)>", positional.help) }
        }
        text += "\nOPTIONS:\n"
        for option in options {
            text += Self.row(option.label, option.isRequired ? "(required) \(option.help)" : option.help)
        }
        text += Self.row("-h, --help", "Show help information.")
        if !subcommands.isEmpty {
            text += "\nSUBCOMMANDS:\n"
            for subcommand in subcommands { text += Self.row(subcommand.name, subcommand.abstract) }
            text += "\n  See '\(path.joined(separator: " ")) help <subcommand>' for detailed help.\n"
        }
        return text
    }

    func usage(path: [String]) -> String {
        var parts = path
        if !subcommands.isEmpty && run == nil {
            parts.append("<subcommand>")
            return parts.joined(separator: " ")
        }
        // Required options first, unbracketed, so a reader sees at once what the command cannot do without.
        for option in options.filter(\.isRequired) + options.filter({ !$0.isRequired }) {
            let item = option.isRequired ? option.label : "[\(option.label)]"
            parts.append(item + (option.isRepeatable ? " ..." : ""))
        }
        for positional in positionals {
            var item = "<\(positional.name)>" + (positional.isVariadic ? " ..." : "")
            if positional.isOptional { item = "[\(item)]" }
            parts.append(item)
        }
        return parts.joined(separator: " ")
    }

    private static func row(_ label: String, _ help: String) -> String {
        let padded =
            label.count < 24
            ? label.padding(toLength: 24, withPad: " ", startingAt: 0)
            : label + "\n" + String(repeating: " ", count: 26)
        return "  \(padded)\(help)\n"
    }
}
