import ResidencyCore

/// Moves one kind of tenant data between regions. The runner calls the steps in order, persisting the
/// migration after each, and calls a step again after a crash — so every step must be idempotent.
protocol DataMover: Sendable {
    var name: String { get }
    /// Bulk copy while the tenant keeps working; records what it copied on `migration`.
    func copy(_ migration: inout Migration) throws -> JSONValue
    /// Holds the source's writes (they are refused with "retry shortly") until the cutover or a rollback.
    func freezeSource(_ migration: Migration) throws
    /// The final copy after the freeze.
    func sync(_ migration: inout Migration) throws -> JSONValue
    /// Proves the target holds what the source holds.
    func verify(_ migration: inout Migration) throws -> JSONValue
    /// Lets the target copy take writes, just before the directory points at it.
    func thawTarget(_ migration: Migration) throws
    /// Removes the source's data after cutover.
    func purgeSource(_ migration: Migration) throws -> JSONValue
    /// Removes whatever reached the target (rollback).
    func discardTarget(_ migration: Migration) throws -> JSONValue
    /// Lets the source take writes again (rollback).
    func thawSource(_ migration: Migration) throws
}

extension DataMover {
    /// Movers of external stores hold no writes themselves: the built-in mover freezes and thaws the tenant.
    func freezeSource(_ migration: Migration) throws {}
    func thawTarget(_ migration: Migration) throws {}
    func thawSource(_ migration: Migration) throws {}
}
