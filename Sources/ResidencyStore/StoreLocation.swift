/// Which database holds the controller's tables: the SQLite file in the data directory (the embedded default,
/// one controller), or a PostgreSQL database that several controllers share.
package enum StoreLocation: Sendable, Equatable {
    case sqlite
    case postgres(url: String)
    /// A value that names neither, kept to be refused with its reason when the store is opened.
    case invalid(String)

    /// `nil`, empty or `sqlite` for the data directory's SQLite file; `postgresql://…` or `postgres://…` (libpq's
    /// URI) for PostgreSQL.
    package init(_ text: String?) {
        guard let text, !text.isEmpty, text != "sqlite" else {
            self = .sqlite
            return
        }
        if text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") {
            self = .postgres(url: text)
        } else {
            self = .invalid(text)
        }
    }

    package var isPostgres: Bool {
        if case .postgres = self { return true }
        return false
    }

    /// A connection to the store (not yet migrated).
    func open(sqlitePath: String) throws -> Database {
        switch self {
        case .sqlite: return try Database(path: sqlitePath)
        case .postgres(let url): return try Database(postgresURL: url)
        case .invalid(let text):
            throw StoreError.invalidStore(
                text.contains("@") || text.contains("password") ? "(not shown: it may hold a password)" : "\"\(text)\"")
        }
    }
}
