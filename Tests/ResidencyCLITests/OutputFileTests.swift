import Foundation
import Testing

@testable import ResidencyCLI

#if canImport(Glibc)
    import Glibc
#endif

/// `--output` writes a file of the user's, or through a FIFO or device, and never replaces anything else:
/// as root, `--output /dev/null` once turned the machine's /dev/null into a regular file.
@Suite struct OutputFileTests {
    final class Scratch {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-out-\(UUID())")
        init() throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            // The report only reads: its data directory must exist (it is not created for it).
            try FileManager.default.createDirectory(
                at: directory.appendingPathComponent("data"), withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o700])
        }
        deinit { try? FileManager.default.removeItem(at: directory) }
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        var data: String { path("data") }
    }

    static func kind(_ path: String) -> mode_t {
        var status = stat()
        return lstat(path, &status) == 0 ? status.st_mode & S_IFMT : 0
    }

    static func report(_ output: String, _ scratch: Scratch) -> CLIRun {
        CLIRun.run(["report", "residency-map", "--format", "csv", "--output", output, "--data", scratch.data])
    }

    @Test func aNewFileAndAnExistingOneAreWrittenWholeKeepingTheMode() throws {
        let scratch = try Scratch()
        let target = scratch.path("map.csv")
        let first = Self.report(target, scratch)
        #expect(first.status == 0, "\(first.error)")
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("region"))
        chmod(target, 0o640)
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        #expect(Self.report(target, scratch).status == 0)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("region"))
        var status = stat()
        stat(target, &status)
        #expect(status.st_mode & 0o777 == 0o640)
        // No temporary file is left beside it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.directory.path).sorted() == ["data", "map.csv"])
    }

    @Test func aSymbolicLinkIsRefusedAndStaysALink() throws {
        let scratch = try Scratch()
        let victim = scratch.path("victim")
        try "keep".write(toFile: victim, atomically: false, encoding: .utf8)
        let link = scratch.path("link.csv")
        #expect(symlink(victim, link) == 0)
        let run = Self.report(link, scratch)
        #expect(run.status == 1)
        #expect(run.error.contains("is a symbolic link"), "\(run.error)")
        #expect(Self.kind(link) == S_IFLNK)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "keep")
    }

    @Test func aFIFOIsWrittenThroughNotReplaced() throws {
        let scratch = try Scratch()
        let fifo = scratch.path("pipe")
        #expect(mkfifo(fifo, 0o600) == 0)
        let received = ReceivedText()
        // A blocking open and read to end of file: the reader waits for the writer however the two are scheduled
        // (a reader that gives up before the writer opens would leave the writer waiting for ever).
        let reader = Thread {
            let descriptor = open(fifo, O_RDONLY | O_CLOEXEC)
            var bytes: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 65_536)
            while descriptor >= 0 {
                let count = read(descriptor, &buffer, buffer.count)
                if count <= 0 { break }
                bytes += buffer[0..<count]
            }
            if descriptor >= 0 { close(descriptor) }
            received.set(String(decoding: bytes, as: UTF8.self))
        }
        reader.start()
        let run = Self.report(fifo, scratch)
        #expect(run.status == 0, "\(run.error)")
        for _ in 0..<200 where received.get() == nil { usleep(50_000) }
        #expect(received.get()?.contains("region") == true)
        #expect(Self.kind(fifo) == S_IFIFO)
    }

    @Test func aDirectoryOrAMissingParentIsAClearError() throws {
        let scratch = try Scratch()
        let directory = Self.report(scratch.directory.path, scratch)
        #expect(directory.status == 1)
        #expect(directory.error.contains("is a directory"), "\(directory.error)")
        let missing = Self.report(scratch.path("no/such/dir/map.csv"), scratch)
        #expect(missing.status == 1)
        #expect(missing.error.contains("does not exist"), "\(missing.error)")
    }

    /// A character device is written through. The real write to /dev/null happens only once the decision says
    /// so, so a regression fails here instead of replacing the machine's /dev/null.
    @Test func devNullStaysADevice() throws {
        let scratch = try Scratch()
        #expect(Self.kind("/dev/null") == S_IFCHR)
        guard try OutputFile.disposition(of: "/dev/null") == .writeThrough else {
            Issue.record("/dev/null would be replaced")
            return
        }
        let run = Self.report("/dev/null", scratch)
        #expect(run.status == 0, "\(run.error)")
        #expect(Self.kind("/dev/null") == S_IFCHR)
    }

    final class ReceivedText: @unchecked Sendable {
        // Guarded by `lock`; written by the reader thread, read by the test.
        private let lock = NSLock()
        private var text: String?
        func set(_ value: String) { lock.withLock { text = value } }
        func get() -> String? { lock.withLock { text } }
    }
}
