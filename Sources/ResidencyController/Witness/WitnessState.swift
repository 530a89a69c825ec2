import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// What a witness remembers of each log it follows: the size and root of the latest checkpoint it cosigned.
///
/// One small file per origin (`logs/<hex SHA-256 of the origin>`: origin, size, base64 root), replaced whole:
/// written to a temporary file, synced, renamed over the old one, and the directory synced — so after a crash
/// at any instant the file holds the old state or the new one, never a mix, and a state once answered is on
/// disk (the witness answers only after `save` returns).
struct WitnessState: Sendable {
    struct Head: Sendable, Equatable {
        let size: Int
        let root: SHA256Digest
    }

    let directory: URL

    init(directory: URL) throws {
        self.directory = directory.appendingPathComponent("logs")
        try FileManager.default.createDirectory(
            at: self.directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    private func file(_ origin: String) -> URL {
        directory.appendingPathComponent(SHA256.hash(Array(origin.utf8)).hex)
    }

    /// The latest cosigned head of `origin`, nil when the witness never cosigned one.
    func head(of origin: String) throws -> Head? {
        let url = file(origin)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        let lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 3, lines[0] == origin, let size = Int(lines[1]), size >= 0,
            let rootData = Data(base64Encoded: String(lines[2])), let root = SHA256Digest(bytes: Array(rootData))
        else {
            throw WitnessError.corruptState(url.path)
        }
        return Head(size: size, root: root)
    }

    func save(_ head: Head, of origin: String) throws {
        let url = file(origin)
        let temporary = url.path + ".tmp"
        let bytes = Array("\(origin)\n\(head.size)\n\(Data(head.root.bytes).base64EncodedString())\n".utf8)
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard descriptor >= 0 else { throw WitnessError.storage("cannot write \(temporary): \(Self.reason())") }
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else {
            unlink(temporary)
            throw WitnessError.storage("cannot write \(temporary): \(Self.reason())")
        }
        FaultPoint.hit("witness", "before-rename")
        guard rename(temporary, url.path) == 0 else {
            throw WitnessError.storage("cannot rename \(temporary) into place: \(Self.reason())")
        }
        let directoryDescriptor = open(directory.path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryDescriptor >= 0 {
            fsync(directoryDescriptor)
            close(directoryDescriptor)
        }
        FaultPoint.hit("witness", "after-rename")
    }

    private static func reason() -> String { String(cString: strerror(errno)) }
}

package enum WitnessError: Error, Sendable, CustomStringConvertible {
    case corruptState(String)
    case storage(String)

    package var description: String {
        switch self {
        case .corruptState(let path):
            return "the witness state \(path) is unreadable; it is never repaired silently (restore it or remove the log's state on purpose)"
        case .storage(let message): return message
        }
    }
}
