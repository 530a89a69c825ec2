import Foundation
import Testing

@testable import ResidencyCore

@Suite struct MerkleTreeTests {
    /// The reference leaves of the certificate-transparency implementations' tests.
    static let leaves: [[UInt8]] = [
        [], [0x00], [0x10], [0x20, 0x21], [0x30, 0x31], [0x40, 0x41, 0x42, 0x43],
        [0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57],
        [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f],
    ]

    /// Their published roots for sizes 1…8.
    static let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ]

    @Test func emptyTreeIsTheHashOfNothing() {
        #expect(MerkleTree.emptyRoot.hex == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test func knownAnswerRoots() throws {
        let hashes = Self.leaves.map(MerkleTree.leafHash)
        let nodes = InMemoryMerkleNodes(leaves: hashes)
        for size in 1...8 {
            #expect(MerkleTree.root(of: hashes.prefix(size)).hex == Self.roots[size - 1], "size \(size)")
            #expect(try nodes.root(size: size).hex == Self.roots[size - 1], "size \(size)")
        }
    }

    /// Inclusion proof of leaf 0 in the tree of 8, and consistency 1→8, as published.
    @Test func knownAnswerProofs() throws {
        let nodes = InMemoryMerkleNodes(leaves: Self.leaves.map(MerkleTree.leafHash))
        #expect(
            try nodes.inclusionProof(index: 0, size: 8).map(\.hex) == [
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ])
        #expect(
            try nodes.consistencyProof(from: 6, to: 8).map(\.hex) == [
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ])
    }

    static func randomLeaves(_ count: Int) -> [SHA256Digest] {
        (0..<count).map { MerkleTree.leafHash(Array("entry \($0)".utf8)) }
    }

    static func flip(_ digest: SHA256Digest, byte: Int) -> SHA256Digest {
        var bytes = digest.bytes
        bytes[byte % 32] ^= 0x01
        return SHA256Digest(bytes: bytes)!
    }

    @Test func everyInclusionProofUpTo64VerifiesAndFailsWhenChanged() throws {
        let all = Self.randomLeaves(64)
        let nodes = InMemoryMerkleNodes(leaves: all)
        for size in 1...64 {
            let root = MerkleTree.root(of: all.prefix(size))
            #expect(try nodes.root(size: size) == root)
            for index in 0..<size {
                let proof = try nodes.inclusionProof(index: index, size: size)
                #expect(
                    MerkleProofVerifier.verifyInclusion(
                        leaf: all[index], index: index, size: size, proof: proof, root: root))
                #expect(
                    !MerkleProofVerifier.verifyInclusion(
                        leaf: Self.flip(all[index], byte: index), index: index, size: size, proof: proof, root: root))
                #expect(
                    !MerkleProofVerifier.verifyInclusion(
                        leaf: all[index], index: index, size: size, proof: proof, root: Self.flip(root, byte: size)))
                if !proof.isEmpty {
                    var broken = proof
                    broken[index % proof.count] = Self.flip(broken[index % proof.count], byte: 7)
                    #expect(
                        !MerkleProofVerifier.verifyInclusion(
                            leaf: all[index], index: index, size: size, proof: broken, root: root))
                    #expect(
                        !MerkleProofVerifier.verifyInclusion(
                            leaf: all[index], index: index, size: size, proof: Array(proof.dropLast()), root: root))
                }
                if size > 1 {
                    #expect(
                        !MerkleProofVerifier.verifyInclusion(
                            leaf: all[index], index: (index + 1) % size, size: size, proof: proof, root: root))
                }
            }
        }
    }

    @Test func everyConsistencyProofUpTo64VerifiesAndFailsWhenChanged() throws {
        let all = Self.randomLeaves(64)
        let nodes = InMemoryMerkleNodes(leaves: all)
        for to in 1...64 {
            let toRoot = MerkleTree.root(of: all.prefix(to))
            for from in 1...to {
                let fromRoot = MerkleTree.root(of: all.prefix(from))
                let proof = try nodes.consistencyProof(from: from, to: to)
                #expect(
                    MerkleProofVerifier.verifyConsistency(
                        firstSize: from, secondSize: to, firstRoot: fromRoot, secondRoot: toRoot, proof: proof))
                #expect(
                    !MerkleProofVerifier.verifyConsistency(
                        firstSize: from, secondSize: to, firstRoot: Self.flip(fromRoot, byte: 3), secondRoot: toRoot,
                        proof: proof))
                #expect(
                    !MerkleProofVerifier.verifyConsistency(
                        firstSize: from, secondSize: to, firstRoot: fromRoot, secondRoot: Self.flip(toRoot, byte: 5),
                        proof: proof))
                if !proof.isEmpty {
                    var broken = proof
                    broken[from % proof.count] = Self.flip(broken[from % proof.count], byte: 11)
                    #expect(
                        !MerkleProofVerifier.verifyConsistency(
                            firstSize: from, secondSize: to, firstRoot: fromRoot, secondRoot: toRoot, proof: broken))
                }
            }
        }
    }

    @Test func compactRangeAgreesWithTheDefinition() throws {
        // The store's incremental nodes are checked in the ledger tests; here the reference itself.
        let all = Self.randomLeaves(40)
        for size in 0...40 {
            #expect(try InMemoryMerkleNodes(leaves: all).root(size: size) == MerkleTree.root(of: all.prefix(size)))
        }
    }

    /// The leaf and node hashes copy their input into one buffer below 512 bytes and hash it in two updates above:
    /// both must be SHA-256 of the whole message, as the EVP one-shot computes it, on either side of the limit.
    @Test(arguments: [0, 1, 62, 63, 64, 148, 510, 511, 512, 513, 4_000])
    func prefixedHashIsTheHashOfPrefixAndMessage(length: Int) {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        for prefix: UInt8 in [0, 1] {
            let fast = message.withUnsafeBytes { SHA256.hash(prefix: prefix, $0) }
            #expect(fast == SHA256.hash([prefix] + message))
        }
    }

    @Test func nodeHashIsTheHashOfOneAndBothChildren() {
        let leaves = Self.randomLeaves(2)
        #expect(MerkleTree.nodeHash(leaves[0], leaves[1]) == SHA256.hash([1] + leaves[0].bytes + leaves[1].bytes))
        #expect(MerkleTree.nodeHash(leaves[1], leaves[0]) != MerkleTree.nodeHash(leaves[0], leaves[1]))
    }
}

