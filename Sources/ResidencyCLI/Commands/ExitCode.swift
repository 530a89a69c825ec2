/// The exit statuses every command uses.
package enum ExitCode {
    package static let success: Int32 = 0
    /// The command ran and the answer is "no" or something failed.
    package static let failure: Int32 = 1
    /// The command line itself was wrong (sysexits.h EX_USAGE).
    package static let usage: Int32 = 64
}

/// A failure to report as `Error: …` with exit status 1.
struct CommandFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
