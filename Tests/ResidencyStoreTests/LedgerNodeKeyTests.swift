import Foundation
import ResidencyCore
import Testing

@testable import ResidencyStore

/// Schema version 18: the Merkle nodes keyed by the tree size that completed them, then level. A ledger written
/// under the old key (level, idx) reads the same nodes, roots and proofs after the upgrade, appends go on from
/// it, and every append's rows are the last rows of the table — the reason for the new key.
@Suite struct LedgerNodeKeyTests {
    /// Writes `count` entries and their nodes as versions 3 to 17 stored them: (level, idx, hash).
    static func writeLedgerInTheFormerLayout(_ database: Database, count: Int) throws -> [SHA256Digest] {
        var leaves: [SHA256Digest] = []
        try database.write {
            for index in 0..<count {
                let entry = Array("{\"index\":\(index)}".utf8)
                let leaf = MerkleTree.leafHash(entry)
                leaves.append(leaf)
                try database.statement("INSERT INTO ledger_entries (idx, kind, entry, leaf_hash) VALUES (?, ?, ?, ?)")
                    .run([.integer(Int64(index)), .text("token.created"), .blob(entry), .blob(leaf.bytes)])
                var level = 0
                var position = index
                var hash = leaf
                while true {
                    try database.statement("INSERT INTO ledger_nodes (level, idx, hash) VALUES (?, ?, ?)").run([
                        .integer(Int64(level)), .integer(Int64(position)), .blob(hash.bytes),
                    ])
                    guard position & 1 == 1 else { break }
                    let width = 1 << level
                    let left = MerkleTree.root(of: leaves[((position - 1) * width)..<(position * width)])
                    hash = MerkleTree.nodeHash(left, hash)
                    level += 1
                    position >>= 1
                }
            }
        }
        return leaves
    }

    /// 45 entries at version 17 (every level up to 5, an incomplete right edge), upgraded on both stores: every
    /// complete subtree, every root and every inclusion and consistency proof reads as the leaves compute it; 20
    /// appends later the same holds; the triggers still refuse changes.
    @Test(arguments: StoreBackend.allCases)
    func anUpgradedLedgerReadsTheSameTreeAndGrowsOn(_ backend: StoreBackend) throws {
        guard let database = try backend.database(atVersion: 17) else { return }
        var leaves = try Self.writeLedgerInTheFormerLayout(database, count: 45)
        let nodesBefore = try database.scalarInteger("SELECT count(*) FROM ledger_nodes")
        try database.migrate()
        #expect(try database.schemaVersion() >= 18)
        #expect(try database.scalarInteger("SELECT count(*) FROM ledger_nodes") == nodesBefore)
        let ledger = LedgerRepository(database)
        func expectTheTreeOfTheLeaves() throws {
            for level in 0..<7 {
                let width = 1 << level
                for index in 0..<(leaves.count / width) {
                    #expect(
                        try ledger.node(level: level, index: index)
                            == MerkleTree.root(of: leaves[(index * width)..<((index + 1) * width)]),
                        "node (\(level), \(index))")
                }
            }
            for size in 1...leaves.count {
                #expect(try ledger.root(size: size) == MerkleTree.root(of: leaves[..<size]), "root of \(size)")
                let index = size / 2
                let proof = try ledger.inclusionProof(index: index, size: size)
                #expect(
                    MerkleProofVerifier.verifyInclusion(
                        leaf: leaves[index], index: index, size: size, proof: proof,
                        root: MerkleTree.root(of: leaves[..<size])), "inclusion of \(index) in \(size)")
                if size > 1 {
                    let old = size / 2
                    #expect(
                        MerkleProofVerifier.verifyConsistency(
                            firstSize: old, secondSize: size, firstRoot: MerkleTree.root(of: leaves[..<old]),
                            secondRoot: MerkleTree.root(of: leaves[..<size]),
                            proof: try ledger.consistencyProof(from: old, to: size)),
                        "consistency of \(old) with \(size)")
                }
            }
        }
        try expectTheTreeOfTheLeaves()
        try database.write {
            for index in leaves.count..<(leaves.count + 20) {
                leaves.append(try ledger.append(Array("{\"index\":\(index)}".utf8), kind: "token.created", at: index))
            }
        }
        try expectTheTreeOfTheLeaves()
        #expect(throws: (any Error).self) { try ledger.node(level: 6, index: 1) }
        #expect(throws: (any Error).self) { try ledger.node(level: 61, index: 1 << 40) }
        #expect(throws: DatabaseError.self) {
            try database.statement("UPDATE ledger_nodes SET hash = hash WHERE size = 2").run()
        }
        #expect(throws: DatabaseError.self) { try database.statement("DELETE FROM ledger_nodes WHERE size = 1").run() }
    }

    /// The rows in key order are the appends in order: each append's leaf node and the parents it completed,
    /// level by level, after everything before — so an append writes at the table's end.
    @Test func eachAppendsRowsFollowTheLastOnes() throws {
        let database = try Database(path: ":memory:")
        try database.migrate()
        let ledger = LedgerRepository(database)
        try database.write {
            for index in 0..<70 { try ledger.append(Array("{\"index\":\(index)}".utf8), kind: "token.created", at: index) }
        }
        let rows = try database.statement("SELECT size, level FROM ledger_nodes ORDER BY size, level").rows([]) {
            [Int($0.integer(0)), Int($0.integer(1))]
        }
        var expected: [[Int]] = []
        for index in 0..<70 {
            let size = index + 1
            for level in 0...size.trailingZeroBitCount { expected.append([size, level]) }
        }
        #expect(rows == expected)
        // A row that cannot be a node is refused by the table itself.
        #expect(throws: DatabaseError.self) {
            try database.statement("INSERT INTO ledger_nodes (size, level, hash) VALUES (6, 2, zeroblob(32))").run()
        }
    }
}
