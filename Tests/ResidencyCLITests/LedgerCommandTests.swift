import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyCLI

/// The ledger on a real database file, tampered with behind the program's back.
@Suite struct LedgerCommandTests {
    let data: URL

    init() throws {
        data = FileManager.default.temporaryDirectory.appendingPathComponent("residency-ledger-\(UUID().uuidString)")
        // Twenty token creations: twenty ledger entries, with a checkpoint after the tenth.
        for index in 0..<20 {
            #expect(
                CLIRun.run(["tokens", "create", "--role", "ops", "--name", "t\(index)", "--data", data.path]).status
                    == 0)
            if index == 9 { #expect(CLIRun.run(["ledger", "checkpoint", "--data", data.path]).status == 0) }
        }
        #expect(CLIRun.run(["ledger", "checkpoint", "--data", data.path]).status == 0)
    }

    func cleanUp() { try? FileManager.default.removeItem(at: data) }

    func verify(_ extra: [String] = []) -> CLIRun { CLIRun.run(["ledger", "verify", "--data", data.path] + extra) }

    /// Opens the file directly and removes the append-only triggers, as an intruder with file access would.
    func tamper(_ sql: String) throws {
        let database = try Database(path: data.appendingPathComponent("residency.sqlite3").path)
        for trigger in [
            "ledger_entries_no_update", "ledger_entries_no_delete", "ledger_nodes_no_update", "ledger_nodes_no_delete",
        ] {
            try database.execute("DROP TRIGGER IF EXISTS \(trigger)")
        }
        try database.execute(sql)
    }

    @Test func intactLogVerifies() {
        defer { cleanUp() }
        let run = verify()
        #expect(run.status == 0, "\(run.error)")
        // Every command line that wrote signed before it exited: one checkpoint per token created.
        #expect(run.output.hasPrefix("verified 20 entries, 20 checkpoints and 0 published checkpoints"), "\(run.output)")
    }

