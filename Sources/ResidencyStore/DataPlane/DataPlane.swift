import Foundation
import ResidencyCore

#if canImport(Glibc)
    import Glibc
#endif

/// The embedded default's data plane: one directory per region under the data directory, each holding its
/// tenants' databases (`regions/<region>/tenants/<tenant>.sqlite3`). A tenant's data lives in exactly one
/// of them, except while a migration holds a copy at its target.
package struct DataPlane: Sendable {
    package let root: URL
    /// Lists the region folders, reusing a folder's listing only while the folder proves it unchanged.
    package let listing: FolderListing

    package init(dataDirectory: DataDirectory, listing: FolderListing = FolderListing()) {
        root = dataDirectory.url.appendingPathComponent("regions", isDirectory: true)
        self.listing = listing
    }

    package func directory(region: String) -> URL {
        root.appendingPathComponent(region, isDirectory: true).appendingPathComponent("tenants", isDirectory: true)
    }

    /// The tenant's database in `region`. Region and tenant ids are checked by the caller against the catalog
    /// and the id format, so neither can carry a path separator.
    package func path(region: String, tenant: String) -> String {
        precondition(!region.contains("/") && !tenant.contains("/") && !region.hasPrefix(".") && !tenant.hasPrefix("."))
        return directory(region: region).appendingPathComponent(tenant + ".sqlite3").path
    }

    package func exists(region: String, tenant: String) -> Bool {
        FileManager.default.fileExists(atPath: path(region: region, tenant: tenant))
    }

    /// Creates the tenant's database in `region` if it is not there yet.
    package func provision(region: String, tenant: String) throws {
        let directory = directory(region: region)
        try FileManager.default.createDirectory(
            at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let path = path(region: region, tenant: tenant)
        if FileManager.default.fileExists(atPath: path) { return }
        // Two provisions of one tenant (a signup and the repair pass) must not interleave: the second would
        // delete the first one's partial file and journal under it.
        let lock = try Self.lockDirectory(directory.path)
        defer { close(lock) }
        if FileManager.default.fileExists(atPath: path) { return }
        let partial = path + ".partial"
        Self.removeDatabaseFiles(at: partial)
        // Built with a rollback journal, so the schema is in the main file when it is published: `publish`
        // renames the main file only (a WAL-mode close did not always fold the WAL back in under load).
        _ = try TenantDatabase.provision(at: partial, tenant: tenant)
        try Self.publish(partial, as: path)
    }

    package func open(region: String, tenant: String) throws -> TenantDatabase {
        try TenantDatabase(path: path(region: region, tenant: tenant))
    }

    /// Removes the tenant's data from `region` (idempotent).
    package func purge(region: String, tenant: String) throws {
        let path = path(region: region, tenant: tenant)
        Self.removeDatabaseFiles(at: path + ".partial")
        Self.removeDatabaseFiles(at: path)
        Self.syncDirectory(directory(region: region).path)
    }

    /// Tenant ids with data in `region`, as the files say (the audit compares this with the directory), sorted.
    /// A region without a tenants folder has none; a folder that cannot be read throws `FolderListingError`.
    package func tenants(in region: String) throws -> [String] {
        try tenantListing(in: region).names
    }

    /// `tenants(in:)` with the listing's generation (`FolderListing.Listing`): for work keyed on what was listed.
    package func tenantListing(in region: String) throws -> FolderListing.Listing {
        try listing.listing(in: directory(region: region).path, suffix: ".sqlite3")
            ?? FolderListing.Listing(names: [], generation: 0)
    }

    /// Regions with a directory on disk (including ones the catalog no longer names), sorted. None when no
    /// tenant data was ever written; a folder that cannot be read throws `FolderListingError`.
    package func regionsOnDisk() throws -> [String] {
        try listing.names(in: root.path) ?? []
    }

    /// An exclusive flock on a region's directory, held by the returned descriptor until it is closed. flock
    /// excludes other descriptors in this process as well as other processes.
    static func lockDirectory(_ path: String) throws -> Int32 {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let message = String(cString: strerror(errno))
                close(descriptor)
                throw TenantDataError.io("cannot lock \(path): \(message)")
            }
        }
        return descriptor
    }

    /// Removes a file and any SQLite journal beside it (idempotent).
    package static func removeFiles(at path: String) { removeDatabaseFiles(at: path) }

    static func removeDatabaseFiles(at path: String) {
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(path + suffix) }
    }

    /// Makes a finished file durable under its final name: fsync the file, rename it, fsync the directory —
    /// so after a crash the name either is absent or names complete data.
    /// With `durable` false the file is renamed without being synced: for a file worth keeping only until the
    /// machine restarts (a migration's snapshot, which its owner takes again after a reboot).
    static func publish(_ partial: String, as path: String, durable: Bool = true) throws {
        if durable { try syncFile(partial) }
        var status = stat()
        if stat(partial + "-wal", &status) == 0, status.st_size > 0 {
            throw TenantDataError.io(
                "\(partial)-wal still holds \(status.st_size) bytes; refusing to publish without them")
        }
        for suffix in ["-wal", "-shm"] { unlink(partial + suffix) }
        guard rename(partial, path) == 0 else {
            throw TenantDataError.io("cannot rename \(partial) to \(path): \(String(cString: strerror(errno)))")
        }
        if durable { syncDirectory((path as NSString).deletingLastPathComponent) }
    }

    /// This boot of the machine (the kernel's random boot id): what a file kept without fsync is good for.
    package static var bootID: String {
        ((try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8)) ?? "unknown")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func syncFile(_ path: String) throws {
        let descriptor = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw TenantDataError.io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        guard fsync(descriptor) == 0 else {
            throw TenantDataError.io("cannot sync \(path): \(String(cString: strerror(errno)))")
        }
    }

    static func syncDirectory(_ path: String) {
        let descriptor = Glibc.open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        fsync(descriptor)
        close(descriptor)
    }
}
