import ResidencyCore

extension AccessRefusal.Category {
    /// The HTTP status of a refused access step. No `default`: a new category does not compile until it has one.
    var httpStatus: Int {
        switch self {
        // The request's state does not allow the step.
        case .stateConflict: 409
        // Who may take the step: separation of duties, the tenant's own approval.
        case .notPermitted: 403
        // Policy refuses it; the answer names the rule.
        case .policy: 422
        }
    }
}
