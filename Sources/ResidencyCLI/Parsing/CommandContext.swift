import Foundation
import ResidencyController

/// What a command may touch besides its arguments: its output streams, standard input, and where it
/// looks for files. Tests replace each of these.
public struct CommandContext: Sendable {
    public let standardOutput: @Sendable (String) -> Void
    public let standardError: @Sendable (String) -> Void
    /// Reads standard input one line at a time; nil at the end.
    public let readLine: @Sendable () -> String?
    public let locator: ResourceLocator
    /// Standard output is a terminal: progress is drawn as a bar rather than written as JSON lines.
    public let isTerminal: Bool
    /// Controllers the command opened: before the command returns, each signs (and publishes) a checkpoint of
    /// what it wrote, so no entry a command line wrote is left without a signed checkpoint.
    let opened = OpenedControllers()

    public init(
        standardOutput: @escaping @Sendable (String) -> Void, standardError: @escaping @Sendable (String) -> Void,
        readLine: @escaping @Sendable () -> String? = { nil }, locator: ResourceLocator, isTerminal: Bool = false
    ) {
        self.isTerminal = isTerminal
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.readLine = readLine
        self.locator = locator
    }

    /// The process's own streams.
    public static var process: CommandContext {
        CommandContext(
            standardOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
            standardError: { FileHandle.standardError.write(Data($0.utf8)) },
            readLine: { Swift.readLine(strippingNewline: true) },
            locator: ResourceLocator(), isTerminal: isatty(1) == 1)
    }

    public func print(_ line: String) { standardOutput(line + "\n") }

    public func printError(_ line: String) { standardError(line + "\n") }
}
