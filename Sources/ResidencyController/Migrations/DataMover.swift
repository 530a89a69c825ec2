import ResidencyCore

/// Moves one kind of tenant data between regions. The runner calls the steps in order, persisting the
/// migration after each, and calls a step again after a crash — so every step must be idempotent.
protocol DataMover: Sendable {
    var name: String { get }
    /// Bulk copy while the tenant keeps working; records what it copied on `migration`.
    func copy(_ migration: inout Migration) throws -> JSONValue
    /// The final copy after the freeze.
    func sync(_ migration: inout Migration) throws -> JSONValue
    /// Proves the target holds what the source holds.
    func verify(_ migration: inout Migration) throws -> JSONValue
    /// Removes the source's data after cutover.
    func purgeSource(_ migration: Migration) throws -> JSONValue
    /// Removes whatever reached the target (rollback).
    func discardTarget(_ migration: Migration) throws -> JSONValue
}
