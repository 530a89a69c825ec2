import Foundation
import Testing

@testable import ResidencyStore

#if canImport(Glibc)
    import Glibc
#endif

/// The data plane's folder listing: a listing is reused only while the folder proves it unchanged (same inode, same
/// mtime, and that mtime at least 2 s older than the listing — git's racy rule); every change made by hand is seen
/// at the next listing; an unreadable folder is an error naming it.
@Suite struct FolderListingTests {
    let folder: String

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("residency-listing-\(UUID())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    }

    func touch(_ name: String) {
        close(open(folder + "/" + name, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600))
    }

    /// Sets the folder's mtime to `seconds` ago (0: now); returns it as a timespec, to set it again later.
    @discardableResult
    func setMtime(secondsAgo seconds: Int, to exactly: timespec? = nil) -> timespec {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let stamp = exactly ?? timespec(tv_sec: now.tv_sec - seconds, tv_nsec: now.tv_nsec)
        var times = [stamp, stamp]
        #expect(utimensat(AT_FDCWD, folder, &times, 0) == 0)
        return stamp
    }

    func fresh() throws -> [String]? { try FolderListing(caching: false).names(in: folder, suffix: ".sqlite3") }

    @Test func filesAddedOrRemovedByHandAreSeenAtTheNextListing() throws {
        let listing = FolderListing()
        touch("a.sqlite3")
        touch("b.sqlite3")
        touch("notes.txt")
        touch(".hidden.sqlite3")
        setMtime(secondsAgo: 60)  // an old folder: its listing can be reused
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a", "b"])
        #expect(try listing.names(in: folder) == ["a.sqlite3", "b.sqlite3", "notes.txt"])
        touch("c.sqlite3")  // by hand, behind the data plane's back
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a", "b", "c"])
        setMtime(secondsAgo: 60)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a", "b", "c"])
        #expect(unlink(folder + "/a.sqlite3") == 0)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["b", "c"])
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == fresh())
    }

    /// A change in the same clock tick as a recent mtime leaves the mtime as it was: a listing taken less than 2 s
    /// after the folder's mtime is never reused, so such a change is still seen.
    @Test func aListingTakenSoonAfterAChangeIsNotReused() throws {
        let listing = FolderListing()
        touch("a.sqlite3")
        let recent = setMtime(secondsAgo: 0)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a"])
        touch("b.sqlite3")
        setMtime(secondsAgo: 0, to: recent)  // the coarse timestamp did not move
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a", "b"])
    }

    /// A folder replaced by another one (another inode) with the very same mtime is listed afresh.
    @Test func aReplacedFolderIsListedAfresh() throws {
        let listing = FolderListing()
        touch("a.sqlite3")
        let old = setMtime(secondsAgo: 60)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a"])
        #expect(rename(folder, folder + ".old") == 0)
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: false)
        touch("z.sqlite3")
        setMtime(secondsAgo: 0, to: old)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["z"])
    }

    /// The reuse is real: with the folder's stamp forged back (the one thing the rule cannot see), the old listing
    /// comes back, and an uncached listing shows the difference. This is what makes a view cheap.
    @Test func anUnchangedOldFolderReusesItsListing() throws {
        let listing = FolderListing()
        touch("a.sqlite3")
        let old = setMtime(secondsAgo: 60)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a"])
        touch("b.sqlite3")
        setMtime(secondsAgo: 0, to: old)
        #expect(try listing.names(in: folder, suffix: ".sqlite3") == ["a"])
        #expect(try fresh() == ["a", "b"])
    }

    @Test func aMissingFolderHasNoNamesAndAnUnreadableOneIsAnError() throws {
        let listing = FolderListing()
        #expect(try listing.names(in: folder + "/absent") == nil)
        touch("file")
        // Not a folder (root reads any folder whatever its mode, so ENOTDIR stands for every refusal).
        #expect(throws: FolderListingError(folder: folder + "/file", errno: ENOTDIR)) {
            try listing.names(in: folder + "/file")
        }
        let error = FolderListingError(folder: folder + "/file", errno: ENOTDIR)
        #expect(error.description.contains(folder + "/file"))
        #expect(error.description.contains("errno \(ENOTDIR)"))
        #expect(error.description.contains("Not a directory"))
    }
}
