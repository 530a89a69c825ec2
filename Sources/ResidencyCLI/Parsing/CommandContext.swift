import Foundation
import ResidencyController

/// What a command may touch besides its arguments: its output streams, standard input, and where it
/// looks for files. Tests replace each of these.
package struct CommandContext: Sendable {
    package let standardOutput: @Sendable (String) -> Void
    package let standardError: @Sendable (String) -> Void
    /// Reads standard input one line at a time; nil at the end.
    package let readLine: @Sendable () -> String?
    /// Reads standard input in blocks: fills what it can of the buffer and answers how many bytes, 0 at the
    /// end. Nil where standard input comes only as lines; bulk readers (`geo lookup -`) then use `readLine`.
    package let readInput: (@Sendable (UnsafeMutableRawBufferPointer) -> Int)?
    /// Writes bytes to standard output as they are; callers hand it whole lines of UTF-8.
    package let writeOutput: @Sendable (UnsafeRawBufferPointer) -> Void
    package let locator: ResourceLocator
    /// Standard output is a terminal: progress is drawn as a bar rather than written as JSON lines.
    package let isTerminal: Bool
    /// Controllers the command opened: before the command returns, each signs (and publishes) a checkpoint of
    /// what it wrote, so no entry a command line wrote is left without a signed checkpoint.
    let opened = OpenedControllers()

    package init(
        standardOutput: @escaping @Sendable (String) -> Void, standardError: @escaping @Sendable (String) -> Void,
        readLine: @escaping @Sendable () -> String? = { nil }, locator: ResourceLocator, isTerminal: Bool = false,
        readInput: (@Sendable (UnsafeMutableRawBufferPointer) -> Int)? = nil,
        writeOutput: (@Sendable (UnsafeRawBufferPointer) -> Void)? = nil
    ) {
        self.isTerminal = isTerminal
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.readLine = readLine
        self.locator = locator
        self.readInput = readInput
        self.writeOutput = writeOutput ?? { standardOutput(String(decoding: $0, as: UTF8.self)) }
    }

    /// The process's own streams.
    package static var process: CommandContext {
        CommandContext(
            standardOutput: { FileHandle.standardOutput.write(Data($0.utf8)) },
            standardError: { FileHandle.standardError.write(Data($0.utf8)) },
            readLine: { Swift.readLine(strippingNewline: true) },
            locator: ResourceLocator(), isTerminal: isatty(1) == 1,
            readInput: { buffer in
                while true {
                    let count = read(0, buffer.baseAddress, buffer.count)
                    if count >= 0 { return count }
                    if errno != EINTR { return 0 }
                }
            },
            writeOutput: { bytes in
                var offset = 0
                while offset < bytes.count {
                    let count = write(1, bytes.baseAddress! + offset, bytes.count - offset)
                    if count > 0 {
                        offset += count
                    } else if count < 0 && errno != EINTR {
                        return
                    }
                }
            })
    }

    package func print(_ line: String) { standardOutput(line + "\n") }

    package func printError(_ line: String) { standardError(line + "\n") }
}
