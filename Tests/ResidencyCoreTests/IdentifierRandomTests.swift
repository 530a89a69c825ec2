import Foundation
import Synchronization
import Testing

@testable import ResidencyCore

/// The identifiers' pool of CSPRNG bytes: every draw is new bytes — across the pool's refills and from threads at
/// once — of the length asked, and a draw too large for the pool goes to the CSPRNG itself.
@Suite struct IdentifierRandomTests {
    /// 3,000 draws of 8 bytes on 4 threads at once (about 23 pools' worth): no two alike (a repeat of 64 random
    /// bits would be a 1-in-10^12 event), so no byte was handed out twice and no refill repeated a block.
    @Test func drawsNeverRepeatAcrossRefillsAndThreads() {
        let drawn = Mutex<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            var mine: [String] = []
            for _ in 0..<3_000 { mine.append(IdentifierRandom.hex(8)) }
            drawn.withLock { $0 += mine }
        }
        let all = drawn.withLock { $0 }
        #expect(all.count == 12_000)
        #expect(Set(all).count == all.count)
        #expect(all.allSatisfy { $0.count == 16 && $0.allSatisfy(\.isHexDigit) })
    }

    /// Every length from 0 to past the pool's block, each the length asked and (from 8 bytes on) not all zero.
    @Test func everyLengthIsDrawnWhole() {
        for count in [0, 1, 5, 8, 100, 1_023, 1_024, 1_025, 4_096, 5_000] {
            let bytes = IdentifierRandom.bytes(count)
            #expect(bytes.count == count)
            if count >= 8 { #expect(bytes.contains { $0 != 0 }) }
        }
    }

    /// The bytes look random: over 400 KB drawn, every byte value occurs within 30 % of its expected count.
    @Test func theBytesAreSpreadEvenly() {
        var counts = [Int](repeating: 0, count: 256)
        for _ in 0..<100_000 { for byte in IdentifierRandom.bytes(4) { counts[Int(byte)] += 1 } }
        let expected = 400_000 / 256
        #expect(counts.allSatisfy { abs($0 - expected) < expected * 3 / 10 }, "\(counts.min()!)–\(counts.max()!)")
    }
}
