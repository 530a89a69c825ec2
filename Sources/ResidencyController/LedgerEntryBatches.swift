import Foundation
import ResidencyCore

/// Hands stored ledger entries from the thread reading them out of the database to a thread that checks and
/// hashes them, a batch at a time, so that reading (SQLite's row decoding, about a third of a verification) and
/// hashing (leaf and node hashes, about half) overlap on two cores instead of following each other on one.
///
/// A batch holds copies of the rows (the database's buffers are valid only until its next step), and only
/// `batchCount` batches exist: while the checker is behind, the reader waits for one to come back, so memory is
/// bounded by `batchCount` batches of about `batchBytes` bytes each (a batch closes at the first row that takes
/// it past that, so a single huge entry makes one batch larger, never more batches). Hand-offs are per batch,
/// not per entry: with one lock and one wake-up per row the second thread had made verification slower.
final class LedgerEntryBatches: @unchecked Sendable {
    /// Rows copied out of the database, in the order read.
    struct Batch {
        /// Each row's entry bytes, one after the other.
        var bytes: [UInt8] = []
        /// Where each row's entry ends in `bytes` (it starts where the previous one ends).
        var ends: [Int] = []
        /// Each row's stored index.
        var rowIndices: [Int] = []
        /// Each row's stored leaf hash; nil when it is not 32 bytes (it then matches nothing).
        var storedLeaves: [SHA256Digest?] = []
        /// The index each entry names (`Ledger.claimedIndex`), or -1 when it names none: found by the reader,
        /// which has time to spare while the checker hashes.
        var claimedIndices: [Int] = []

        var count: Int { ends.count }

        mutating func removeAll() {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            rowIndices.removeAll(keepingCapacity: true)
            storedLeaves.removeAll(keepingCapacity: true)
            claimedIndices.removeAll(keepingCapacity: true)
        }

        mutating func append(rowIndex: Int, entry: UnsafeRawBufferPointer, storedLeaf: UnsafeRawBufferPointer) {
            bytes.append(contentsOf: entry)
            ends.append(bytes.count)
            rowIndices.append(rowIndex)
            storedLeaves.append(SHA256Digest(storedLeaf))
            claimedIndices.append(Ledger.claimedIndex(in: entry) ?? -1)
        }

        /// Calls `body` with each row, in order.
        func forEach(
            _ body: (
                _ rowIndex: Int, _ entry: UnsafeRawBufferPointer, _ storedLeaf: SHA256Digest?, _ claimedIndex: Int?
            ) -> Void
        ) {
            bytes.withUnsafeBytes { all in
                var start = 0
                for row in 0..<ends.count {
                    let end = ends[row]
                    let claimed = claimedIndices[row]
                    body(
                        rowIndices[row], UnsafeRawBufferPointer(rebasing: all[start..<end]), storedLeaves[row],
                        claimed < 0 ? nil : claimed)
                    start = end
                }
            }
        }
    }

    static let batchBytes = 512 * 1024
    static let batchRows = 4096
    static let batchCount = 3

    // Guarded by `condition`.
    private let condition = NSCondition()
    private var empty: [Batch]
    private var full: [Batch] = []
    private var finished = false
    private var checkerDone = false

    init() {
        empty = (0..<Self.batchCount).map { _ in
            var batch = Batch()
            batch.bytes.reserveCapacity(Self.batchBytes + 4096)
            batch.ends.reserveCapacity(Self.batchRows)
            batch.rowIndices.reserveCapacity(Self.batchRows)
            batch.storedLeaves.reserveCapacity(Self.batchRows)
            batch.claimedIndices.reserveCapacity(Self.batchRows)
            return batch
        }
    }

    /// Runs `check` on every row `read` hands to its `emit`, on a second thread, in the order read; returns when
    /// both are done. `read` runs on the calling thread (it holds the database connection). If `read` throws,
    /// the checker stops after the rows already handed over and the error is rethrown once it has.
    static func run(
        read: (_ emit: (_ rowIndex: Int, _ entry: UnsafeRawBufferPointer, _ storedLeaf: UnsafeRawBufferPointer) -> Void)
            throws -> Void,
        check: @escaping @Sendable (Batch) -> Void
    ) throws {
        let batches = LedgerEntryBatches()
        let thread = Thread { batches.drain(check) }
        thread.name = "residency-ledger-verify"
        thread.start()
        var current = batches.takeEmpty()
        defer { batches.finishAndWait() }
        try read { rowIndex, entry, storedLeaf in
            current.append(rowIndex: rowIndex, entry: entry, storedLeaf: storedLeaf)
            if current.bytes.count >= batchBytes || current.count >= batchRows {
                batches.hand(current)
                current = batches.takeEmpty()
            }
        }
        if current.count > 0 { batches.hand(current) }
    }

    private func takeEmpty() -> Batch {
        condition.lock()
        defer { condition.unlock() }
        while empty.isEmpty { condition.wait() }
        var batch = empty.removeLast()
        batch.removeAll()
        return batch
    }

    private func hand(_ batch: Batch) {
        condition.lock()
        full.append(batch)
        condition.broadcast()
        condition.unlock()
    }

    /// No more batches: waits until the checker has checked every one handed over and left.
    private func finishAndWait() {
        condition.lock()
        finished = true
        condition.broadcast()
        while !checkerDone { condition.wait() }
        condition.unlock()
    }

    /// The checker thread: checks full batches in order and gives them back, until there are no more.
    private func drain(_ check: (Batch) -> Void) {
        while true {
            condition.lock()
            while full.isEmpty && !finished { condition.wait() }
            guard !full.isEmpty else {
                checkerDone = true
                condition.broadcast()
                condition.unlock()
                return
            }
            let batch = full.removeFirst()
            condition.unlock()
            check(batch)
            condition.lock()
            // Consumed, so the reader that takes it next holds the only reference and refills it in place.
            empty.append(consume batch)
            condition.broadcast()
            condition.unlock()
        }
    }
}
