import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// Known answers from the C2SP specifications and Go's reference signed-note package.
@Suite struct SignedNoteKnownAnswerTests {
    static let signerKey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    static let verifierKey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    static let text = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
    static let note =
        text
        + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"

    @Test func theReferenceNoteIsReproducedAndVerified() throws {
        let signer = try NoteSigner(encoded: Self.signerKey)
        #expect(signer.verifier.encoded == Self.verifierKey)
        #expect(try signer.sign(Self.text) == Self.note)
        let verifier = try NoteVerifier(encoded: Self.verifierKey)
        #expect(verifier.verifiedText(of: Self.note) == Self.text)
        // What a shell or an editor leaves at the end of a saved note does not matter; the text does.
        for tail in ["\n", "\n\n\n", "\r\n"] {
            let saved = tail == "\r\n" ? Self.note.replacingOccurrences(of: "\n", with: "\r\n") : Self.note + tail
            #expect(verifier.verifiedText(of: saved) == Self.text, "\(tail.debugDescription)")
        }
        #expect(verifier.verifiedText(of: Self.note.replacingOccurrences(of: "problem is", with: "problem was")) == nil)
    }

    /// The signed message of tlog-cosignature v1, byte for byte as the specification's example shows it, and
    /// the key id with algorithm byte 0x04.
    @Test func theCosignatureMessageAndKeyIDAreThoseOfTheSpecification() throws {
        let body = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let message = CosignerKey.message(checkpointText: body, timestamp: 1_679_315_147)
        #expect(
            String(decoding: message, as: UTF8.self)
                == "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        )
        let seed = Array(Data(base64Encoded: "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")!.dropFirst())
        let cosigner = try Cosigner(name: "witness.example/w1", privateKey: try Ed25519PrivateKey(seed: seed))
        let expectedID = Array(
            SHA256.hash(Array("witness.example/w1".utf8) + [0x0A, 0x04] + cosigner.key.publicKey.rawValue).bytes.prefix(4))
        #expect(cosigner.key.keyID == expectedID)
        let line = try cosigner.cosign(checkpointText: body, timestamp: 1_679_315_147)
        #expect(cosigner.key.verify(line, checkpointText: body) == 1_679_315_147)
        #expect(cosigner.key.verify(line, checkpointText: body.replacingOccurrences(of: "63", with: "64")) == nil)
        // A log key (0x01) is not a cosigner key.
        #expect(throws: CryptoError.self) { try CosignerKey(encoded: Self.verifierKey) }
        #expect(try CosignerKey(encoded: cosigner.key.encoded) == cosigner.key)
        #expect(try Cosigner(encoded: cosigner.encoded).key == cosigner.key)
    }
}

