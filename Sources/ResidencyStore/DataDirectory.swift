import Foundation

/// The controller's data directory: the SQLite database and, as later features land, the ledger key and
/// the regions' data.
package struct DataDirectory: Sendable {
    package let url: URL
    package static let databaseFileName = "residency.sqlite3"
    /// Where the controller's tables live: `RESIDENCY_STORE` when set, else the SQLite file in the directory.
    /// The directory itself (keys, identities, regions' data) is used whichever store holds the tables.
    package let store: StoreLocation

    /// Opens `url` with the store named by `RESIDENCY_STORE` (a `postgresql://` URL), or its own SQLite file;
    /// a value that is neither is reported when the store is opened (`StoreLocation.parse`).
    package init(_ url: URL, store: String? = ProcessInfo.processInfo.environment["RESIDENCY_STORE"]) {
        self.url = url
        self.store = StoreLocation(store)
    }

    package var databaseURL: URL { url.appendingPathComponent(Self.databaseFileName) }

    /// Creates the directory if needed, reachable by its owner only (it holds the signing key and every
    /// tenant's directory entry), and refuses an existing one that other users can read, write or enter.
    package func create() throws {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw StoreError.cannotCreateDirectory(path: url.path, reason: error.localizedDescription)
        }
        try PrivateFiles.checkDirectory(url.path)
    }

    /// Creates the directory and opens its database at the latest schema.
    package func openDatabase() throws -> Database {
        try create()
        let database = try store.open(sqlitePath: databaseURL.path)
        try database.migrate()
        return database
    }
}
