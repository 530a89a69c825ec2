import ResidencyController
import ResidencyCore

/// An error answered as `{"error":{"code":"…","message":"…"}}` with its HTTP status.
package struct APIError: Error, Sendable {
    package let status: Int
    package let code: String
    package let message: String
    /// Extra members of the error object (the refusing rule, the placement decision).
    package var details: [(key: String, value: JSONValue)] = []
    package var headers: [(name: String, value: String)] = []

    package init(status: Int, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    package var response: HTTPResponse {
        var object: [(key: String, value: JSONValue)] = [("code", .string(code)), ("message", .string(message))]
        object += details
        var response = HTTPResponse.json(.object([("error", .object(object))]), status: status)
        response.headers += headers
        return response
    }

    package static func badRequest(_ message: String, code: String = "bad_request") -> APIError {
        APIError(status: 400, code: code, message: message)
    }

    /// The HTTP form of a use-case error.
    package init(_ error: ControllerError) {
        switch error {
        case .invalidField(let field, let message):
            self.init(status: 400, code: "invalid_field", message: "\(field): \(message)")
        case .placementRefused(let decision):
            let refusal = decision.refusal
            self.init(
                status: 422, code: refusal?.code.rawValue ?? "refused", message: refusal?.message ?? "placement refused"
            )
            details = [("rule", .optional(refusal?.rule)), ("decision", decision.jsonValue)]
        case .idempotencyConflict:
            self.init(status: 409, code: "idempotency_conflict", message: error.description)
        case .notFound:
            self.init(status: 404, code: "not_found", message: error.description)
        case .tokenExists:
            self.init(status: 409, code: "conflict", message: error.description)
        case .accessRefused(let refusal):
            self.init(status: refusal.kind.category.httpStatus, code: refusal.code, message: refusal.message)
            details = [("rule", .optional(refusal.rule))]
        case .refused(let code, let message, let rule):
            self.init(status: 422, code: code, message: message)
            details = [("rule", .optional(rule))]
        case .conflict(let code, let message):
            self.init(status: 409, code: code, message: message)
            if code == "migration_in_progress" { headers = [("Retry-After", "1")] }
        case .storage(let message):
            self.init(
                status: 503, code: "storage_unavailable",
                message: "the store could not complete the request: \(message)")
        case .outOfSpace:
            self.init(status: 507, code: "insufficient_storage", message: error.description)
        }
    }
}
