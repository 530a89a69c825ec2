import Foundation

/// One change to the SQL text SQLite keeps for a table or index (`sqlite_schema.sql`): `from` becomes `to`
/// in the definition of `object`.
///
/// Only for a change SQLite documents as safe to make that way ("Making Other Kinds Of Table Schema
/// Changes" in its ALTER TABLE page) and that leaves what is stored valid as it is: here, a constraint or a
/// partial index's condition rewritten into an equivalent expression — every row that satisfied the old text
/// satisfies the new one, and a partial index holds exactly the same rows.
///
/// A constraint made stricter than before is the one other case, with `violations`: a query counting the stored
/// rows the new text refuses. A store holding any is refused before anything changes, the rows counted, since a
/// row the constraint refuses could no longer be written back.
package struct SchemaTextRewrite: Sendable {
    package let object: String
    package let from: String
    package let to: String
    package let violations: String?

    package init(object: String, from: String, to: String, violations: String? = nil) {
        self.object = object
        self.from = from
        self.to = to
        self.violations = violations
    }
}

extension Database {
    /// Rewrites stored schema text, inside the migration's transaction, by SQLite's documented procedure:
    /// `writable_schema` on, the text changed, the schema version moved so that every connection reads the
    /// schema again (this one too: `writable_schema = RESET`). A definition that does not hold `from` exactly
    /// once is refused (unless it already holds `to` exactly once instead): the store was not written by this
    /// program's migrations, and guessing would be worse.
    func rewriteSchemaText(_ rewrites: [SchemaTextRewrite]) throws {
        precondition(!isPostgres && isInTransaction, "schema text is rewritten in a SQLite migration's transaction")
        let version = try scalarInteger("PRAGMA schema_version") ?? 0
        try execute("PRAGMA writable_schema = ON")
        do {
            for rewrite in rewrites {
                let stored = try statement("SELECT sql FROM sqlite_schema WHERE name = ?").first(
                    [.text(rewrite.object)]) { $0.text(0) }
                // Already in the new form (the text holds `to` once and no `from`): nothing to change. A store
                // whose version was set back by hand after this ran is the one way here; the text is still exact.
                if let stored, stored.components(separatedBy: rewrite.to).count == 2,
                    !stored.contains(rewrite.from)
                {
                    continue
                }
                guard let stored, stored.components(separatedBy: rewrite.from).count == 2 else {
                    throw StoreError.unexpectedSchema(
                        path: path, object: rewrite.object,
                        expected: "its definition to hold \"\(rewrite.from)\" once")
                }
                if let violations = rewrite.violations, let count = try scalarInteger(violations), count > 0 {
                    throw StoreError.rowsRefusedByConstraint(
                        path: path, object: rewrite.object, constraint: rewrite.to, rows: Int(count),
                        query: violations)
                }
                try statement("UPDATE sqlite_schema SET sql = ? WHERE name = ?").run([
                    .text(stored.replacingOccurrences(of: rewrite.from, with: rewrite.to)), .text(rewrite.object),
                ])
            }
            try execute("PRAGMA schema_version = \(version + 1)")
            try execute("PRAGMA writable_schema = RESET")
        } catch {
            try? execute("PRAGMA writable_schema = RESET")
            throw error
        }
    }
}
