import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes access-log lines to a file descriptor without ever blocking the thread that logs.
///
/// Request threads — event loops and handlers — append to a bounded buffer and return; one writer thread hands
/// the buffer to the kernel within `flushInterval`, in one `write` for many lines (a `write` a request had been
/// a tenth of a placement's CPU time; nginx's `access_log … buffer= flush=` makes the same trade). Only that
/// thread ever calls write(2), so a reader that stops reading — standard output a pipe nobody drains — stalls
/// the log and nothing else: once `capacity` bytes wait, further lines are dropped and counted
/// (`droppedLines`, exposed as `residency_log_lines_dropped_total`). When a request thread wrote a full batch
/// itself, such a pipe stopped every event loop after a few hundred requests, health checks included.
///
/// Lines are whole and never interleave. `flush(timeout:)` (shutdown) waits for what is buffered, but only so
/// long: a stuck reader cannot hold the process. A SIGKILL loses at most one interval's worth; the ledger, not
/// this log, is the durable record.
package final class AccessLogWriter: Sendable {
    package let descriptor: Int32
    /// Most bytes waiting to be written; past it lines are dropped.
    package let capacity: Int
    private let flushInterval: Double

    private struct State {
        var pending: [UInt8] = []
        var droppedLines = 0
        /// Bytes accepted and bytes written (or lost to a write error) since the start; `flush` waits for the one
        /// to reach the other.
        var accepted = 0
        var written = 0
        var flushRequested = false
    }

    private let state = Mutex(State())
    /// Wakes the writer thread when a first line arrives (or a flush is asked for).
    private let wake = NSCondition()

    package init(descriptor: Int32 = 1, flushInterval: Double = 0.02, capacity: Int = 1 << 20) {
        self.descriptor = descriptor
        self.flushInterval = flushInterval
        self.capacity = capacity
        // A log reader that goes away must not take the server with it: write(2) then fails with EPIPE.
        signal(SIGPIPE, SIG_IGN)
        let thread = Thread { [self] in drain() }
        thread.name = "residency-access-log"
        thread.start()
    }

    /// Lines dropped because `capacity` bytes were already waiting.
    package var droppedLines: Int { state.withLock { $0.droppedLines } }

    /// Bytes waiting to be written (at most `capacity`).
    var bufferedBytes: Int { state.withLock { $0.pending.count } }

    /// Queues one line; never blocks on the descriptor.
    package func write(_ line: String) { write(Array(line.utf8)) }

    /// Queues one line of UTF-8 (without its newline); never blocks on the descriptor.
    package func write(_ line: [UInt8]) { line.withUnsafeBytes { write($0) } }

    /// Queues one line of UTF-8 (without its newline) from where it lies; never blocks on the descriptor. The
    /// bytes are copied before this returns: the hot path lends its buffer for the call only (the API's access-log
    /// closure), and any other receiver of that closure must copy them the same way.
    package func write(_ line: UnsafeRawBufferPointer) {
        let wasEmpty = state.withLock { state -> Bool? in
            let size = line.count + 1
            guard state.pending.count + size <= capacity else {
                state.droppedLines += 1
                return nil
            }
            let wasEmpty = state.pending.isEmpty
            state.pending.append(contentsOf: line)
            state.pending.append(0x0A)
            state.accepted += size
            return wasEmpty
        }
        if wasEmpty == true { signalWriter() }
    }

    /// Waits until every line queued before the call is written, or `timeout` seconds; false on timeout.
    @discardableResult
    package func flush(timeout: Double = 5) -> Bool {
        let target = state.withLock { state -> Int in
            state.flushRequested = true
            return state.accepted
        }
        signalWriter()
        let deadline = Date().addingTimeInterval(timeout)
        while state.withLock({ $0.written < target }) {
            guard Date() < deadline else { return false }
            usleep(2_000)
        }
        return true
    }

    private func signalWriter() {
        wake.lock()
        wake.signal()
        wake.unlock()
    }

    /// The writer thread: waits for lines, lets a batch gather for one interval (unless a flush waits), swaps
    /// the buffer for an empty one and writes it.
    private func drain() {
        var batch: [UInt8] = []
        while true {
            wake.lock()
            while state.withLock({ $0.pending.isEmpty && !$0.flushRequested }) {
                _ = wake.wait(until: Date().addingTimeInterval(1))
            }
            wake.unlock()
            if !state.withLock({ $0.flushRequested }) { Thread.sleep(forTimeInterval: flushInterval) }
            state.withLock { state in
                swap(&state.pending, &batch)
                state.flushRequested = false
            }
            Self.writeAll(batch, to: descriptor)
            let count = batch.count
            state.withLock { $0.written += count }
            batch.removeAll(keepingCapacity: true)
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                if errno == EAGAIN || errno == EWOULDBLOCK {
                    // A non-blocking descriptor (inherited that way): wait for room here, on this thread only.
                    var ready = pollfd(fd: descriptor, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&ready, 1, 100)
                    continue
                }
                return  // a full disk or closed pipe must not take the server down with it
            }
            offset += written
        }
    }
}
