import Foundation
import ResidencyCore
import ResidencyStore

/// Refusals and failures of the use cases. The server maps each to an HTTP status; the CLI prints it.
package enum ControllerError: Error, Sendable, CustomStringConvertible {
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
    /// The disk holding the data directory is full (HTTP 507): the write was not made.
    case outOfSpace(String)

    package var description: String {
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
        case .outOfSpace(let message):
            return "the disk holding the data directory is full (\(message)); free space and retry"
        }
    }

    /// Classifies a failure from below the controller: a full disk (SQLite's SQLITE_FULL, or ENOSPC, EDQUOT or
    /// EFBIG from the file system) is `.outOfSpace`, any other store or file error `.storage`; a
    /// `ControllerError` passes through. Nil for anything else (a bug, answered as an internal error).
    package static func classify(_ error: any Error, context: String = "") -> ControllerError? {
        let prefix = context.isEmpty ? "" : context + ": "
        switch error {
        case let error as ControllerError: return error
        case let error as DatabaseError:
            return error.isDiskFull ? .outOfSpace(prefix + error.message) : .storage(prefix + error.description)
        case let error as FolderListingError: return .storage(prefix + error.description)
        case let error as POSIXError where [.ENOSPC, .EDQUOT, .EFBIG].contains(error.code):
            return .outOfSpace(prefix + error.localizedDescription)
        case let error as CocoaError:
            if let underlying = error.underlying as? POSIXError, [.ENOSPC, .EDQUOT, .EFBIG].contains(underlying.code) {
                return .outOfSpace(prefix + underlying.localizedDescription)
            }
            return .storage(prefix + String(describing: error))
        default: return nil
        }
    }
}
