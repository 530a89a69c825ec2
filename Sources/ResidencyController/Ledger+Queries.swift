import ResidencyCore
import ResidencyStore

extension Ledger {
    package static let maximumEntriesPerRead = 1000

    package func size() throws -> Int { try pool.read { try LedgerRepository($0).size() } }

    /// Entries `[from, to)` as stored, at most `maximumEntriesPerRead`.
    package func entries(from: Int, to: Int?) throws -> [(index: Int, entry: [UInt8], leafHash: [UInt8])] {
        try pool.read { database in
            let repository = LedgerRepository(database)
            let size = try repository.size()
            let end = min(to ?? size, size)
            guard from >= 0, from <= end else {
                throw ControllerError.invalidField(field: "from", message: "\(from) is outside the log (0...\(size))")
            }
            return try repository.entries(from: from, to: min(end, from + Self.maximumEntriesPerRead))
        }
    }

    package struct InclusionProof: Sendable {
        package let index: Int
        package let size: Int
        package let leafHash: SHA256Digest
        package let root: SHA256Digest
        package let path: [SHA256Digest]
    }

    /// The RFC 9162 inclusion proof of entry `index` in the tree of `size` entries (default: the whole log).
    package func inclusionProof(index: Int, size requested: Int? = nil) throws -> InclusionProof {
        try pool.read { database in
            let repository = LedgerRepository(database)
            let current = try repository.size()
            let size = requested ?? current
            guard size >= 1, size <= current else {
                throw ControllerError.invalidField(
                    field: "size", message: "\(size) is not a tree size of this log (1...\(current))")
            }
            guard index >= 0, index < size else {
                throw ControllerError.invalidField(
                    field: "index", message: "\(index) is not an entry of the tree of size \(size) (0...\(size - 1))")
            }
            return InclusionProof(
                index: index, size: size, leafHash: try repository.node(level: 0, index: index),
                root: try repository.root(size: size),
                path: try repository.inclusionProof(index: index, size: size))
        }
    }

    package struct ConsistencyProof: Sendable {
        package let from: Int
        package let to: Int
        package let fromRoot: SHA256Digest
        package let toRoot: SHA256Digest
        package let path: [SHA256Digest]
    }

    /// The RFC 9162 consistency proof that the tree of `from` entries is a prefix of the tree of `to`.
    package func consistencyProof(from: Int, to requested: Int? = nil) throws -> ConsistencyProof {
        try pool.read { database in
            let repository = LedgerRepository(database)
            let current = try repository.size()
            let to = requested ?? current
            guard to >= 1, to <= current else {
                throw ControllerError.invalidField(
                    field: "to", message: "\(to) is not a tree size of this log (1...\(current))")
            }
            guard from >= 1, from <= to else {
                throw ControllerError.invalidField(field: "from", message: "\(from) must be 1...\(to)")
            }
            return ConsistencyProof(
                from: from, to: to, fromRoot: try repository.root(size: from), toRoot: try repository.root(size: to),
                path: try repository.consistencyProof(from: from, to: to))
        }
    }
}