    @Test func triggersRefuseChangesThroughSQLite() throws {
        defer { cleanUp() }
        let database = try Database(path: data.appendingPathComponent("residency.sqlite3").path)
        #expect(throws: DatabaseError.self) {
            try database.execute("UPDATE ledger_entries SET entry = x'00' WHERE idx = 1")
        }
        #expect(throws: DatabaseError.self) { try database.execute("DELETE FROM ledger_entries WHERE idx = 1") }
        #expect(throws: DatabaseError.self) { try database.execute("DELETE FROM ledger_checkpoints") }
        #expect(verify().status == 0)
    }

    @Test func oneChangedByteIsFoundAtItsIndex() throws {
        defer { cleanUp() }
        // "ops" → "opz" inside entry 5's body.
        try tamper(
            "UPDATE ledger_entries SET entry = CAST(replace(CAST(entry AS TEXT), '\"ops\"', '\"opz\"') AS BLOB) WHERE idx = 5"
        )
        let run = verify()
        #expect(run.status == 1)
        #expect(run.error.contains("entry 5: altered"))
        #expect(run.error.contains("first bad index 5"))
    }

    /// One bit flipped anywhere in any entry — the first, the last, inside the index digits — is found at
    /// that entry's index; put back, the log verifies again.
    @Test func aFlippedBitInEveryEntryIsFoundAtItsIndex() throws {
        defer { cleanUp() }
        // The indexes over the entries' JSON would refuse bytes that are no longer JSON: the intruder drops
        // them as well.
        try tamper("DROP INDEX ledger_entries_kind_time; DROP INDEX ledger_entries_access_request; DROP INDEX ledger_entries_tenant")
        let database = try Database(path: data.appendingPathComponent("residency.sqlite3").path)
        var random = SplitMix(seed: 5)
        for index in 0..<20 {
            let original = try #require(
                try database.statement("SELECT entry FROM ledger_entries WHERE idx = ?").first([
                    .integer(Int64(index))
                ]) { $0.blob(0) })
            for position in [0, original.count - 1, Int(random.next() % UInt64(original.count))] {
                var flipped = original
                flipped[position] ^= 1 << (random.next() % 8)
                try database.statement("UPDATE ledger_entries SET entry = ? WHERE idx = ?").run([
                    .blob(flipped), .integer(Int64(index)),
                ])
                let run = verify()
                #expect(run.status == 1)
                #expect(
                    run.error.contains("first bad index \(index)"), "byte \(position) of entry \(index): \(run.error)")
            }
            try database.statement("UPDATE ledger_entries SET entry = ? WHERE idx = ?").run([
                .blob(original), .integer(Int64(index)),
            ])
        }
        #expect(verify().status == 0)
    }

    @Test func aDeletedRowIsFound() throws {
        defer { cleanUp() }
        try tamper("DELETE FROM ledger_entries WHERE idx = 7")
        let run = verify()
        #expect(run.status == 1)
        #expect(run.error.contains("first bad index 7"), "\(run.error)")
    }

    @Test func swappedRowsAreFound() throws {
        defer { cleanUp() }
        try tamper(
            """
            CREATE TEMP TABLE saved AS SELECT idx, entry, leaf_hash FROM ledger_entries WHERE idx IN (3, 9);
            UPDATE ledger_entries SET entry = (SELECT entry FROM saved WHERE idx = 9), leaf_hash = (SELECT leaf_hash FROM saved WHERE idx = 9) WHERE idx = 3;
            UPDATE ledger_entries SET entry = (SELECT entry FROM saved WHERE idx = 3), leaf_hash = (SELECT leaf_hash FROM saved WHERE idx = 3) WHERE idx = 9;
            """)
        let run = verify()
        #expect(run.status == 1)
        #expect(run.error.contains("entry 3: the entry at position 3 says it is entry 9"))
        #expect(run.error.contains("first bad index 3"))
    }

    @Test func aRehashedEditIsCaughtByTheSignedCheckpoint() throws {
        defer { cleanUp() }
        // The intruder also fixes the leaf hash; only the signature over the root stands in the way.
        let database = try Database(path: data.appendingPathComponent("residency.sqlite3").path)
        let original = try #require(
            try database.statement("SELECT entry FROM ledger_entries WHERE idx = 4").first { $0.blob(0) })
        let edited = Array(
            String(decoding: original, as: UTF8.self).replacingOccurrences(of: "\"ops\"", with: "\"adm\"").utf8)
        try tamper("DROP TRIGGER IF EXISTS ledger_entries_no_update")
        try database.statement("UPDATE ledger_entries SET entry = ?, leaf_hash = ? WHERE idx = 4").run([
            .blob(edited), .blob(MerkleTree.leafHash(edited).bytes),
        ])
        let run = verify()
        #expect(run.status == 1)
        #expect(run.error.contains("does not match the entries before it"), "\(run.error)")
    }

    @Test func todaysLogMustExtendASavedCheckpoint() throws {
        defer { cleanUp() }
        let saved = data.appendingPathComponent("saved-checkpoint")
        try CLIRun.run(["ledger", "checkpoint", "--data", data.path]).output.write(
            to: saved, atomically: true, encoding: .utf8)
        #expect(CLIRun.run(["tokens", "create", "--role", "ops", "--name", "later", "--data", data.path]).status == 0)
        #expect(verify(["--checkpoint", saved.path]).status == 0)

        // A checkpoint whose signature does not verify is refused.
        let forged = try String(contentsOf: saved, encoding: .utf8).replacingOccurrences(of: "\n20\n", with: "\n19\n")
        try forged.write(to: saved, atomically: true, encoding: .utf8)
        let run = verify(["--checkpoint", saved.path])
        #expect(run.status == 1)
        #expect(run.error.contains("the given checkpoint does not verify"))
    }

    @Test func proofsEntriesAndPublicKey() throws {
        defer { cleanUp() }
        let key = CLIRun.run(["ledger", "public-key", "--data", data.path]).output
        #expect(key.hasPrefix("residency.local/ledger+"))
        let verifier = try NoteVerifier(encoded: key)
        let note = CLIRun.run(["ledger", "checkpoint", "--data", data.path]).output
        let checkpoint = try Checkpoint.verified(note: note, verifier: verifier)
        #expect(checkpoint.size == 20)

        let lines = CLIRun.run(["ledger", "entries", "--data", data.path, "--from", "2", "--to", "5"]).output.split(
            separator: "\n")
        #expect(lines.count == 4)
        let only = CLIRun.run(["ledger", "entries", "--data", data.path, "--from", "7", "--to", "7"]).output
        #expect(only.split(separator: "\n").count == 1 && only.hasPrefix(#"{"index":7,"#))
        let first = try JSONParser.parse(String(lines[0]))
        #expect(first["index"] == .integer(2))
        #expect(first["entry"]?["kind"] == .string("token.created"))

        let proof = try JSONParser.parse(CLIRun.run(["ledger", "prove", "7", "--data", data.path]).output)
        // Hashes in base64, as checkpoints carry them; hex only in the fields labelled so.
        guard case .array(let path) = proof["proof"], case .string(let leafText) = proof["leaf_hash"],
            case .string(let leafHex) = proof["leaf_hash_hex"], case .string(let rootText) = proof["root"]
        else {
            Issue.record("malformed proof")
            return
        }
        let leaf = try #require(Data(base64Encoded: leafText).flatMap { SHA256Digest(bytes: Array($0)) })
        #expect(leaf.hex == leafHex)
        #expect(rootText == Data(checkpoint.root.bytes).base64EncodedString())
        let hashes = path.compactMap { value -> SHA256Digest? in
            if case .string(let text) = value { return Data(base64Encoded: text).flatMap { SHA256Digest(bytes: Array($0)) } }
            return nil
        }
        #expect(hashes.count == path.count)
        #expect(
            MerkleProofVerifier.verifyInclusion(leaf: leaf, index: 7, size: 20, proof: hashes, root: checkpoint.root))
        #expect(CLIRun.run(["ledger", "prove", "25", "--data", data.path]).status == 1)
    }

}
