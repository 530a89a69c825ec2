import ResidencyCore

/// The options and positionals of one invocation, checked against the command's specs.
package struct ParsedArguments: Sendable {
    private var values: [String: [String]] = [:]
    private var flags: Set<String> = []
    package private(set) var positionals: [String] = []

    /// Parses `arguments`. Accepts `--name value`, `--name=value`, and `--` to end options (so `-` and
    /// values starting with a dash can be passed as positionals).
    package static func parse(
        _ arguments: [String], options: [OptionSpec], positionals specs: [PositionalSpec]
    )
        throws(UsageError) -> ParsedArguments
    {
        var parsed = ParsedArguments()
        var remaining = arguments[...]
        var optionsEnded = false
        while let argument = remaining.popFirst() {
            if optionsEnded || !argument.hasPrefix("--") || argument == "--" {
                if argument == "--" && !optionsEnded {
                    optionsEnded = true
                    continue
                }
                parsed.positionals.append(argument)
                continue
            }
            var name = String(argument.dropFirst(2))
            var inlineValue: String?
            if let equals = name.firstIndex(of: "=") {
                inlineValue = String(name[name.index(after: equals)...])
                name = String(name[..<equals])
            }
            guard let spec = options.first(where: { $0.name == name }) else {
                let known = options.map { "--\($0.name)" }.joined(separator: ", ")
                throw UsageError("unknown option '--\(name)'" + (known.isEmpty ? "" : "; accepted: \(known)"))
            }
            if spec.valueName == nil {
                if inlineValue != nil { throw UsageError("option '--\(name)' takes no value") }
                parsed.flags.insert(name)
                continue
            }
            guard let value = inlineValue ?? remaining.popFirst() else {
                throw UsageError("option '--\(name)' needs a value <\(spec.valueName!)>")
            }
            if parsed.values[name] != nil && !spec.isRepeatable {
                throw UsageError("option '--\(name)' given more than once")
            }
            parsed.values[name, default: []].append(value)
        }
        // Everything missing is reported at once: a user should not discover required flags one run at a time.
        var missing = options.filter { $0.isRequired && parsed.values[$0.name] == nil }.map { "--\($0.name)" }
        let required =
            specs.filter { !$0.isOptional && !$0.isVariadic }.count
            + (specs.contains { $0.isVariadic && !$0.isOptional } ? 1 : 0)
        if parsed.positionals.count < required {
            missing += specs.filter { !$0.isOptional }.dropFirst(min(parsed.positionals.count, specs.count)).map {
                "<\($0.name)>"
            }
        }
        var problems: [String] = []
        if !missing.isEmpty { problems.append("missing " + missing.joined(separator: ", ")) }
        if !specs.contains(where: \.isVariadic), parsed.positionals.count > specs.count {
            let extra = parsed.positionals[specs.count]
            problems.append("unexpected argument '\(extra)'")
        }
        if !problems.isEmpty { throw UsageError(problems.joined(separator: "; ")) }
        return parsed
    }

    package func value(_ name: String) -> String? { values[name]?.last }

    package func values(_ name: String) -> [String] { values[name] ?? [] }

    package func flag(_ name: String) -> Bool { flags.contains(name) }

    /// An RFC 3339 time option, in milliseconds since the Unix epoch; nil when absent.
    package func time(_ name: String) throws(UsageError) -> Int64? {
        guard let text = value(name) else { return nil }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: text) else {
            throw UsageError("--\(name): \"\(text)\" is not an RFC 3339 time (e.g. 2026-11-22T09:00:00Z)")
        }
        return milliseconds
    }

    /// A value that must be one of a closed set, with `fallback` when absent.
    package func choice<T: RawRepresentable & CaseIterable>(_ name: String, default fallback: T) throws(UsageError) -> T
    where T.RawValue == String {
        guard let text = value(name) else { return fallback }
        guard let choice = T(rawValue: text) else {
            throw UsageError(
                "invalid value '\(text)' for '--\(name)'; accepted: \(T.allCases.map(\.rawValue).joined(separator: ", "))"
            )
        }
        return choice
    }
}

/// The command line was wrong: exit status 64, the message, and the usage line.
package struct UsageError: Error, Sendable, CustomStringConvertible {
    package let message: String
    package init(_ message: String) { self.message = message }
    package var description: String { message }
}
