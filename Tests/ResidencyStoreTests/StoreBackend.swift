import Foundation
import Testing

@testable import ResidencyStore

/// The two stores the store's tests run against. PostgreSQL is the server named by `RESIDENCY_TEST_POSTGRES`
/// (`.ci/run` starts a throwaway cluster and sets it); each test gets a schema of its own there, so tests run
/// side by side without seeing one another's tables. Without the variable, a PostgreSQL case fails under
/// `CI=true` and is skipped with a printed reason elsewhere.
enum StoreBackend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static var postgresURL: String? {
        ProcessInfo.processInfo.environment["RESIDENCY_TEST_POSTGRES"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// Whether this backend can run here; records a failure in CI when PostgreSQL is missing.
    var isAvailable: Bool {
        guard self == .postgres, Self.postgresURL == nil else { return true }
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            Issue.record("RESIDENCY_TEST_POSTGRES is not set: CI must run the PostgreSQL store tests (see .ci/run)")
        } else {
            print("skipping the PostgreSQL case: RESIDENCY_TEST_POSTGRES is not set (Scripts/postgres-cluster start)")
        }
        return false
    }

    /// A store for one test: `:memory:` SQLite, or a fresh schema on the PostgreSQL server; nil when this
    /// backend cannot run here (see `isAvailable`).
    func store() throws -> TestStore? {
        guard isAvailable else { return nil }
        switch self {
        case .sqlite: return TestStore(url: nil, sqlitePath: ":memory:")
        case .postgres: return try TestStore.postgres()
        }
    }
}

/// Where one test's tables are.
struct TestStore {
    /// The PostgreSQL URL with the test's schema first on the search path; nil for SQLite.
    let url: String?
    let sqlitePath: String

    static func postgres() throws -> TestStore {
        guard let base = StoreBackend.postgresURL else { preconditionFailure("checked by isAvailable") }
        let schema = "test_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Database(postgresURL: base).execute("CREATE SCHEMA \(schema)")
        let separator = base.contains("?") ? "&" : "?"
        return TestStore(url: base + separator + "options=-csearch_path%3D\(schema)", sqlitePath: "")
    }

    /// A new connection to the store, not migrated.
    func connect() throws -> Database {
        if let url { return try Database(postgresURL: url) }
        return try Database(path: sqlitePath)
    }

    /// A data directory whose store is this one (for pools); SQLite stores get a file in it.
    func dataDirectory() -> DataDirectory {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("residency-store-\(UUID())")
        return DataDirectory(url, store: self.url ?? "sqlite")
    }
}

extension Database {
    /// Migrates this store up to `version` with the migrations of its kind (SQLite or PostgreSQL): how the upgrade
    /// tests make a store as an older release left it.
    func migrate(upTo version: Int) throws {
        let all = isPostgres ? PostgresSchema.migrations : Schema.migrations
        try migrate(Array(all.prefix(version)))
    }
}

extension StoreBackend {
    /// A new store of this backend at schema `version`; nil when the backend cannot run here.
    func database(atVersion version: Int) throws -> Database? {
        guard let store = try store() else { return nil }
        let database = try store.connect()
        try database.migrate(upTo: version)
        return database
    }
}
