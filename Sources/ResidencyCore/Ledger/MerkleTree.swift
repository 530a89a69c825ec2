/// The Merkle tree hash of RFC 6962 §2.1 / RFC 9162 §2.1: leaf = SHA-256(0x00 ‖ entry),
/// node = SHA-256(0x01 ‖ left ‖ right), the empty tree = SHA-256 of nothing, and a tree of n leaves splits
/// at the largest power of two below n.
package enum MerkleTree {
    package static func leafHash(_ entry: [UInt8]) -> SHA256Digest {
        entry.withUnsafeBytes { SHA256.hash(prefix: 0x00, $0) }
    }

    /// Runs once per internal node, millions of times in a verification: no allocation, no EVP dispatch.
    package static func nodeHash(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        SHA256.nodeHash(left, right)
    }

    package static let emptyRoot = SHA256.hash([])

    /// The largest power of two strictly below `n` (n ≥ 2).
    static func split(_ n: Int) -> Int {
        var k = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The root of `leaves` by the RFC's recursive definition: the reference the stored, incremental
    /// computation is tested against.
    package static func root(of leaves: ArraySlice<SHA256Digest>) -> SHA256Digest {
        switch leaves.count {
        case 0: return emptyRoot
        case 1: return leaves.first!
        default:
            let k = split(leaves.count)
            return nodeHash(root(of: leaves.prefix(k)), root(of: leaves.dropFirst(k)))
        }
    }
}

/// Where a tree's hashes come from: any source that answers the hash of a perfect, aligned subtree.
package protocol MerkleNodeSource {
    /// The hash of leaves `[index·2^level, (index+1)·2^level)`; level 0 is the leaf hash.
    func node(level: Int, index: Int) throws -> SHA256Digest
}

extension MerkleNodeSource {
    /// MTH of leaves `[start, end)`, where `start` is aligned as every range in RFC 6962's recursion is:
    /// perfect aligned subtrees are read as stored, the rest splits — O(log n) reads.
    package func subtreeHash(start: Int, end: Int) throws -> SHA256Digest {
        let count = end - start
        if count == 0 { return MerkleTree.emptyRoot }
        if count & (count - 1) == 0 && start % count == 0 {
            return try node(level: count.trailingZeroBitCount, index: start / count)
        }
        let k = MerkleTree.split(count)
        return MerkleTree.nodeHash(
            try subtreeHash(start: start, end: start + k), try subtreeHash(start: start + k, end: end))
    }

    package func root(size: Int) throws -> SHA256Digest { try subtreeHash(start: 0, end: size) }

    /// PATH(m, D[0:n]) of RFC 6962 §2.1.1: the audit path of leaf `index` in the tree of `size` leaves.
    package func inclusionProof(index: Int, size: Int) throws -> [SHA256Digest] {
        precondition(index >= 0 && index < size)
        var path: [SHA256Digest] = []
        var start = 0
        var end = size
        var m = index
        // Walk down from the root, collecting the sibling of each subtree containing the leaf; the RFC lists
        // them leaf-first, so the list is reversed at the end.
        while end - start > 1 {
            let k = MerkleTree.split(end - start)
            if m < k {
                path.append(try subtreeHash(start: start + k, end: end))
                end = start + k
            } else {
                path.append(try subtreeHash(start: start, end: start + k))
                start += k
                m -= k
            }
        }
        return path.reversed()
    }

    /// PROOF(m, D[0:n]) of RFC 6962 §2.1.2: that the tree of `from` leaves is a prefix of the tree of `to`.
    package func consistencyProof(from: Int, to: Int) throws -> [SHA256Digest] {
        precondition(0 < from && from <= to)
        if from == to { return [] }
        return try subproof(m: from, start: 0, end: to, complete: true)
    }

    private func subproof(m: Int, start: Int, end: Int, complete: Bool) throws -> [SHA256Digest] {
        let n = end - start
        if m == n { return complete ? [] : [try subtreeHash(start: start, end: end)] }
        let k = MerkleTree.split(n)
        if m <= k {
            return try subproof(m: m, start: start, end: start + k, complete: complete) + [
                try subtreeHash(start: start + k, end: end)
            ]
        }
        return try subproof(m: m - k, start: start + k, end: end, complete: false) + [
            try subtreeHash(start: start, end: start + k)
        ]
    }
}

/// Hashes held in memory, for tests and for verifying an exported tree.
package struct InMemoryMerkleNodes: MerkleNodeSource {
    package let leaves: [SHA256Digest]

    package init(leaves: [SHA256Digest]) { self.leaves = leaves }

    package func node(level: Int, index: Int) throws -> SHA256Digest {
        let width = 1 << level
        return MerkleTree.root(of: leaves[(index * width)..<((index + 1) * width)])
    }
}
