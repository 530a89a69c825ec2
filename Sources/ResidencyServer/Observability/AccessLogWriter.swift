#if canImport(Glibc)
    import Glibc
#endif

/// Writes access-log lines to a file descriptor with one `write(2)` each: no lock and no buffering, and
/// lines under PIPE_BUF bytes are not interleaved even when many threads log at once.
public struct AccessLogWriter: Sendable {
    public let descriptor: Int32

    public init(descriptor: Int32 = 1) { self.descriptor = descriptor }

    public func write(_ line: String) {
        var bytes = Array(line.utf8)
        bytes.append(0x0A)
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
