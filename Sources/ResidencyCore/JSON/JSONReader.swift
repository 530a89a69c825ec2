/// Reads a JSON value at a known path of a known file, reporting every type or range mistake to a
/// `ProblemCollector` and answering `nil`, so that one load lists all problems instead of stopping at the first.
package struct JSONReader {
    package let value: JSONValue
    package let path: String
    package let file: String
    package let collector: ProblemCollector

    package init(value: JSONValue, file: String, collector: ProblemCollector, path: String = "$") {
        self.value = value
        self.path = path
        self.file = file
        self.collector = collector
    }

    /// Records a problem at this value's path, quoting the value.
    package func problem(_ message: String) {
        collector.report(file: file, path: path, "\(excerpt): \(message)")
    }

    /// Records a problem at this path without quoting the value (for missing members and whole-object rules).
    package func note(_ message: String) {
        collector.report(file: file, path: path, message)
    }

    /// The value as the file spells it, shortened for messages.
    package var excerpt: String {
        let text = value.encoded()
        return text.count > 60 ? String(text.prefix(57)) + "..." : text
    }

    /// Opens an object whose members must all be among `known`; unknown members are reported with the list
    /// of accepted ones (a misspelt key silently ignored is a policy silently not applied).
    package func object(known: [String]) -> JSONObjectReader? {
        guard case .object(let members) = value else {
            problem("expected an object, found \(value.typeName)")
            return nil
        }
        for member in members where !known.contains(member.key) {
            collector.report(
                file: file, path: path + "." + member.key,
                "unknown field \"\(member.key)\"; accepted fields: \(known.joined(separator: ", "))")
        }
        return JSONObjectReader(members: members, reader: self)
    }

    package func array() -> [JSONReader]? {
        guard case .array(let elements) = value else {
            problem("expected an array, found \(value.typeName)")
            return nil
        }
        return elements.enumerated().map { offset, element in
            JSONReader(value: element, file: file, collector: collector, path: "\(path)[\(offset)]")
        }
    }

    package func string() -> String? {
        guard case .string(let string) = value else {
            problem("expected a string, found \(value.typeName)")
            return nil
        }
        return string
    }

    /// A string that is not empty and not only spaces.
    package func text() -> String? {
        guard let string = string() else { return nil }
        guard string.contains(where: { !$0.isWhitespace }) else {
            problem("must not be empty")
            return nil
        }
        return string
    }

    /// An identifier: lowercase letters, digits, hyphens and underscores, starting with a letter (used in file names,
    /// URLs and ledger entries, so kept to a safe alphabet).
    package func identifier() -> String? {
        guard let string = string() else { return nil }
        guard Identifier.isValid(string) else {
            problem(
                "is not a valid identifier; use lowercase letters, digits, '-' and '_', starting with a letter, at most 64 characters"
            )
            return nil
        }
        return string
    }

    /// An RFC 3339 time, in milliseconds since the Unix epoch.
    package func timestamp() -> Int64? {
        guard let text = string() else { return nil }
        guard let milliseconds = Timestamp.milliseconds(rfc3339: text) else {
            problem("is not an RFC 3339 time (e.g. 2026-11-22T09:00:00Z)")
            return nil
        }
        return milliseconds
    }

    package func bool() -> Bool? {
        guard case .bool(let bool) = value else {
            problem("expected true or false, found \(value.typeName)")
            return nil
        }
        return bool
    }

    package func integer(in range: ClosedRange<Int64>) -> Int64? {
        guard case .number(let number) = value, let integer = number.int64Value else {
            problem("expected an integer, found \(value.typeName)")
            return nil
        }
        guard range.contains(integer) else {
            problem("out of range; accepted: \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return integer
    }

    package func double(in range: ClosedRange<Double>) -> Double? {
        guard case .number(let number) = value, let double = number.doubleValue, double.isFinite else {
            problem("expected a number, found \(value.typeName)")
            return nil
        }
        guard range.contains(double) else {
            problem("out of range; accepted: \(range.lowerBound)...\(range.upperBound)")
            return nil
        }
        return double
    }

    /// One of a closed set of strings.
    package func oneOf<Choice: RawRepresentable & CaseIterable>(_ type: Choice.Type) -> Choice?
    where Choice.RawValue == String {
        guard let string = string() else { return nil }
        guard let choice = Choice(rawValue: string) else {
            let accepted = Choice.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")
            problem("is not accepted; accepted values: \(accepted)")
            return nil
        }
        return choice
    }
}

/// The members of one JSON object being read; `required` reports a missing member.
package struct JSONObjectReader {
    let members: [(key: String, value: JSONValue)]
    package let reader: JSONReader

    package func optional(_ key: String) -> JSONReader? {
        guard let member = members.first(where: { $0.key == key }) else { return nil }
        return JSONReader(
            value: member.value, file: reader.file, collector: reader.collector, path: reader.path + "." + key)
    }

    package func required(_ key: String) -> JSONReader? {
        guard let member = optional(key) else {
            reader.note("missing required field \"\(key)\"")
            return nil
        }
        return member
    }

    package func has(_ key: String) -> Bool { members.contains { $0.key == key } }
}

/// The alphabet shared by region, site, rule and token identifiers.
package enum Identifier {
    package static func isValid(_ string: String) -> Bool {
        let bytes = Array(string.utf8)
        guard (1...64).contains(bytes.count), let first = bytes.first,
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(first)
        else { return false }
        return bytes.allSatisfy {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0)
                || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_")
        }
    }
}
