import ResidencyCore

extension TextLimit {
    /// Throws `invalidField` naming the field, what was wrong and what is accepted.
    func check(_ text: String) throws(ControllerError) {
        if let problem = problem(in: text) { throw ControllerError.invalidField(field: field, message: problem) }
    }
}
