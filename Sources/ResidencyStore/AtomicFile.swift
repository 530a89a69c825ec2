import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A small file replaced whole or not at all: written to a temporary beside it (0600), fsync'd, renamed over
/// the old one, and the directory fsync'd — so a crash leaves the old contents or the new, never a mix.
package enum AtomicFile {
    package static func write(_ bytes: [UInt8], to url: URL) throws {
        let temporary = url.path + ".tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw StoreError.io("cannot write \(temporary): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw StoreError.io("cannot write \(temporary): \(String(cString: strerror(errno)))")
        }
        guard rename(temporary, url.path) == 0 else {
            throw StoreError.io("cannot rename \(temporary) into place: \(String(cString: strerror(errno)))")
        }
        let directory = open(url.deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }
}
