import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes what a command produced to the path a user gave with `--output`, without ever replacing something that
/// is not a file of theirs.
///
/// - A new path, or an existing regular file: the text goes to a temporary file beside it, is synced, and is
///   renamed over the path — a reader sees the old content or the new, never half of it; an existing file keeps
///   its mode.
/// - A FIFO or a character device (`/dev/null`, `/dev/stdout`, a pipe from `mkfifo`): written through. Renaming a
///   file over it would replace the device for every user of the machine (run as root, `--output /dev/null`
///   once turned `/dev/null` into a regular file).
/// - A symbolic link, a directory, a socket or a block device: refused, naming what it is; a link is never
///   swapped for a file (give its target instead).
enum OutputFile {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    enum Disposition: Equatable {
        /// Written beside and renamed over the path; `mode` is the existing file's, kept.
        case replace(mode: mode_t?)
        case writeThrough
    }

    static func write(_ text: String, to path: String) throws {
        try write(to: path) { emit in try emit(Array(text.utf8)) }
    }

    /// The same for output produced in pieces: `produce` hands each piece to the function it is given, which
    /// writes it straight to the file (a report of any length is never held whole). Should `produce` throw,
    /// a replaced file is left as it was.
    static func write(to path: String, _ produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void) throws {
        switch try disposition(of: path) {
        case .replace(let mode): try replace(path, mode: mode, produce)
        case .writeThrough: try writeThrough(path, produce)
        }
    }

    /// What writing to `path` would do, or why it is refused.
    static func disposition(of path: String) throws -> Disposition {
        var status = stat()
        if lstat(path, &status) != 0 {
            guard errno == ENOENT else { throw Refusal(description: "--output \(path): \(Self.reason(errno))") }
            return .replace(mode: nil)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            return .replace(mode: status.st_mode & 0o7777)
        case S_IFIFO, S_IFCHR:
            return .writeThrough
        case S_IFLNK:
            let target = (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "?"
            throw Refusal(
                description:
                    "--output \(path) is a symbolic link (to \(target)); it is not replaced: give the path of a regular file, a new path, or the link's target"
            )
        case S_IFDIR:
            throw Refusal(
                description: "--output \(path) is a directory; accepted: the path of a file to write (new or existing)")
        default:
            throw Refusal(
                description:
                    "--output \(path) is a socket or block device; accepted: a regular file, a new path, a FIFO or a character device such as /dev/null"
            )
        }
    }

    /// Temporary file in the same directory (so the rename stays on one file system), synced, renamed over `path`.
    private static func replace(
        _ path: String, mode: mode_t?, _ produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void
    ) throws {
        let url = URL(fileURLWithPath: path)
        let directory = url.deletingLastPathComponent().path
        let temporary = url.deletingLastPathComponent()
            .appendingPathComponent(".\(url.lastPathComponent).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp").path
        // O_EXCL | O_NOFOLLOW: never opens something another user placed at the temporary name.
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o666)
        guard descriptor >= 0 else {
            let reason = errno == ENOENT ? "the directory \(directory) does not exist" : Self.reason(errno)
            throw Refusal(description: "--output \(path): cannot create a file there: \(reason)")
        }
        var published = false
        defer {
            if !published { unlink(temporary) }
        }
        do {
            try produce { try writeAll(descriptor, $0, path: path) }
            if let mode { fchmod(descriptor, mode) }
            guard fsync(descriptor) == 0 else {
                throw Refusal(description: "--output \(path): \(Self.reason(errno))")
            }
        } catch {
            close(descriptor)
            throw error
        }
        close(descriptor)
        guard rename(temporary, path) == 0 else {
            throw Refusal(description: "--output \(path): cannot rename into place: \(Self.reason(errno))")
        }
        published = true
        let directoryDescriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
    }

    private static func writeThrough(
        _ path: String, _ produce: (_ emit: ([UInt8]) throws -> Void) throws -> Void
    ) throws {
        // No O_CREAT, no O_TRUNC: the device or FIFO stays what it is.
        let descriptor = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { throw Refusal(description: "--output \(path): \(Self.reason(errno))") }
        defer { close(descriptor) }
        try produce { try writeAll(descriptor, $0, path: path) }
    }

    private static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 {
                if errno == EINTR { continue }
                throw Refusal(description: "--output \(path): cannot write: \(Self.reason(errno))")
            }
            offset += written
        }
    }

    private static func reason(_ code: Int32) -> String { String(cString: strerror(code)) }
}
