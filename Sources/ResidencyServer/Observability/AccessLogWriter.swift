#if canImport(Glibc)
    import Glibc
#endif

/// Writes access-log lines to a file descriptor with one `writev(2)` each: no lock and no buffering, and
/// lines under PIPE_BUF bytes are not interleaved even when many threads log at once.
public struct AccessLogWriter: Sendable {
    public let descriptor: Int32

    public init(descriptor: Int32 = 1) { self.descriptor = descriptor }

    public func write(_ line: String) {
        var line = line
        line.withUTF8 { text in
            // The line and its newline in one writev: one system call, no copy.
            var newline: UInt8 = 0x0A
            withUnsafeMutablePointer(to: &newline) { newline in
                var vectors = [
                    iovec(iov_base: UnsafeMutableRawPointer(mutating: text.baseAddress), iov_len: text.count),
                    iovec(iov_base: UnsafeMutableRawPointer(newline), iov_len: 1),
                ]
                var remaining = text.count + 1
                while remaining > 0 {
                    let written = writev(descriptor, &vectors, Int32(vectors.count))
                    if written < 0 {
                        if errno == EINTR { continue }
                        return  // a full disk or closed pipe must not take the server down with it
                    }
                    remaining -= written
                    // A short write (a pipe near full): skip what went out and write the rest.
                    var skip = written
                    for index in vectors.indices {
                        let taken = min(skip, vectors[index].iov_len)
                        vectors[index].iov_base = vectors[index].iov_base.map { $0 + taken }
                        vectors[index].iov_len -= taken
                        skip -= taken
                    }
                }
            }
        }
    }
}
