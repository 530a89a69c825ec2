import ResidencyCore

/// Refusals and failures of the use cases. The server maps each to an HTTP status; the CLI prints it.
public enum ControllerError: Error, Sendable, CustomStringConvertible {
    /// A field of the input is malformed: which one, and what is accepted.
    case invalidField(field: String, message: String)
    /// Policy refuses a well-formed request (HTTP 422).
    case placementRefused(PlacementDecision)
    /// The same idempotency key was used with another request body.
    case idempotencyConflict(key: String)
    case notFound(kind: String, id: String)
    case tokenExists(name: String)
    /// An access step refused by policy or by the request's state.
    case accessRefused(AccessRefusal)
    /// Policy refuses a well-formed request (a migration's target, a lifecycle step): the code, a message
    /// and the rule (HTTP 422).
    case refused(code: String, message: String, rule: String?)
    /// The request conflicts with the current state (HTTP 409): a migration under way, a wrong state.
    case conflict(code: String, message: String)
    /// A storage failure: the message, never half-written state.
    case storage(String)

    public var description: String {
        switch self {
        case .invalidField(let field, let message): return "\(field): \(message)"
        case .placementRefused(let decision): return "placement refused: \(decision.refusal?.message ?? "")"
        case .idempotencyConflict(let key):
            return "idempotency key \"\(key)\" was already used with a different request body"
        case .notFound(let kind, let id): return "no \(kind) \"\(id)\""
        case .tokenExists(let name): return "a token named \"\(name)\" already exists"
        case .accessRefused(let refusal): return refusal.message
        case .refused(_, let message, _): return message
        case .conflict(_, let message): return message
        case .storage(let message): return "storage error: \(message)"
        }
    }
}
