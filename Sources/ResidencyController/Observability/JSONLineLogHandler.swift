import ResidencyCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes each record as one JSON line (`time`, `level`, `label`, `message`, then the metadata) to a file
/// descriptor, standard error by default.
///
/// Writing never blocks: a line is written only when `poll` says the descriptor takes it now (a line of at most
/// PIPE_BUF bytes then goes whole), else it is dropped and counted. A standard error that nobody reads must not
/// stall a request thread or the periodic work.
package final class JSONLineLogHandler: LogHandler {
    private let descriptor: Int32
    private let minimumLevel: LogLevel
    private let droppedLines = Atomic<Int>(0)

    package init(descriptor: Int32 = 2, minimumLevel: LogLevel = .info) {
        self.descriptor = descriptor
        self.minimumLevel = minimumLevel
    }

    /// Lines not written because the descriptor would have blocked (or they were longer than PIPE_BUF).
    package var dropped: Int { droppedLines.load(ordering: .relaxed) }

    package func log(_ record: LogRecord) {
        guard record.level >= minimumLevel else { return }
        let line = Self.line(for: record)
        var probe = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let bytes = Array(line.utf8)
        guard bytes.count <= Int(PIPE_BUF), poll(&probe, 1, 0) == 1, probe.revents & Int16(POLLOUT) != 0,
            bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count
        else {
            droppedLines.add(1, ordering: .relaxed)
            return
        }
    }

    /// The line for a record, newline included. Metadata values are cut at 2 KiB so a line stays whole.
    static func line(for record: LogRecord) -> String {
        var members: [(key: String, value: JSONValue)] = [
            ("time", .string(Timestamp.rfc3339(milliseconds: record.time))), ("level", .string(record.level.rawValue)),
            ("label", .string(record.label)), ("message", .string(record.message)),
        ]
        members += record.metadata.map { ($0.key, .string(String($0.value.prefix(2048)))) }
        return JSONValue.object(members).encoded() + "\n"
    }
}
