import CLinux
import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file received as a stream of pieces (a migration's snapshot pulled from a peer service): each piece is
/// appended as it arrives and hashed by a second thread that reads the written bytes back from the page cache
/// a little behind the writer — so the SHA-256 of the whole file costs no second pass after the transfer, and
/// no time on the receiving thread, which decrypts and writes (measured: one thread doing all three was the
/// transfer's bottleneck, a hash taking a third of its time). The disk is told to start writing every few
/// megabytes, so the final fsync waits for the last few only instead of for the whole file. Opening an existing
/// file resumes it: the hashing thread starts from its first byte.
///
/// Used by one thread at a time (the hashing thread is its own, inside).
package final class ReceivedFile {
    package let path: String
    /// Bytes in the file so far.
    package private(set) var length: Int64
    private let descriptor: Int32
    private var hasher: BackgroundFileHasher
    /// Where the write-back not yet started begins.
    private var unstarted: Int64

    /// Write-back is started once this many bytes have been appended since the last start.
    static let writebackStride: Int64 = 32 << 20

    /// Opens (creating, mode 0600) `path` to append to it; what it already holds is hashed first.
    package init(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw TenantDataError.io("cannot read the size of \(path): \(reason)")
        }
        let hasher: BackgroundFileHasher
        do {
            hasher = try BackgroundFileHasher(path: path, available: Int64(status.st_size))
        } catch {
            close(descriptor)
            throw error
        }
        self.path = path
        self.descriptor = descriptor
        self.hasher = hasher
        length = Int64(status.st_size)
        unstarted = length
    }

    deinit {
        hasher.abandon()
        close(descriptor)
    }

    /// Empties the file (a partial one that belongs to another snapshot) and the hash with it.
    package func truncate() throws {
        guard ftruncate(descriptor, 0) == 0 else {
            throw TenantDataError.io("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        hasher.abandon()
        hasher = try BackgroundFileHasher(path: path, available: 0)
        length = 0
        unstarted = 0
    }

    /// Appends `bytes`; the hashing thread takes them from the file.
    package func append(_ bytes: UnsafeRawBufferPointer) throws {
        var written = 0
        while written < bytes.count {
            let count = pwrite(descriptor, bytes.baseAddress! + written, bytes.count - written, off_t(length))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                throw TenantDataError.io("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            written += count
            length += Int64(count)
        }
        hasher.advance(to: length)
        if length - unstarted >= Self.writebackStride {
            // Advice only: a failure here leaves the whole write-back to the fsync in `finish`.
            _ = residency_start_writeback(descriptor, unstarted, length - unstarted)
            unstarted = length
        }
    }

    /// Syncs the file to disk; answers the SHA-256 (hex) of its whole content.
    package func finish() throws -> String {
        guard fsync(descriptor) == 0 else {
            throw TenantDataError.io("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
        return try hasher.finish(at: length)
    }
}

/// Hashes a file's bytes from its start, on a thread of its own, as far as its writer says they are written:
/// the writer calls `advance(to:)` after each write and `finish(at:)` for the digest of the whole. Reads 1 MiB
/// at a time from its own descriptor (the page cache, as the bytes were just written), so its memory is bounded
/// whatever the file's size.
final class BackgroundFileHasher: @unchecked Sendable {
    private let path: String
    private let descriptor: Int32
    /// Updated by the thread only while `hashed < available`; finished by the writer once the thread has
    /// reached the end and can touch it no more.
    private let hasher = SHA256Stream()
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var available: Int64
    private var hashed: Int64 = 0
    private var stopped = false
    private var failure: TenantDataError?

    init(path: String, available: Int64) throws {
        self.path = path
        self.available = available
        descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        let thread = Thread { [self] in run() }
        thread.name = "residency-hash"
        thread.start()
    }

    deinit { close(descriptor) }

    /// The writer: bytes up to `length` are in the file.
    func advance(to length: Int64) {
        condition.lock()
        available = length
        condition.unlock()
        condition.signal()
    }

    /// The writer is done at `length` bytes: waits for the hash to reach them and answers it (hex).
    func finish(at length: Int64) throws -> String {
        advance(to: length)
        condition.lock()
        defer { condition.unlock() }
        while hashed < length && failure == nil { condition.wait() }
        stopped = true
        condition.broadcast()
        if let failure { throw failure }
        return hasher.finish().hex
    }

    /// The writer gave up: the thread ends.
    func abandon() {
        condition.lock()
        stopped = true
        condition.unlock()
        condition.broadcast()
    }

    private func run() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var position: Int64 = 0
        while true {
            condition.lock()
            while position >= available && !stopped { condition.wait() }
            let end = available
            let stop = stopped
            condition.unlock()
            if stop { return }
            let count = pread(
                descriptor, buffer.baseAddress, Int(min(Int64(buffer.count), end - position)), off_t(position))
            if count < 0, errno == EINTR { continue }
            guard count > 0 else {
                let reason = count < 0 ? String(cString: strerror(errno)) : "it ends at \(position) bytes"
                condition.lock()
                failure = .io("cannot read \(path) back to hash it: \(reason)")
                condition.unlock()
                condition.broadcast()
                return
            }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            position += Int64(count)
            condition.lock()
            hashed = position
            condition.unlock()
            condition.broadcast()
        }
    }
}

/// The SHA-256 of a file's bytes, read in large pieces (no SQLite, no row order): what both sides of a move
/// compute over the snapshot that travels, to show the target holds the very bytes the source sent.
package enum FileDigest {
    package static func sha256(of path: String) throws -> String {
        let hasher = SHA256Stream()
        _ = try feed(path: path, to: hasher)
        return hasher.finish().hex
    }

    /// Hashes the file at `path` from its start to its end; answers its length.
    static func feed(path: String, to hasher: SHA256Stream) throws -> Int64 {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        return try feed(descriptor, path: path, to: hasher)
    }

    /// Hashes the file from its start to its end; answers its length.
    static func feed(_ descriptor: Int32, path: String, to hasher: SHA256Stream) throws -> Int64 {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { buffer.deallocate() }
        var offset: Int64 = 0
        while true {
            let count = pread(descriptor, buffer.baseAddress, buffer.count, off_t(offset))
            if count < 0, errno == EINTR { continue }
            guard count >= 0 else {
                throw TenantDataError.io("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { return offset }
            hasher.update(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
            offset += Int64(count)
        }
    }
}