@Suite struct SignedNoteTests {
    @Test func checkpointsSignAndVerify() throws {
        let signer = try NoteSigner(
            name: "example.com/log", privateKey: try Ed25519PrivateKey(seed: Array(repeating: 7, count: 32)))
        let checkpoint = Checkpoint(origin: "example.com/log", size: 42, root: SHA256.hash(Array("x".utf8)))
        let note = try signer.sign(checkpoint.body)
        #expect(note.hasPrefix("example.com/log\n42\n"))
        #expect(note.contains("\n\n— example.com/log "))
        #expect(try Checkpoint.verified(note: note, verifier: signer.verifier) == checkpoint)
        // The verifier key round-trips through its text form, and the key id is the first 4 bytes of
        // SHA-256(name ‖ 0x0A ‖ 0x01 ‖ key).
        let verifier = try NoteVerifier(encoded: signer.verifier.encoded)
        #expect(verifier == signer.verifier)
        let expectedID = SHA256.hash(
            Array("example.com/log".utf8) + [0x0A, 0x01] + signer.privateKey.publicKey.rawValue
        ).bytes.prefix(4)
        #expect(Array(expectedID) == verifier.keyID)
        #expect(try NoteSigner(encoded: signer.encoded).privateKey.seed == signer.privateKey.seed)

        // Keys whose base64 contains '+' (the field separator) still round-trip.
        for _ in 0..<50 {
            let random = try NoteSigner(name: "example.com/log", privateKey: try Ed25519PrivateKey.generate())
            #expect(try NoteSigner(encoded: random.encoded).verifier == random.verifier)
            #expect(try NoteVerifier(encoded: random.verifier.encoded) == random.verifier)
        }

        let forged = note.replacingOccurrences(of: "\n42\n", with: "\n43\n")
        #expect(throws: CryptoError.self) { try Checkpoint.verified(note: forged, verifier: verifier) }
        let other = try NoteSigner(name: "example.com/log", privateKey: try Ed25519PrivateKey.generate())
        #expect(throws: CryptoError.self) { try Checkpoint.verified(note: note, verifier: other.verifier) }
    }

    /// RFC 8032 §7.1 test 1: Ed25519 through libcrypto gives the published signature.
    @Test func ed25519KnownAnswer() throws {
        func bytes(_ hex: String) -> [UInt8] { Hex.decode(hex)! }
        let key = try Ed25519PrivateKey(seed: bytes("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"))
        #expect(key.publicKey.rawValue == bytes("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))
        let signature = try key.signature(for: [])
        #expect(
            signature
                == bytes(
                    "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
                ))
        #expect(key.publicKey.isValidSignature(signature, for: []))
        #expect(!key.publicKey.isValidSignature(signature, for: [0]))
    }
}
