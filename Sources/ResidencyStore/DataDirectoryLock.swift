import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// An exclusive lock on a data directory, held by the server for its lifetime so a second server on the
/// same directory is refused: two servers would both sign checkpoints and race on the region counts.
/// `flock` is released by the kernel when the process dies, so a crash never leaves a stale lock.
package final class DataDirectoryLock: Sendable {
    package static let fileName = "server.lock"
    private let descriptor: Int32

    package init(directory: DataDirectory) throws {
        try directory.create()
        let path = directory.url.appendingPathComponent(Self.fileName).path
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError.cannotCreateDirectory(path: path, reason: String(cString: strerror(errno)))
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            var holder = [UInt8](repeating: 0, count: 32)
            let count = read(descriptor, &holder, holder.count)
            close(descriptor)
            let pid =
                count > 0
                ? String(decoding: holder.prefix(count), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                : "?"
            throw StoreError.directoryInUse(path: directory.url.path, pid: pid)
        }
        ftruncate(descriptor, 0)
        let text = Array("\(getpid())\n".utf8)
        _ = text.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }
}
