import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A private key written once, exclusively, mode 0600, synced — so two processes racing at first start
/// cannot leave two different keys, and no other user ever reads it.
enum PrivateKeyFile {
    static func create(_ url: URL, contents: String) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else {
            throw WitnessError.storage("cannot create \(url.path): \(String(cString: strerror(errno)))")
        }
        let bytes = Array(contents.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw WitnessError.storage("cannot write \(url.path)") }
    }
}
