import Testing

@testable import ResidencyController

/// The bookkeeping that keeps refused calls from growing the ledger at a caller's pace.
@Suite struct RefusalRecorderTests {
    @Test func keysPastTheLimitShareOneOverflowCount() throws {
        let recorder = RefusalRecorder(startedAt: 0, maximumKeys: 3)
        func key(_ route: Int) -> RefusalRecorder.Key {
            RefusalRecorder.Key(token: "t", reason: .role, method: "GET", route: "/r\(route)")
        }
        #expect((0..<3).allSatisfy { recorder.admit(key($0)) })
        // A fourth key is not written one by one: memory and ledger stay bounded.
        #expect(!recorder.admit(key(3)))
        for _ in 0..<10 { #expect(!recorder.admit(key(0))) }
        let summary = try #require(recorder.close(at: 5))
        #expect(summary.overflow == 1)
        #expect(summary.counts.map(\.count) == [10])
        // A new period admits each key afresh.
        #expect(recorder.admit(key(0)))
        #expect(recorder.close(at: 6) == nil)
    }

    @Test func aSummaryThatCouldNotBeWrittenIsKept() throws {
        let recorder = RefusalRecorder(startedAt: 0)
        let key = RefusalRecorder.Key(token: "t", reason: .revokedToken, method: "GET", route: "/x")
        _ = recorder.admit(key)
        _ = recorder.admit(key)
        let summary = try #require(recorder.close(at: 1))
        recorder.restore(summary)
        let again = try #require(recorder.close(at: 2))
        #expect(again.counts.map(\.count) == [1])
        #expect(again.from == 0)
    }
}
