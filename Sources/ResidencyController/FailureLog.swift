import Foundation
import ResidencyCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Failures of background and best-effort work that no caller is waiting to hear about (a refused call that
/// could not be recorded, a summary that could not be written): counted, the latest kept for `/readyz`, and
/// written to standard error as one JSON line each — never swallowed.
///
/// Writing never blocks: a line is written only when `poll` says standard error takes it now (a line of at most
/// PIPE_BUF bytes then goes whole), else it is dropped and counted. A stderr that nobody reads must not stall a
/// request thread.
public final class FailureLog: Sendable {
    public struct Failure: Sendable {
        public let time: Int64
        public let what: String
        public let error: String
    }

    private let state = Mutex<(count: Int, latest: [Failure])>((0, []))
    private let droppedLines = Atomic<Int>(0)
    private let descriptor: Int32

    public init(descriptor: Int32 = 2) { self.descriptor = descriptor }

    /// Failures reported since start.
    public var count: Int { state.withLock { $0.count } }
    /// The ten most recent, oldest first.
    public var latest: [Failure] { state.withLock { $0.latest } }
    /// Lines not written because standard error would have blocked.
    public var dropped: Int { droppedLines.load(ordering: .relaxed) }

    public func report(_ what: String, _ error: any Error, at time: Int64) {
        let failure = Failure(time: time, what: what, error: String(describing: error))
        state.withLock { state in
            state.count += 1
            state.latest.append(failure)
            if state.latest.count > 10 { state.latest.removeFirst() }
        }
        var line = JSONValue.object([
            ("time", .string(Timestamp.rfc3339(milliseconds: time))), ("level", .string("error")),
            ("what", .string(what)), ("error", .string(String(failure.error.prefix(2048)))),
        ]).encoded()
        line += "\n"
        var probe = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
        let bytes = Array(line.utf8)
        guard bytes.count <= Int(PIPE_BUF), poll(&probe, 1, 0) == 1, probe.revents & Int16(POLLOUT) != 0,
            bytes.withUnsafeBytes({ write(descriptor, $0.baseAddress, $0.count) }) == bytes.count
        else {
            droppedLines.add(1, ordering: .relaxed)
            return
        }
    }
}
