import Foundation
import Testing

@testable import ResidencyStore

#if canImport(Glibc)
    import Glibc
#endif

/// The data directory holds tenant names, signup addresses, token hashes and access requests: its files are
/// the owner's alone whatever the umask, and a directory others can reach is refused with the fix named.
@Suite struct DataDirectoryPermissionTests {
    static func mode(_ path: String) -> mode_t {
        var status = stat()
        return stat(path, &status) == 0 ? status.st_mode & 0o777 : 0
    }

    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-perm-\(UUID().uuidString)")
    }

    @Test(arguments: [0o755, 0o750, 0o705, 0o770, 0o777, 0o701])
    func aDirectoryOthersCanReachIsRefused(mode: Int) throws {
        let url = Self.scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        chmod(url.path, mode_t(mode))
        #expect {
            _ = try DatabasePool(directory: DataDirectory(url))
        } throws: { error in
            let text = String(describing: error)
            return text.contains("has mode \(String(mode, radix: 8))") && text.contains("chmod 700 \(url.path)")
        }
        // Nothing was created in it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: url.path).isEmpty)
    }

    @Test func everyFileIsTheOwnersAloneWhateverTheUmask() throws {
        let url = Self.scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        let previous = umask(0o022)
        defer { umask(previous) }
        let pool = try DatabasePool(directory: DataDirectory(url))
        try pool.write { try $0.execute("CREATE TABLE probe (x INTEGER)") }
        #expect(Self.mode(url.path) == 0o700)
        let database = DataDirectory(url).databaseURL.path
        for path in [database, database + "-wal", database + "-shm"] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
            #expect(Self.mode(path) == 0o600, "\(path) has mode \(String(Self.mode(path), radix: 8))")
        }
        _ = pool
    }

    @Test func aLooseFileFromAnOlderVersionIsTightened() throws {
        let url = Self.scratch()
        defer { try? FileManager.default.removeItem(at: url) }
        try FileManager.default.createDirectory(
            at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = DataDirectory(url).databaseURL.path
        #expect(FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]))
        _ = try Database(path: path)
        #expect(Self.mode(path) == 0o600)
    }
}
