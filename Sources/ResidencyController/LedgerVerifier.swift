import Foundation
import ResidencyCore
import ResidencyStore

/// The outcome of `Ledger.verify`: what was checked and every problem, the first bad index first.
package struct LedgerVerification: Sendable {
    package struct Problem: Sendable, CustomStringConvertible {
        /// The first entry index the problem concerns.
        package let index: Int
        package let message: String
        package var description: String { "entry \(index): \(message)" }

        package init(index: Int, message: String) {
            self.index = index
            self.message = message
        }
    }

    package let entries: Int
    package let root: SHA256Digest
    package let checkpointsVerified: Int
    /// Published checkpoints (a witness quorum's cosignatures) that verified, and the largest one's size.
    package var publishedVerified = 0
    package var latestPublishedSize = 0
    package var problems: [Problem]

    package var isValid: Bool { problems.isEmpty }
    package var firstBadIndex: Int? { problems.map(\.index).min() }
}

extension Ledger {
    /// Recomputes the whole tree from the stored entries — never trusting stored hashes — and checks:
    /// every index is present once and in order, each entry names its own index, each stored leaf hash
    /// matches its entry, every stored checkpoint's root matches the recomputed root at its size and carries
    /// a valid signature, and (given `earlier`, a checkpoint note saved before) that today's log extends it.
    ///
    /// With `trust` (what an auditor pinned: the log's key, the witnesses and their quorum) every signature is
    /// checked against the pinned log key, never against the key in the data directory, and every published
    /// checkpoint must carry the quorum's cosignatures (`verifyPublished`).
    package func verify(earlier: String? = nil, trust: TrustPolicy? = nil) throws -> LedgerVerification {
        var problems: [LedgerVerification.Problem] = []
        var earlierCheckpoint: Checkpoint?
        let logVerifier = trust?.log ?? signer.verifier
        if let earlier {
            do {
                earlierCheckpoint = try Checkpoint.verified(note: earlier, verifier: logVerifier)
            } catch {
                problems.append(.init(index: 0, message: "the given checkpoint does not verify: \(error)"))
            }
        }
        return try pool.read { database in
            let repository = LedgerRepository(database)
            let checkpoints = try repository.checkpoints()
            let published = try repository.published()
            let stream = LedgerStreamCheck(
                rootsWanted: Set(checkpoints.map(\.size)).union(published.map(\.size))
                    .union(earlierCheckpoint.map { [$0.size] } ?? []))
            // The whole table is read once, in order: through a memory map SQLite hands out pages without
            // copying each out of the page cache (a sixth of the time went to those copies). Only for this
            // pass: the connection goes back to the pool as it came.
            try database.setMemoryMapSize(Self.verificationMapSize)
            defer { try? database.setMemoryMapSize(0) }
            // Rows are read here and checked on a second thread, a batch at a time (`LedgerEntryBatches`).
            try LedgerEntryBatches.run(read: { emit in try repository.forEachEntry(emit) }) { batch in
                batch.forEach(stream.check)
            }
            problems += stream.problems
            let position = stream.position
            let rootsAt = stream.rootsAt
            let range = stream.range
            var verified = 0
            for checkpoint in checkpoints {
                guard let recomputed = rootsAt[checkpoint.size] else {
                    problems.append(
                        .init(
                            index: position,
                            message:
                                "checkpoint at size \(checkpoint.size) is beyond the log's \(position) entries (entries were removed)"
                        ))
                    continue
                }
                do {
                    let signed = try Checkpoint.verified(note: checkpoint.note, verifier: logVerifier)
                    guard signed.size == checkpoint.size, signed.root == recomputed else {
                        problems.append(
                            .init(
                                index: max(0, checkpoint.size - 1),
                                message:
                                    "the signed root at size \(checkpoint.size) does not match the entries before it (they were changed)"
                            ))
                        continue
                    }
                    verified += 1
                } catch {
                    problems.append(
                        .init(
                            index: max(0, checkpoint.size - 1),
                            message: "checkpoint at size \(checkpoint.size): \(error)"))
                }
            }
            if let earlierCheckpoint {
                if let recomputed = rootsAt[earlierCheckpoint.size] {
                    if recomputed != earlierCheckpoint.root {
                        problems.append(
                            .init(
                                index: max(0, earlierCheckpoint.size - 1),
                                message:
                                    "today's log does not extend the given checkpoint at size \(earlierCheckpoint.size)"
                            ))
                    }
                } else {
                    problems.append(
                        .init(
                            index: position,
                            message:
                                "the given checkpoint has size \(earlierCheckpoint.size), more than the log's \(position) entries"
                        ))
                }
            }
            let publication = Self.verifyPublished(
                published, rootsAt: rootsAt, size: position, log: logVerifier, witnesses: trust?.witnesses)
            problems += publication.problems
            problems.sort { $0.index < $1.index }
            var result = LedgerVerification(
                entries: position, root: range.root, checkpointsVerified: verified, problems: problems)
            result.publishedVerified = publication.verified
            result.latestPublishedSize = published.last?.size ?? 0
            return result
        }
    }

    /// The most of the database file verification maps at once (SQLite's own ceiling is 2 GiB by default).
    static let verificationMapSize = 1 << 30

