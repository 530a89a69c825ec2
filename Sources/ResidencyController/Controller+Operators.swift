import Foundation
import ResidencyCore
import ResidencyStore

/// A controller's data directory opened for the operator commands that need no policies and no geolocation:
/// tokens, and the ledger to inspect, prove and verify. The command line reaches the store only through this
/// and `Controller`, so the store's types stay below the controller layer.
package struct ControllerDirectory: Sendable {
    package let url: URL
    let pool: DatabasePool

    /// The name of the controller's database file in a data directory.
    package static var databaseFileName: String { DataDirectory.databaseFileName }

    /// Whether `url` holds a controller's database (a read-only command refuses a directory without one rather
    /// than create it).
    package static func holdsDatabase(_ url: URL) -> Bool {
        let directory = DataDirectory(url)
        // On PostgreSQL the tables are in the database, whatever the directory holds.
        return directory.store.isPostgres || FileManager.default.fileExists(atPath: directory.databaseURL.path)
    }

    /// Opens the directory's database, creating the directory and the database when missing.
    package static func open(_ url: URL) throws -> ControllerDirectory {
        ControllerDirectory(url: url, pool: try DatabasePool(directory: DataDirectory(url)))
    }

    /// The ledger signed with the directory's key, created on first use.
    package func ledger() throws -> Ledger {
        Ledger(signer: try Ledger.loadOrCreateKey(in: url), pool: pool, clock: .system)
    }

    /// The ledger with a given signer: the directory's key read without creating one, or a throwaway key when
    /// verification checks signatures against pinned keys only.
    package func ledger(signer: NoteSigner) -> Ledger {
        Ledger(signer: signer, pool: pool, clock: .system)
    }

    /// Creates a token (see `TokenService.createToken`); its secret is answered this once.
    package func createToken(name: String, role: Role, tenant: String? = nil, actor: String = "cli") throws -> String {
        try TokenService.createToken(name: name, role: role, pool: pool, actor: actor, tenant: tenant)
    }

    /// Every token, never a secret.
    package func tokens() throws -> [TokenInfo] { try TokenService.tokens(pool: pool) }

    /// Revokes a live token; requests using it fail at once.
    package func revokeToken(name: String, actor: String = "cli") throws {
        try TokenService.revokeToken(name: name, pool: pool, actor: actor)
    }

    /// Claims the directory for one serving process until the claim is released (when the value goes away).
    package static func claimForServing(_ url: URL) throws -> Claim {
        Claim(lock: try DataDirectoryLock(directory: DataDirectory(url)))
    }

    /// A serving process's hold on a data directory: a second server on the same directory is refused while it
    /// lasts.
    package struct Claim: Sendable {
        let lock: DataDirectoryLock
    }
}

/// The versions of what the store is built on, for `residency version`.
package enum StoreVersion {
    /// The database schema this build migrates to.
    package static var schema: Int { Schema.latestVersion }
    /// The SQLite library linked.
    package static var sqlite: String { Database.sqliteVersion }
    /// The PostgreSQL client library linked.
    package static var libpq: String { Database.libpqVersion }
}

/// One step of a migration's log, as the API and the CLI show it.
package typealias MigrationStep = MigrationRepository.Step

extension Controller {
    /// A controller that answers placement questions and stores nothing: its own store is in memory, and the
    /// occupancy placement weighs is read from `occupancyFrom` when a controller's database is there (never
    /// created, never written).
    package static func forPlacement(
        policies: PolicySet, locator: GeoLocator?, occupancyFrom dataDirectory: URL?
    ) throws -> Controller {
        let controller = try Controller(policies: policies, locator: locator, pool: try DatabasePool())
        if let dataDirectory, ControllerDirectory.holdsDatabase(dataDirectory) {
            let counts = try TenantRepository(try DataDirectory(dataDirectory).openDatabase()).liveCounts()
            // The in-memory pool never changes its counter: these counts stand for every later question.
            controller.context.occupancy.seed(counts)
        }
        return controller
    }

    /// Throws when the store cannot answer a query (`/readyz` answers 503 then).
    package func checkStoreHealth() throws {
        _ = try context.read { try $0.scalarInteger("SELECT 1") }
    }
}