/// A witness refuses everything the protocol says it must, and the controller publishes only with a quorum.
@Suite struct WitnessTests {
    static func scratch() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-witness-\(UUID().uuidString)")
    }

    /// Shuts a server down and waits until its port refuses connections.
    static func stop(_ server: HTTPServer) {
        server.shutdown()
        for _ in 0..<100 {
            let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = server.port.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let status = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            close(descriptor)
            if status != 0 { return }
            usleep(50_000)
        }
    }

    /// A log of `size` entries with its signer, in memory.
    final class TestLog {
        let signer: NoteSigner
        let pool: DatabasePool
        let ledger: Ledger

        init(signer: NoteSigner? = nil, size: Int, salt: String = "") throws {
            self.signer = try signer ?? NoteSigner(name: Ledger.defaultOrigin, privateKey: try Ed25519PrivateKey.generate())
            pool = try DatabasePool()
            ledger = Ledger(signer: self.signer, pool: pool, clock: .system)
            try grow(to: size, salt: salt)
        }

        func grow(to size: Int, salt: String = "") throws {
            try pool.write { database in
                while try LedgerRepository(database).size() < size {
                    try Ledger.append(in: database, time: 1, kind: .tokenCreated, actor: "t", body: .string(salt))
                }
            }
        }

        /// The signed checkpoint of the whole log, and a request body from `old`.
        func request(old: Int, proofFrom: Int? = nil) throws -> [UInt8] {
            let note = try ledger.currentCheckpoint().note
            let from = proofFrom ?? old
            let size = try ledger.size()
            let proof = from > 0 && from < size ? try ledger.consistencyProof(from: from, to: size).path : []
            var body = "old \(old)\n"
            for hash in proof { body += Data(hash.bytes).base64EncodedString() + "\n" }
            return Array((body + "\n" + note).utf8)
        }
    }

    @Test func theWitnessRefusesWhatTheProtocolSaysItMust() throws {
        let log = try TestLog(size: 5)
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let witness = try Witness.open(directory: directory, name: "w.test", adding: [log.signer.verifier])
        // First sight: old 0, cosigned.
        let first = witness.addCheckpoint(try log.request(old: 0))
        #expect(first.status == 200, "\(first.body)")
        let note = try SignedNote(parsing: try log.ledger.currentCheckpoint().note)
        #expect(witness.cosigner.key.verify(first.body.trimmingCharacters(in: .newlines), checkpointText: note.text) != nil)
        // Rollback: old 0 again is a conflict naming the size it holds.
        let rollback = witness.addCheckpoint(try log.request(old: 0))
        #expect(rollback.status == 409)
        #expect(rollback.contentType == "text/x.tlog.size" && rollback.body == "5\n")
        // Growth with a good proof.
        try log.grow(to: 9)
        #expect(witness.addCheckpoint(try log.request(old: 5)).status == 200)
        // A bad proof: from the wrong size.
        try log.grow(to: 12)
        #expect(witness.addCheckpoint(try log.request(old: 9, proofFrom: 8)).status == 422)
        // old beyond the checkpoint.
        #expect(witness.addCheckpoint(try log.request(old: 20)).status == 400)
        // A fork: another log of the same size under the same key.
        let fork = try TestLog(signer: log.signer, size: 9, salt: "forked")
        #expect(witness.addCheckpoint(try fork.request(old: 9)).status == 409)
        let forkGrown = try TestLog(signer: log.signer, size: 12, salt: "forked")
        #expect(witness.addCheckpoint(try forkGrown.request(old: 9)).status == 422)
        // An unknown log, and a known origin signed by another key.
        let stranger = try TestLog(
            signer: try NoteSigner(name: "other.log", privateKey: try Ed25519PrivateKey.generate()), size: 3)
        #expect(witness.addCheckpoint(try stranger.request(old: 0)).status == 404)
        let impostor = try TestLog(size: 12)
        #expect(witness.addCheckpoint(try impostor.request(old: 9)).status == 403)
        // Garbage.
        for body in ["", "old\n\n", "old 01\n\nx", "old 5\n!!!\n\n", String(repeating: "AAAA\n", count: 70)] {
            #expect(witness.addCheckpoint(Array(body.utf8)).status == 400, "\(body.prefix(20).debugDescription)")
        }
        // None of the refusals moved it: it still holds 9, and a restart reads the same.
        let reopened = try Witness.open(directory: directory, name: nil, adding: [])
        #expect(reopened.addCheckpoint(try log.request(old: 0)).body == "9\n")
    }

    /// Three witnesses on real sockets, quorum 2: published with two of them, not with one; the checkpoint is
    /// kept, served with its cosignatures, and verifies against pinned keys only.
    @Test func publicationNeedsTheQuorum() throws {
        let log = try TestLog(size: 4)
        var servers: [(HTTPServer, URL)] = []
        var witnesses: [WitnessPolicy.Witness] = []
        for index in 0..<3 {
            let directory = Self.scratch()
            let witness = try Witness.open(directory: directory, name: "w\(index).test", adding: [log.signer.verifier])
            let application = WitnessApplication(witness: witness) { _ in }
            let server = try HTTPServer(
                configuration: HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0")),
                handler: { application.respond(to: $0) }, rejecter: { application.rejection(status: $0, message: $1) })
            Thread.detachNewThread { server.run() }
            servers.append((server, directory))
            witnesses.append(.init(key: witness.cosigner.key, url: "http://127.0.0.1:\(server.port)"))
        }
        defer {
            for (server, directory) in servers {
                server.shutdown()
                try? FileManager.default.removeItem(at: directory)
            }
        }
        let policy = WitnessPolicy(witnesses: witnesses, quorum: 2)
        let publisher = try LedgerPublisher.open(ledger: log.ledger, policy: policy)
        #expect(try publisher.publish() == 4)
        let published = try #require(try publisher.latestPublished())
        let note = try SignedNote(parsing: published.note)
        #expect(policy.cosigners(of: note).count == 3)
        // One witness gone: two still make the quorum.
        Self.stop(servers[0].0)
        try log.grow(to: 7)
        #expect(try publisher.publish() == 7)
        // Two gone: entries are still written, publication waits and says why.
        Self.stop(servers[1].0)
        try log.grow(to: 10)
        #expect(throws: (any Error).self) { try publisher.publish() }
        #expect(try publisher.latestPublished()?.size == 7)
        #expect(publisher.status.waitingSince != nil && publisher.status.signedSize == 10)
        #expect(publisher.status.lastProblems.count == 2)
        // Pinned keys: verifies; a trust file asking for all three fails the checkpoint that had two.
        let trust = TrustPolicy(log: log.signer.verifier, witnesses: policy)
        #expect(try log.ledger.verify(trust: trust).isValid)
        let strict = TrustPolicy(log: log.signer.verifier, witnesses: WitnessPolicy(witnesses: witnesses, quorum: 3))
        #expect(!(try log.ledger.verify(trust: strict).isValid))
        // Another log key pinned: nothing verifies.
        let other = TrustPolicy(
            log: try NoteSigner(name: Ledger.defaultOrigin, privateKey: try Ed25519PrivateKey.generate()).verifier,
            witnesses: policy)
        #expect(!(try log.ledger.verify(trust: other).isValid))
    }

    /// History rewritten and re-signed with the operator's own key: the witnesses refuse to cosign it, so
    /// nothing of the rewritten log is published and `verify --trust` fails; a truncated log is caught by a
    /// witness that has seen more.
    @Test func anOperatorCannotRewriteHistoryPastTheWitnesses() throws {
        let log = try TestLog(size: 6)
        let directory = Self.scratch()
        defer { try? FileManager.default.removeItem(at: directory) }
        let witness = try Witness.open(directory: directory, name: "w.test", adding: [log.signer.verifier])
        let application = WitnessApplication(witness: witness) { _ in }
        let server = try HTTPServer(
            configuration: HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0")),
            handler: { application.respond(to: $0) }, rejecter: { application.rejection(status: $0, message: $1) })
        Thread.detachNewThread { server.run() }
        defer { server.shutdown() }
        let policy = WitnessPolicy(
            witnesses: [.init(key: witness.cosigner.key, url: "http://127.0.0.1:\(server.port)")], quorum: 1)
        #expect(try LedgerPublisher.open(ledger: log.ledger, policy: policy).publish() == 6)
        // The operator rebuilds the log with other entries under the same key, longer than before.
        let rewritten = try TestLog(signer: log.signer, size: 8, salt: "rewritten")
        let publisher = try LedgerPublisher.open(ledger: rewritten.ledger, policy: policy)
        #expect(throws: (any Error).self) { try publisher.publish() }
        #expect(try publisher.latestPublished() == nil)
        let trust = TrustPolicy(log: log.signer.verifier, witnesses: policy)
        let verdict = try rewritten.ledger.verify(trust: trust)
        #expect(!verdict.isValid)
        #expect(verdict.problems.contains { $0.message.contains("ever published") })
        // A shorter log re-signed under the same key: the witness has seen 6 entries.
        let truncated = try TestLog(signer: log.signer, size: 4)
        _ = try truncated.ledger.currentCheckpoint()
        let sizes = truncated.ledger.witnessSizes(policy)
        #expect(sizes.first?.size == 6)
    }
}
