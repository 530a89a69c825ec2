/// One thing wrong with a configuration file: which file, where in it, and what to write instead.
public struct ConfigurationProblem: Sendable, Equatable, CustomStringConvertible {
    /// The file as the user would name it (relative to the working directory when possible).
    public let file: String
    /// A JSON path such as `$.sites[1].latitude`, or `-` when the problem concerns the whole file.
    public let path: String
    public let message: String

    public init(file: String, path: String, message: String) {
        self.file = file
        self.path = path
        self.message = message
    }

    public var description: String { "\(file): \(path): \(message)" }
}

/// Every problem found while loading configuration, so a user fixes them in one pass instead of one per run.
public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
    public let problems: [ConfigurationProblem]

    public init(problems: [ConfigurationProblem]) { self.problems = problems }

    public var description: String {
        if problems.count == 1 { return problems[0].description }
        return "\(problems.count) problems:\n" + problems.map { "  \($0)" }.joined(separator: "\n")
    }
}

/// Collects problems while a loader walks its files; local to one load, never shared between threads.
public final class ProblemCollector {
    public private(set) var problems: [ConfigurationProblem] = []

    public init() {}

    public func report(file: String, path: String, _ message: String) {
        problems.append(ConfigurationProblem(file: file, path: path, message: message))
    }

    /// Throws everything collected so far, if anything was.
    public func throwIfAny() throws(ConfigurationError) {
        if !problems.isEmpty { throw ConfigurationError(problems: problems) }
    }
}
