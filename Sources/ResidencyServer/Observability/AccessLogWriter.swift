import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Writes access-log lines to a file descriptor, gathered: request threads append to a buffer, and a writer
/// thread hands it to the kernel within `flushInterval` (or at once past `batchBytes`), in one `write` for many
/// lines. A `write` a request had been a tenth of a placement's CPU time; nginx's `access_log … buffer= flush=`
/// makes the same trade. Lines are whole and never interleave: one writer at a time. `flush()` empties the
/// buffer (shutdown calls it), so only a SIGKILL can lose lines — at most one interval's worth; the ledger, not
/// this log, is the durable record.
public final class AccessLogWriter: Sendable {
    public let descriptor: Int32
    private let flushInterval: Double
    private let batchBytes: Int
    /// Lines not yet written; `condition` wakes the writer thread when the first one arrives.
    private let pending = Mutex<[UInt8]>([])
    private let condition = NSCondition()
    /// Held while writing, so two batches never interleave (a pipe splits writes over PIPE_BUF).
    private let writing = Mutex<Void>(())

    public init(descriptor: Int32 = 1, flushInterval: Double = 0.02, batchBytes: Int = 64 * 1024) {
        self.descriptor = descriptor
        self.flushInterval = flushInterval
        self.batchBytes = batchBytes
        let thread = Thread { [self] in drain() }
        thread.name = "residency-access-log"
        thread.start()
    }

    public func write(_ line: String) {
        let (wasEmpty, full) = pending.withLock { buffer -> (Bool, Bool) in
            let wasEmpty = buffer.isEmpty
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            return (wasEmpty, buffer.count >= batchBytes)
        }
        if full {
            flush()  // a burst: the request thread writes, which also bounds the buffer
        } else if wasEmpty {
            condition.lock()
            condition.signal()
            condition.unlock()
        }
    }

    /// Writes every pending line now.
    public func flush() {
        writing.withLock { _ in
            let batch = pending.withLock { buffer -> [UInt8] in
                defer { buffer.removeAll(keepingCapacity: true) }
                return buffer
            }
            Self.writeAll(batch, to: descriptor)
        }
    }

    private func drain() {
        while true {
            condition.lock()
            while pending.withLock({ $0.isEmpty }) { _ = condition.wait(until: Date().addingTimeInterval(1)) }
            condition.unlock()
            // Let the batch grow for one interval, then write it.
            Thread.sleep(forTimeInterval: flushInterval)
            flush()
        }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                return  // a full disk or closed pipe must not take the server down with it
            }
            offset += written
        }
    }
}
