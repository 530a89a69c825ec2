/// One thing wrong with a configuration file: which file, where in it, and what to write instead.
package struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file as the user would name it (relative to the working directory when possible).
    package let file: String
    /// A JSON path such as `$.sites[1].latitude`, or `-` when the problem concerns the whole file.
    package let path: String
    package let message: String

    package init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    package var description: String { "\(file): \(path): \(message)" }
}

/// Every problem found while loading configuration, so a user fixes them in one pass instead of one per run.
package struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    package let problems: [ConfigurationProblem]

    package init(problems: [ConfigurationProblem]) { self.problems = problems }

    package var description: String {
        if problems.count == 1 { return problems[0].description }
        return "\(problems.count) problems:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems while a loader walks its files; local to one load, never shared between threads.
package final class ProblemCollector {
    package private(set) var problems: [ConfigurationProblem] = []

    package init() {}

    package func report(file: String, path: String, _ message: String) {
        problems.append(ConfigurationProblem(file: file, path: path, message: message))
    }

    /// Throws everything collected so far, if anything was.
    package func throwIfAny() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}
