import Foundation

/// Encodes numbered pieces of work (slices of the ledger) on worker threads while the calling thread writes
/// the encoded bytes in order, so writing (a pipe, a socket) overlaps encoding instead of waiting for a round of
/// slices to finish. At most `maximumHeld` slices are claimed and not yet written — being encoded, or encoded and
/// waiting for an earlier one — so memory follows `maximumHeld`, not the report. The byte buffers are handed back
/// to the workers once written, so their capacity is reused rather than allocated per slice.
///
/// Slices are claimed in order, so the earliest slice not yet written is always claimed (or written): the writer
/// never waits on a slice that no worker will take.
final class OrderedEncodingPipeline: @unchecked Sendable {
    // @unchecked: every field below `condition` is read and written only while holding it.
    private let condition = NSCondition()
    private let count: Int
    private let maximumHeld: Int
    private var nextToClaim = 0
    private var nextToWrite = 0
    private var encoded: [Int: [UInt8]] = [:]
    private var spare: [[UInt8]] = []
    private var failure: (any Error)?
    private var stopped = false
    private var runningWorkers = 0
    private var encode: (@Sendable (Int, inout [UInt8]) throws -> Void)?
    /// The most slices held at once over the run (claimed and not yet written): tests check the bound.
    private(set) var mostHeld = 0

    init(count: Int, maximumHeld: Int) {
        self.count = count
        self.maximumHeld = max(1, maximumHeld)
    }

    /// Runs `encode` for each slice `0..<count` on `workers` threads, appending a slice's bytes to the (empty)
    /// buffer it is given, and `write` for each slice's bytes in slice order on this thread. The first error of
    /// either stops the run (no slice after it is written) and is thrown once every worker has stopped.
    func run(
        workers: Int, encode: @Sendable (_ slice: Int, _ into: inout [UInt8]) throws -> Void,
        write: (_ slice: Int, _ bytes: [UInt8]) throws -> Void
    ) throws {
        guard count > 0 else { return }
        try withoutActuallyEscaping(encode) { encode in
            // The workers reach `encode` through this field, never by capturing it, and it is cleared once they
            // have all returned from it: nothing holds it when `withoutActuallyEscaping` ends.
            let threads = max(1, min(workers, count))
            locked {
                self.encode = encode
                runningWorkers = threads
            }
            for _ in 0..<threads {
                let thread = Thread { [self] in
                    work()
                    locked {
                        runningWorkers -= 1
                        condition.broadcast()
                    }
                }
                thread.start()
            }
            defer {
                locked {
                    stopped = true
                    condition.broadcast()
                    while runningWorkers > 0 { condition.wait() }
                    self.encode = nil
                }
            }
            try writeInOrder(write)
        }
    }

    private func writeInOrder(_ write: (Int, [UInt8]) throws -> Void) throws {
        var bytes: [UInt8] = []
        while true {
            let slice: Int? = try locked {
                while encoded[nextToWrite] == nil && failure == nil && nextToWrite < count { condition.wait() }
                if let failure { throw failure }
                guard nextToWrite < count, let ready = encoded.removeValue(forKey: nextToWrite) else { return nil }
                bytes = ready
                return nextToWrite
            }
            guard let slice else { return }
            do {
                try write(slice, bytes)
            } catch {
                locked {
                    failure = failure ?? error
                    condition.broadcast()
                }
                throw error
            }
            bytes.removeAll(keepingCapacity: true)
            locked {
                spare.append(bytes)
                bytes = []
                nextToWrite += 1
                condition.broadcast()
            }
        }
    }

    private func work() {
        guard let encode = locked({ self.encode }) else { return }
        while true {
            var buffer: [UInt8] = []
            let claimed: Int? = locked {
                while !stopped && failure == nil && nextToClaim < count && nextToClaim - nextToWrite >= maximumHeld {
                    condition.wait()
                }
                guard !stopped, failure == nil, nextToClaim < count else { return nil }
                let slice = nextToClaim
                nextToClaim += 1
                mostHeld = max(mostHeld, nextToClaim - nextToWrite)
                buffer = spare.popLast() ?? []
                return slice
            }
            guard let slice = claimed else { return }
            do {
                try encode(slice, &buffer)
                locked {
                    encoded[slice] = buffer
                    buffer = []
                    condition.broadcast()
                }
            } catch {
                locked {
                    failure = failure ?? error
                    condition.broadcast()
                }
                return
            }
        }
    }
}

extension OrderedEncodingPipeline {
    fileprivate func locked<Result>(_ body: () throws -> Result) rethrows -> Result {
        condition.lock()
        defer { condition.unlock() }
        return try body()
    }
}
