import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A data-plane folder that could not be listed. The audit reports it rather than reading "no data": an
/// unreadable folder is exactly what an auditor must be told about.
package struct FolderListingError: Error, CustomStringConvertible, Equatable {
    package let folder: String
    package let errno: Int32

    package init(folder: String, errno: Int32) {
        self.folder = folder
        self.errno = errno
    }

    package var description: String {
        "cannot list the data-plane folder \(folder): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}

/// Lists data-plane folders with opendir/readdir, and keeps each folder's last listing for as long as the folder
/// itself proves it has not changed since.
///
/// A listing is reused only when the folder is the same one (device and inode) with the same modification time,
/// AND that time was at least `racyWindow` older than the moment the listing began (git's "racy" rule). Any file
/// added, removed or renamed in a folder sets its mtime to the time of the change; a change after the listing
/// began therefore moves the mtime past the listing's start, unless the change falls in the same coarse clock
/// tick as an mtime already that recent — which the window excludes. A folder copied in by hand is new (another
/// inode) or changes its parent's mtime, so it is seen at the next view. Nothing is reused on trust: every view
/// stats every folder.
package final class FolderListing: Sendable {
    /// How much older than a listing's start the folder's mtime must be for the listing to be reused. File-system
    /// timestamps come from a coarse kernel clock (a tick of a few ms; a second on some file systems); 2 s covers
    /// both with margin, as git does.
    package static let racyWindow: Int64 = 2_000_000_000

    private struct Stamp: Equatable {
        let device: UInt64
        let inode: UInt64
        let mtime: Int64  // nanoseconds since the epoch
    }

    /// A folder's sorted names and the generation of the read that produced them. Every read of a folder from
    /// disk takes a new generation (process-wide, never reused); a reused listing keeps its own. So two listings
    /// with the same generation hold the same names, and a caller may key work it derived from the names on it.
    package struct Listing: Sendable {
        package let names: [String]
        /// 0 only for a folder that does not exist (no names).
        package let generation: UInt64
    }

    private struct Entry {
        let stamp: Stamp
        let listedAt: Int64  // wall clock, nanoseconds since the epoch, taken before the folder was read
        let listing: Listing
    }

    private let entries = Mutex<[String: Entry]>([:])
    private static let generations = Atomic<UInt64>(0)
    private let caching: Bool

    /// `caching: false` lists every folder afresh every time (the reference the cached listing is tested against).
    package init(caching: Bool = true) {
        self.caching = caching
    }

    /// The names in `folder` (no "." or ".." or hidden names), sorted; with `suffix`, only the names ending in it,
    /// with it removed. Nil when the folder does not exist (no data was ever written there). Any other failure to
    /// open, stat or read it is thrown.
    package func names(in folder: String, suffix: String? = nil) throws -> [String]? {
        try listing(in: folder, suffix: suffix)?.names
    }

    /// `names(in:suffix:)` with the listing's generation.
    package func listing(in folder: String, suffix: String? = nil) throws -> Listing? {
        let key = suffix.map { folder + "\u{0}" + $0 } ?? folder
        let descriptor = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return nil }
            throw FolderListingError(folder: folder, errno: errno)
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let failure = errno
            close(descriptor)
            throw FolderListingError(folder: folder, errno: failure)
        }
        let stamp = Stamp(
            device: UInt64(status.st_dev), inode: UInt64(status.st_ino),
            mtime: Int64(status.st_mtim.tv_sec) * 1_000_000_000 + Int64(status.st_mtim.tv_nsec))
        if caching, let entry = entries.withLock({ $0[key] }), entry.stamp == stamp,
            entry.listedAt - stamp.mtime >= Self.racyWindow
        {
            close(descriptor)
            return entry.listing
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let listedAt = Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
        // fdopendir owns the descriptor from here: closedir closes it.
        guard let stream = fdopendir(descriptor) else {
            let failure = errno
            close(descriptor)
            throw FolderListingError(folder: folder, errno: failure)
        }
        defer { closedir(stream) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(stream) else {
                if errno != 0 { throw FolderListingError(folder: folder, errno: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { bytes in
                String(cString: bytes.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name.hasPrefix(".") { continue }
            if let suffix {
                if name.hasSuffix(suffix) { names.append(String(name.dropLast(suffix.count))) }
            } else {
                names.append(name)
            }
        }
        names.sort()
        let listing = Listing(
            names: names, generation: Self.generations.add(1, ordering: .relaxed).newValue)
        if caching {
            entries.withLock { $0[key] = Entry(stamp: stamp, listedAt: listedAt, listing: listing) }
        }
        return listing
    }
}
