import CLinux
import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// A file received as a stream of pieces (a migration's snapshot pulled from a peer service): each piece is
/// appended and hashed as it arrives, so the SHA-256 of the whole file costs no second pass over it, and the
/// disk is told to start writing every few megabytes, so the final fsync waits for the last few only instead
/// of for the whole file. Opening an existing file resumes it: the bytes already there are hashed first.
///
/// Used by one thread at a time.
package final class ReceivedFile {
    package let path: String
    /// Bytes in the file so far.
    package private(set) var length: Int64
    private let descriptor: Int32
    private var hasher = SHA256Stream()
    /// Where the write-back not yet started begins.
    private var unstarted: Int64

    /// Write-back is started once this many bytes have been appended since the last start.
    static let writebackStride: Int64 = 32 << 20

    /// Opens (creating, mode 0600) `path` to append to it, hashing what it already holds.
    package init(path: String) throws {
        self.path = path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        do {
            length = try FileDigest.feed(descriptor, path: path, to: hasher)
        } catch {
            close(descriptor)
            throw error
        }
        unstarted = length
    }

    deinit { close(descriptor) }

    /// Empties the file (a partial one that belongs to another snapshot) and the hash with it.
    package func truncate() throws {
        guard ftruncate(descriptor, 0) == 0 else {
            throw TenantDataError.io("cannot truncate \(path): \(String(cString: strerror(errno)))")
        }
        hasher = SHA256Stream()
        length = 0
        unstarted = 0
    }

    /// Appends `bytes` and hashes them.
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
        hasher.update(bytes)
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
        return hasher.finish().hex
    }
}

/// The SHA-256 of a file's bytes, read in large pieces (no SQLite, no row order): what both sides of a move
/// compute over the snapshot that travels, to show the target holds the very bytes the source sent.
package enum FileDigest {
    package static func sha256(of path: String) throws -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let hasher = SHA256Stream()
        _ = try feed(descriptor, path: path, to: hasher)
        return hasher.finish().hex
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
