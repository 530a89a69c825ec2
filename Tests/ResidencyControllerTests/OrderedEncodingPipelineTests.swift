import Foundation
import Synchronization
import Testing

@testable import ResidencyController

/// The pipeline behind a streamed report's lines: slices encoded on worker threads, written in order on the
/// caller's thread, never more than a bound held at once, and any failure stopping it.
@Suite struct OrderedEncodingPipelineTests {
    /// Slices being encoded or waiting to be written, counted from the first byte encoded to the write.
    final class Held: Sendable {
        let now = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let encoded = Atomic<Int>(0)

        func take() {
            let value = now.add(1, ordering: .sequentiallyConsistent).newValue
            most.max(value, ordering: .sequentiallyConsistent)
            encoded.add(1, ordering: .sequentiallyConsistent)
        }

        func release() { now.subtract(1, ordering: .sequentiallyConsistent) }
    }

    static func bytes(of slice: Int) -> [UInt8] { Array("slice \(slice);".utf8) }

    @Test func slicesAreWrittenInOrderWhateverOrderTheyAreEncodedIn() throws {
        for workers in [1, 2, 4, 8] {
            let pipeline = OrderedEncodingPipeline(count: 200, maximumHeld: 4)
            var written: [UInt8] = []
            var order: [Int] = []
            try pipeline.run(workers: workers) { slice, bytes in
                #expect(bytes.isEmpty)
                // Uneven work: later slices often finish first.
                if slice % 3 == 0 { usleep(UInt32(200 + slice % 7 * 50)) }
                bytes += Self.bytes(of: slice)
            } write: { slice, bytes in
                order.append(slice)
                written += bytes
            }
            #expect(order == Array(0..<200))
            #expect(written == (0..<200).flatMap(Self.bytes(of:)))
        }
    }

    /// A slow writer (a pipe nobody reads quickly): the workers stop at `maximumHeld` slices ahead, so memory
    /// follows the bound, not the report.
    @Test func neverMoreThanTheBoundIsHeld() throws {
        for bound in [1, 2, 4] {
            let held = Held()
            let pipeline = OrderedEncodingPipeline(count: 60, maximumHeld: bound)
            try pipeline.run(workers: 4) { slice, bytes in
                held.take()
                bytes += Self.bytes(of: slice)
            } write: { _, _ in
                usleep(1_000)
                held.release()
            }
            #expect(held.most.load(ordering: .sequentiallyConsistent) <= bound)
            #expect(pipeline.mostHeld <= bound)
            // The bound is reached (the writer is slow), so the check above could fail.
            #expect(held.most.load(ordering: .sequentiallyConsistent) == bound)
            #expect(held.encoded.load(ordering: .sequentiallyConsistent) == 60)
        }
    }

    /// The buffers come back: after the first few slices, a worker is handed a buffer with the capacity an
    /// earlier slice grew, not a fresh one.
    @Test func buffersAreReused() throws {
        let reused = Atomic<Int>(0)
        let pipeline = OrderedEncodingPipeline(count: 50, maximumHeld: 3)
        try pipeline.run(workers: 2) { slice, bytes in
            if bytes.capacity >= 4_096 { reused.add(1, ordering: .relaxed) }
            bytes += [UInt8](repeating: UInt8(slice), count: 4_096)
        } write: { _, _ in }
        #expect(reused.load(ordering: .relaxed) >= 50 - 3)
    }

    @Test func anEncodingErrorStopsTheRunBeforeItsSlice() throws {
        struct Broken: Error, Equatable { let slice: Int }
        let encoded = Atomic<Int>(0)
        var written: [Int] = []
        let pipeline = OrderedEncodingPipeline(count: 1_000, maximumHeld: 4)
        #expect(throws: Broken(slice: 10)) {
            try pipeline.run(workers: 3) { slice, bytes in
                encoded.add(1, ordering: .relaxed)
                if slice == 10 { throw Broken(slice: 10) }
                bytes += Self.bytes(of: slice)
            } write: { slice, _ in
                written.append(slice)
            }
        }
        #expect(written == Array(written.indices))
        #expect(written.count <= 10)
        // The workers stopped (run returned only after they did): nothing more is encoded afterwards.
        let after = encoded.load(ordering: .relaxed)
        #expect(after < 1_000)
        usleep(20_000)
        #expect(encoded.load(ordering: .relaxed) == after)
    }

    @Test func aWriteErrorStopsTheWorkers() throws {
        struct Gone: Error {}
        let encoded = Atomic<Int>(0)
        let pipeline = OrderedEncodingPipeline(count: 1_000, maximumHeld: 4)
        #expect(throws: Gone.self) {
            try pipeline.run(workers: 3) { slice, bytes in
                encoded.add(1, ordering: .relaxed)
                bytes += Self.bytes(of: slice)
            } write: { slice, _ in
                if slice == 5 { throw Gone() }
            }
        }
        // Slice 5 and at most the bound beyond it were claimed.
        #expect(encoded.load(ordering: .relaxed) <= 6 + 4)
    }

    @Test func nothingToDoWritesNothing() throws {
        try OrderedEncodingPipeline(count: 0, maximumHeld: 4).run(workers: 2) { _, _ in
            Issue.record("no slice to encode")
        } write: { _, _ in
            Issue.record("no slice to write")
        }
    }
}
