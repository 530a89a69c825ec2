import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Files and directories of the data directory are its owner's alone: they hold tenant names, signup
/// addresses, token hashes and access requests. SQLite creates a database with 0644 (less the umask), and
/// makes its WAL and shared-memory files with the database file's mode, so the database file is created
/// 0600 before SQLite opens it.
///
/// Existing files are never opened here: closing any descriptor of a file drops every POSIX lock the process
/// holds on it, including SQLite's locks of its other connections. Modes are changed by path (`chmod`).
enum PrivateFiles {
    /// Creates `path` with mode 0600 when it does not exist yet (`O_EXCL`: a file that exists is left alone),
    /// and takes group and other bits off an existing one and its WAL, shared-memory and journal files (left by
    /// an older version).
    static func prepare(_ path: String) {
        guard path != ":memory:", !path.hasPrefix("file:") else { return }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        for file in [path, path + "-wal", path + "-shm", path + "-journal"] { restrict(file) }
    }

    private static func restrict(_ path: String) {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, status.st_mode & 0o077 != 0,
            status.st_uid == geteuid()
        else { return }
        chmod(path, status.st_mode & 0o700)
    }

    /// Refuses a directory that other users may read, write or enter: whatever is created in it afterwards
    /// would be within their reach, whatever its own mode.
    static func checkDirectory(_ path: String) throws(StoreError) {
        var status = stat()
        guard stat(path, &status) == 0 else { return }
        let mode = status.st_mode & 0o777
        if mode & 0o077 != 0 {
            throw StoreError.directoryOpenToOthers(path: path, mode: String(mode, radix: 8))
        }
    }
}
