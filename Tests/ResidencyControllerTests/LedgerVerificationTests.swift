import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// Verification reads rows on one thread and checks them on another, in batches: these hold it to finding every
/// problem at its index whichever batch it falls in, and the claimed-index search to the plain one.
@Suite struct LedgerVerificationTests {
    /// The last `"index":` followed by digits, found by trying every position from the end.
    static func plainClaimedIndex(_ text: String) -> Int? {
        let bytes = Array(text.utf8)
        let key = Array("\"index\":".utf8)
        guard bytes.count > key.count else { return nil }
        for start in stride(from: bytes.count - key.count, through: 0, by: -1)
        where Array(bytes[start..<(start + key.count)]) == key {
            let digits = bytes[(start + key.count)...].prefix { (48...57).contains($0) }
            return digits.isEmpty ? nil : Int(String(decoding: digits, as: UTF8.self))
        }
        return nil
    }

    @Test func claimedIndexAgreesWithThePlainSearch() {
        var texts = [
            #"{"actor":"a","body":{"index":7},"index":12,"kind":"k","region":null,"tenant":null,"time":1}"#,
            #"{"index":3}"#, #""index":"#, #"x"index":"#, #"{"index":}"#, #"{"body":{"index":5}}"#,
            #"{"a":"\"index\":9","index":4}"#, #"{"index":1,"kind":"index::\"ii\"nn","x":""index":2}"#, "", "\"\"\"",
            #"{"actor":"ops","body":{"name":"::xx\"ee\"dd"},"index":123456789,"kind":"token.created","time":17}"#,
        ]
        // Strings of the key's own bytes in every order stress the shifts, which depend on them.
        var state: UInt64 = 7
        let alphabet = Array("\"index\":0123,".utf8)
        for _ in 0..<2_000 {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            let length = Int(state >> 58) + 8
            var bytes: [UInt8] = []
            for _ in 0..<length {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            if state & 1 == 0 { bytes.insert(contentsOf: Array("\"index\":42".utf8), at: Int(state >> 40) % bytes.count) }
            texts.append(String(decoding: bytes, as: UTF8.self))
        }
        for text in texts {
            let found = Array(text.utf8).withUnsafeBytes { Ledger.claimedIndex(in: $0) }
            #expect(found == Self.plainClaimedIndex(text), "\(text)")
        }
    }

    /// A ledger of `count` entries with a checkpoint at the end, on a fresh data directory.
    static func ledger(count: Int) throws -> (Ledger, DatabasePool, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "residency-verify-\(UUID().uuidString)")
        let pool = try DatabasePool(directory: DataDirectory(directory))
        let signer = try Ledger.loadOrCreateKey(in: directory, origin: "test/verify")
        let ledger = Ledger(signer: signer, pool: pool, clock: .system, checkpointEvery: Int.max)
        try pool.write { database in
            for index in 0..<count {
                try Ledger.append(
                    in: database, time: 1_700_000_000_000, kind: .tokenCreated, actor: "test",
                    body: .object([("name", .string("token-\(index)")), ("role", .string("ops"))]))
            }
        }
        try ledger.signCheckpoint(force: true)
        return (ledger, pool, directory)
    }

    /// Rewrites rows behind the ledger's back, as an intruder with file access would.
    static func tamper(_ pool: DatabasePool, _ sql: String) throws {
        try pool.write { database in
            try database.execute("DROP TRIGGER IF EXISTS ledger_entries_no_update")
            try database.execute("DROP TRIGGER IF EXISTS ledger_entries_no_delete")
            try database.execute(sql)
        }
    }

    @Test func manyBatchesVerifyAndEveryProblemKeepsItsIndex() throws {
        // Several batches' worth of rows (a batch holds at most `batchRows`), problems in the first, a middle and
        // the last batch.
        let count = LedgerEntryBatches.batchRows * 2 + 1_000
        let (ledger, pool, directory) = try Self.ledger(count: count)
        defer { try? FileManager.default.removeItem(at: directory) }
        let intact = try ledger.verify()
        #expect(intact.isValid, "\(intact.problems)")
        #expect(intact.entries == count)
        #expect(intact.checkpointsVerified == 1)

        let altered = LedgerEntryBatches.batchRows + 17
        try Self.tamper(
            pool,
            "UPDATE ledger_entries SET entry = CAST(replace(CAST(entry AS TEXT), '\"ops\"', '\"opz\"') AS BLOB) WHERE idx = \(altered)"
        )
        try Self.tamper(pool, "UPDATE ledger_entries SET leaf_hash = zeroblob(32) WHERE idx = 3")
        try Self.tamper(pool, "DELETE FROM ledger_entries WHERE idx = \(count - 2)")
        let result = try ledger.verify()
        #expect(!result.isValid)
        #expect(result.entries == count - 1)
        #expect(result.firstBadIndex == 3)
        let messages = result.problems.map(\.description)
        #expect(messages.contains("entry 3: altered: its content no longer matches its recorded leaf hash"))
        #expect(messages.contains("entry \(altered): altered: its content no longer matches its recorded leaf hash"))
        #expect(messages.contains("entry \(count - 2): missing: the next stored entry has index \(count - 1)"))
        #expect(messages.contains { $0.contains("the signed root at size \(count) does not match") || $0.contains("beyond") })
    }

    /// The verifier's compact range keeps no heights (they are the size's set bits) and writes in place: its root
    /// at every size must be the tree's by the RFC's definition, across several powers of two.
    @Test func compactRangeRootIsTheTreeRootAtEverySize() {
        let leaves = (0..<300).map { SHA256.hash(Array("leaf \($0)".utf8)) }
        var range = CompactRange()
        #expect(range.root == MerkleTree.emptyRoot)
        for (count, leaf) in leaves.enumerated() {
            range.append(leaf)
            #expect(range.size == count + 1)
            #expect(range.root == MerkleTree.root(of: leaves.prefix(count + 1)))
        }
    }
}