    /// The top-level `index` of a canonical entry. Keys are sorted and strings escape their quotes, so the
    /// last `"index":` in the bytes is the entry's own (one inside `body` comes earlier).
    ///
    /// Searched from the end with Horspool's rule on the reversed bytes: a window whose first byte is not in
    /// the key moves 8 bytes at once, where testing every position had cost a tenth of a verification.
    static func claimedIndex(in entry: UnsafeRawBufferPointer) -> Int? {
        let key: StaticString = "\"index\":"
        let keyLength = key.utf8CodeUnitCount
        guard entry.count > keyLength, let base = entry.baseAddress else { return nil }
        // The key is exactly 8 bytes: one unaligned 64-bit compare per window, not a memcmp call.
        let keyWord = UnsafeRawPointer(key.utf8Start).loadUnaligned(as: UInt64.self)
        let shifts = Self.keyShift
        var start = entry.count - keyLength
        while start >= 0 {
            if base.loadUnaligned(fromByteOffset: start, as: UInt64.self) == keyWord {
                var value = 0
                var cursor = start + keyLength
                var digits = 0
                while cursor < entry.count, (48...57).contains(entry[cursor]) {
                    value = value * 10 + Int(entry[cursor] - 48)
                    cursor += 1
                    digits += 1
                }
                return digits > 0 ? value : nil
            }
            start -= shifts[Int(entry[start])]
        }
        return nil
    }

    /// Horspool's shift for `claimedIndex`, by the byte a failed window starts with: the next window that can
    /// match must hold that byte at one of the key's positions 1...7, so the window moves by the smallest such
    /// position (8 when the key has the byte at none of them).
    private static let keyShift: [Int] = {
        var shift = [Int](repeating: 8, count: 256)
        // From the last position to the first, so the smallest position of a repeated byte is the one kept.
        for (offset, byte) in Array("\"index\":".utf8).enumerated().dropFirst().reversed() {
            shift[Int(byte)] = offset
        }
        return shift
    }()
}

/// The checks of a verification that go entry by entry, in index order: each row's index and claimed index,
/// its leaf hash against the stored one, and the tree's root at every size asked for. Touched by one thread at a
/// time: the checker thread while rows stream, then the caller once `LedgerEntryBatches.run` has returned.
final class LedgerStreamCheck: @unchecked Sendable {
    private(set) var problems: [LedgerVerification.Problem] = []
    private(set) var range = CompactRange()
    /// Entries checked so far.
    private(set) var position = 0
    /// The recomputed root at each wanted size reached so far.
    private(set) var rootsAt: [Int: SHA256Digest] = [:]
    /// The sizes whose roots are still to come, in order, consumed as the stream passes them.
    private var pending: ArraySlice<Int>
    private let hasher = SHA256Hasher()

    init(rootsWanted: Set<Int>) {
        pending = rootsWanted.sorted()[...]
        if rootsWanted.contains(0) { rootsAt[0] = MerkleTree.emptyRoot }
    }

    /// Checks the next row; `claimedIndex` is the index the entry names (`Ledger.claimedIndex`), nil for none.
    func check(rowIndex: Int, entry: UnsafeRawBufferPointer, storedLeaf: SHA256Digest?, claimedIndex: Int?) {
        if rowIndex != position {
            problems.append(
                .init(
                    index: position,
                    message: rowIndex > position
                        ? "missing: the next stored entry has index \(rowIndex)" : "duplicate index \(rowIndex)"
                ))
        }
        switch claimedIndex {
        case .none: problems.append(.init(index: position, message: "not a ledger entry (no index field)"))
        case .some(let claimed) where claimed != position:
            problems.append(
                .init(
                    index: position,
                    message: "the entry at position \(position) says it is entry \(claimed) (reordered or inserted)")
            )
        default: break
        }
        let leaf = hasher.hash(prefix: 0x00, entry)
        if leaf != storedLeaf {
            problems.append(
                .init(index: position, message: "altered: its content no longer matches its recorded leaf hash"))
        }
        range.append(leaf)
        position += 1
        while let next = pending.first, next <= position {
            if next == position { rootsAt[position] = range.root }
            pending.removeFirst()
        }
    }
}

/// The perfect subtrees covering a prefix of the leaves: enough to know the root at every size while
/// streaming, in O(log n) memory.
///
/// The subtrees are the set bits of the size, largest first, so no heights are kept: appending a leaf merges it
/// with one subtree per trailing one bit of the size. Their hashes sit in storage made once at its largest (one per
/// bit of a size), written in place: the verification appends millions of leaves, and growing and shrinking an
/// array for each had cost a few percent of the checker's time.
struct CompactRange {
    private var hashes = [SHA256Digest](repeating: MerkleTree.emptyRoot, count: Int.bitWidth)
    /// Leaves appended; its set bits are the subtrees, and their number is how many `hashes` are in use.
    private(set) var size = 0

    mutating func append(_ leaf: SHA256Digest) {
        var hash = leaf
        var top = size.nonzeroBitCount
        var rest = size
        hashes.withUnsafeMutableBufferPointer { hashes in
            while rest & 1 == 1 {
                top -= 1
                hash = MerkleTree.nodeHash(hashes[top], hash)
                rest >>= 1
            }
            hashes[top] = hash
        }
        size += 1
    }

    var root: SHA256Digest {
        let count = size.nonzeroBitCount
        guard count > 0 else { return MerkleTree.emptyRoot }
        var root = hashes[count - 1]
        for index in stride(from: count - 2, through: 0, by: -1) { root = MerkleTree.nodeHash(hashes[index], root) }
        return root
    }
}
