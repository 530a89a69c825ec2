import Foundation
import Testing

@testable import ResidencyCore

@Suite struct BothAtOnceTests {
    /// The two halves run at the same time: each waits for the other's signal, which would never come were
    /// they run one after the other.
    @Test func bothHalvesRunAtOnceAndBothResultsComeBack() throws {
        let firstStarted = DispatchSemaphore(value: 0)
        let secondStarted = DispatchSemaphore(value: 0)
        let (a, b) = try bothAtOnce(
            { () -> String in
                firstStarted.signal()
                #expect(secondStarted.wait(timeout: .now() + 10) == .success)
                return "first"
            },
            { () -> Int in
                secondStarted.signal()
                #expect(firstStarted.wait(timeout: .now() + 10) == .success)
                return 2
            })
        #expect(a == "first" && b == 2)
    }

    /// A failure of either half is thrown, and only once both have ended.
    @Test func eitherHalfsFailureIsThrownAfterBothEnded() {
        struct Failure: Error, Equatable { let half: Int }
        let secondEnded = Flag()
        #expect(throws: Failure(half: 1)) {
            _ = try bothAtOnce(
                { () -> Int in throw Failure(half: 1) },
                { () -> Int in
                    Thread.sleep(forTimeInterval: 0.05)
                    secondEnded.set()
                    return 2
                })
        }
        #expect(secondEnded.isSet)
        #expect(throws: Failure(half: 2)) {
            _ = try bothAtOnce({ 1 }, { () -> Int in throw Failure(half: 2) })
        }
    }

    /// The second half does not depend on the global dispatch queue: with every worker that queue may start
    /// held by blocked work, both halves still run.
    @Test func theSecondHalfRunsWhileTheGlobalQueueIsHeldUp() throws {
        let release = DispatchSemaphore(value: 0)
        let blockers = ProcessInfo.processInfo.activeProcessorCount * 2
        for _ in 0..<blockers { DispatchQueue.global().async { release.wait() } }
        defer { for _ in 0..<blockers { release.signal() } }
        let (a, b) = try bothAtOnce({ 1 }, { 2 })
        #expect(a == 1 && b == 2)
    }
}

private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
