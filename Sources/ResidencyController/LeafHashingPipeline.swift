import Dispatch
import Foundation
import ResidencyCore

/// The hashing half of `Ledger.verify` on a thread of its own: while the caller's thread reads entries off the
/// table (SQLite's steps and the copies it makes, about half the time), this one checks the index each entry
/// claims, hashes it, compares the leaf with the stored leaf hash and folds it into the tree. Before, the two
/// halves took turns on one core.
///
/// Entries travel in batches of copies (SQLite's buffers are valid only until its next step), at most
/// `batchesInFlight` at a time, so memory stays bounded whatever the size of the log.
///
/// `@unchecked Sendable`: a batch belongs to the reading thread from `free.wait()` to `filled.signal()` and to the
/// hashing thread from `filled.wait()` to `free.signal()`, and the semaphores order every access to it. The
/// hashing state (`range`, `position`, `pending`, `rootsAt`, `problems`) is touched by the hashing thread only,
/// until `finish` has waited for that thread to end.
final class LeafHashingPipeline: @unchecked Sendable {
    static let batchSize = 4096
    static let batchesInFlight = 3

    /// Copies of consecutive entries and their stored leaf hashes.
    final class Batch {
        var bytes: [UInt8] = []
        /// Where each entry ends in `bytes`.
        var ends: [Int] = []
        /// 32 bytes per entry: the stored leaf hash, or zeros when it was not 32 bytes long (`storedLeafIsValid`).
        var storedLeaves: [UInt8] = []
        var storedLeafIsValid: [Bool] = []
        /// The end of the log: nothing follows this batch.
        var isLast = false

        func clear() {
            bytes.removeAll(keepingCapacity: true)
            ends.removeAll(keepingCapacity: true)
            storedLeaves.removeAll(keepingCapacity: true)
            storedLeafIsValid.removeAll(keepingCapacity: true)
            isLast = false
        }
    }

    /// What the hashing found: the tree of every entry, its roots at the sizes asked for, and the entries that
    /// claim another index or no longer match their stored leaf hash.
    struct Outcome {
        var range: CompactRange
        var rootsAt: [Int: SHA256Digest]
        var problems: [LedgerVerification.Problem]
    }

    private let batches = (0..<batchesInFlight).map { _ in Batch() }
    private let free = DispatchSemaphore(value: batchesInFlight)
    private let filled = DispatchSemaphore(value: 0)
    private let done = DispatchSemaphore(value: 0)
    /// The reading thread's next batch to fill, and the one it is filling (nil between batches).
    private var nextToFill = 0
    private var filling: Batch?

    private var range = CompactRange()
    private var position = 0
    private var pending: ArraySlice<Int>
    private var rootsAt: [Int: SHA256Digest]
    private var problems: [LedgerVerification.Problem] = []

    /// Starts the hashing thread. `rootsWanted` are the sizes whose roots are needed, in increasing order;
    /// `rootsAt` holds those already known (the empty tree's).
    init(rootsWanted: ArraySlice<Int>, rootsAt: [Int: SHA256Digest]) {
        pending = rootsWanted
        self.rootsAt = rootsAt
        let thread = Thread { [self] in hashBatches() }
        thread.name = "residency-verify-hashing"
        thread.start()
    }

    /// From the reading thread: the next entry of the log and its stored leaf hash, copied.
    func add(_ entry: UnsafeRawBufferPointer, storedLeaf: UnsafeRawBufferPointer) {
        let batch = filling ?? takeBatch()
        batch.bytes.append(contentsOf: entry)
        batch.ends.append(batch.bytes.count)
        if storedLeaf.count == 32 {
            batch.storedLeaves.append(contentsOf: storedLeaf)
            batch.storedLeafIsValid.append(true)
        } else {
            batch.storedLeaves.append(contentsOf: repeatElement(0, count: 32))
            batch.storedLeafIsValid.append(false)
        }
        if batch.ends.count == Self.batchSize {
            filling = nil
            filled.signal()
        } else {
            filling = batch
        }
    }

    /// From the reading thread, once, when every entry has been added (or reading failed): waits for the hashing
    /// to end and answers what it found.
    func finish() -> Outcome {
        let batch = filling ?? takeBatch()
        filling = nil
        batch.isLast = true
        filled.signal()
        done.wait()
        return Outcome(range: range, rootsAt: rootsAt, problems: problems)
    }

    private func takeBatch() -> Batch {
        free.wait()
        let batch = batches[nextToFill % batches.count]
        nextToFill += 1
        batch.clear()
        return batch
    }

    private func hashBatches() {
        let hasher = SHA256Hasher()
        var next = 0
        while true {
            filled.wait()
            let batch = batches[next % batches.count]
            next += 1
            batch.bytes.withUnsafeBytes { bytes in
                batch.storedLeaves.withUnsafeBytes { storedLeaves in
                    var start = 0
                    for (offset, end) in batch.ends.enumerated() {
                        let entry = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
                        switch Ledger.claimedIndex(in: entry) {
                        case .none:
                            problems.append(.init(index: position, message: "not a ledger entry (no index field)"))
                        case .some(let claimed) where claimed != position:
                            problems.append(
                                .init(
                                    index: position,
                                    message:
                                        "the entry at position \(position) says it is entry \(claimed) (reordered or inserted)"
                                ))
                        default: break
                        }
                        let leaf = hasher.hash(prefix: 0x00, entry)
                        let stored = UnsafeRawBufferPointer(rebasing: storedLeaves[offset * 32..<offset * 32 + 32])
                        if !batch.storedLeafIsValid[offset] || !leaf.matches(stored) {
                            problems.append(
                                .init(
                                    index: position,
                                    message: "altered: its content no longer matches its recorded leaf hash"))
                        }
                        range.append(leaf)
                        position += 1
                        while let wanted = pending.first, wanted <= position {
                            if wanted == position { rootsAt[position] = range.root }
                            pending.removeFirst()
                        }
                        start = end
                    }
                }
            }
            let isLast = batch.isLast
            free.signal()
            if isLast { break }
        }
        done.signal()
    }
}
