import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An open file read at offsets (`pread`), closed when the last holder lets go: a streamed transfer keeps the
/// bytes it started on even if the file's name is removed meanwhile.
///
/// `@unchecked Sendable`: the descriptor never changes after `init`, and `pread` takes its offset as an
/// argument, so readers on any thread do not disturb each other.
package final class ReadOnlyFile: @unchecked Sendable {
    private let descriptor: Int32

    /// Takes ownership of `descriptor` (opened for reading).
    package init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Up to `count` bytes from `offset`; fewer only at the end of the file.
    package func read(at offset: Int64, count: Int, path: String) throws -> [UInt8] {
        try Self.read(descriptor, at: offset, count: count, path: path)
    }

    /// Up to `count` bytes of `descriptor` from `offset`; fewer only at the end of the file.
    static func read(_ descriptor: Int32, at offset: Int64, count: Int, path: String) throws -> [UInt8] {
        var failure: Int32 = 0
        // Uninitialized: the bytes are written by pread before anyone reads them (no zero-filling pass first).
        let bytes = [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var filled = 0
            while filled < count {
                let read = pread(descriptor, buffer.baseAddress! + filled, count - filled, off_t(offset) + off_t(filled))
                if read < 0, errno == EINTR { continue }
                guard read >= 0 else {
                    failure = errno
                    break
                }
                if read == 0 { break }
                filled += read
            }
            initialized = filled
        }
        guard failure == 0 else {
            throw TenantDataError.io("cannot read \(path): \(String(cString: strerror(failure)))")
        }
        return bytes
    }
}
