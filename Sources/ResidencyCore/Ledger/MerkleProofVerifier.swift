/// Verification of RFC 9162 §2.1.3.2 inclusion proofs and §2.1.4.2 consistency proofs, exactly as
/// specified, so any RFC 6962 implementation's proofs check here and ours check anywhere.
package enum MerkleProofVerifier {
    package static func verifyInclusion(
        leaf: SHA256Digest, index: Int, size: Int, proof: [SHA256Digest], root: SHA256Digest
    ) -> Bool {
        guard index >= 0, index < size else { return false }
        var fn = index
        var sn = size - 1
        var r = leaf
        for p in proof {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                r = MerkleTree.nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = MerkleTree.nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        return sn == 0 && r == root
    }

    package static func verifyConsistency(
        firstSize: Int, secondSize: Int, firstRoot: SHA256Digest, secondRoot: SHA256Digest, proof: [SHA256Digest]
    ) -> Bool {
        guard firstSize > 0, firstSize <= secondSize else { return false }
        if firstSize == secondSize { return proof.isEmpty && firstRoot == secondRoot }
        var path = proof[...]
        // If the first size is a power of two, its root is the first node of the walk.
        if firstSize & (firstSize - 1) == 0 { path.insert(firstRoot, at: path.startIndex) }
        guard !path.isEmpty else { return false }
        var fn = firstSize - 1
        var sn = secondSize - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path.first!
        var sr = path.first!
        for c in path.dropFirst() {
            if sn == 0 { return false }
            if fn & 1 == 1 || fn == sn {
                fr = MerkleTree.nodeHash(c, fr)
                sr = MerkleTree.nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = MerkleTree.nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        return fr == firstRoot && sr == secondRoot && sn == 0
    }
}
