/// A parsed JSON document that keeps what a strict reader needs: the order of object members (so errors
/// point where the author wrote them) and the exact text of numbers (so integers never pass through a
/// `Double` and canonical output is stable).
package enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    package static func == (lhs: JSONValue, rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let a), .number(let b)): return a == b
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    /// A short name of the value's JSON type, for error messages.
    package var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number(let n): return n.isInteger ? "an integer" : "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }

    /// The member named `key` when this is an object.
    package subscript(key: String) -> JSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    package static func integer(_ value: Int64) -> JSONValue { .number(JSONNumber(value)) }
    package static func integer(_ value: Int) -> JSONValue { .number(JSONNumber(Int64(value))) }
}

/// A JSON number kept as its literal text.
package struct JSONNumber: Sendable, Hashable, CustomStringConvertible {
    /// The literal as written, already validated against the JSON number grammar.
    package let text: String

    init(validatedText: String) { self.text = validatedText }

    package init(_ value: Int64) { self.text = String(value) }

    /// True when the literal has no fraction and no exponent.
    package var isInteger: Bool { !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) }

    /// The value as a 64-bit integer, when the literal is an integer that fits.
    package var int64Value: Int64? { isInteger ? Int64(text) : nil }

    package var doubleValue: Double? { Double(text) }

    package var description: String { text }
}

extension JSONNumber {
    /// A finite double in Swift's shortest round-tripping form.
    package init(_ value: Double) {
        precondition(value.isFinite, "JSON has no infinities or NaN")
        self.text = value.description
    }
}

extension JSONValue {
    package static func double(_ value: Double) -> JSONValue { .number(JSONNumber(value)) }
    package static func optional(_ value: String?) -> JSONValue { value.map { .string($0) } ?? .null }

    /// This object with `members` appended (other values are returned unchanged).
    package func adding(_ members: [(key: String, value: JSONValue)]) -> JSONValue {
        guard case .object(let existing) = self else { return self }
        return .object(existing + members)
    }
}
