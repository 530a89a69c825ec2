import ResidencyController

/// The options `tenants create` and `place` share, read into the `SignupInput` the API reads its bodies into: the
/// same checks and the same messages, after the option's name instead of the body field's path.
enum SignupOptions {
    /// `tenants create`'s options: every field, the ones a signup needs required.
    static let signup: [OptionSpec] = SignupInput.Field.allCases.map { field in
        field.isRequiredForSignup
            ? .required(field.rawValue, field.rawValue, help(field))
            : .option(field.rawValue, field.rawValue, help(field))
    }

    /// `place`'s options: the fields of a placement question, all optional.
    static let placement: [OptionSpec] = SignupInput.placementFields.map {
        .option($0.rawValue, $0.rawValue, help($0))
    }

    static func help(_ field: SignupInput.Field) -> String { "\(field.meaning) Accepted: \(field.accepted)." }

    static func input(_ arguments: ParsedArguments) -> SignupInput {
        var input = SignupInput()
        for field in SignupInput.Field.allCases { input[field] = arguments.value(field.rawValue) }
        return input
    }

    /// `--country: "XX": is not an ISO 3166-1 alpha-2 country code; accepted: …`, one problem after another.
    static func usageError(_ problems: SignupInput.Problems) -> UsageError {
        UsageError(problems.problems.map { "--\($0.field.rawValue): \($0.message)" }.joined(separator: "; "))
    }
}
