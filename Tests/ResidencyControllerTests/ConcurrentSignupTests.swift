import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

@testable import ResidencyController

/// Signups from 64 threads at once, committed in groups on a real data directory.
@Suite struct ConcurrentSignupTests {
    @Test func sixtyFourThreadsOfSignupsAreEachThereOnceAndTheLedgerAgrees() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-signups-\(UUID())")
        defer { try? FileManager.default.removeItem(at: directory) }
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        let controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(directory: DataDirectory(directory)),
            checkpointEvery: 50)
        let countries = ["DE", "FR", "GB", "US", "IN", "AU", "SG", "ZA"]
        let created = Locked<[String: String]>([:])
        let failed = Locked<[String]>([])
        let perThread = 8
        onThreads(64) { thread in
            for i in 0..<perThread {
                let signup = Signup(
                    name: "t\(thread)-\(i)", plan: .paid, declaredCountry: CountryCode(countries[(thread + i) % 8]))
                do {
                    let result = try controller.directory.signUp(signup)
                    created.withLock { $0[result.tenant.id] = result.tenant.region }
                } catch {
                    failed.withLock { $0.append("signup \(thread)-\(i): \(error)") }
                }
            }
        }
        #expect(failed.withLock { $0 }.isEmpty, "\(failed.withLock { $0 }.prefix(3))")
        let acknowledged = created.withLock { $0 }
        #expect(acknowledged.count == 64 * perThread)
        let (stored, entries) = try controller.pool.read { database in
            (
                try TenantRepository(database).tenants(after: nil, limit: 10_000),
                try database.statement("SELECT entry FROM ledger_entries WHERE kind = 'tenant.created'").rows([]) {
                    try JSONParser.parse(String(decoding: $0.blob(0), as: UTF8.self))
                }
            )
        }
        #expect(stored.count == acknowledged.count)
        #expect(Dictionary(uniqueKeysWithValues: stored.map { ($0.id, $0.region) }) == acknowledged)
        // One `tenant.created` entry per tenant, naming it and its region.
        let recorded = entries.compactMap { entry -> String? in
            guard case .string(let id) = entry["tenant"] else { return nil }
            return id
        }
        #expect(recorded.count == acknowledged.count)
        #expect(Set(recorded) == Set(acknowledged.keys))
        let verification = try controller.ledger.verify()
        #expect(verification.isValid, "\(verification.problems.prefix(3))")
        #expect(verification.entries == acknowledged.count + 1)  // and the policy.loaded entry
        // The counts placement works from are the directory's.
        #expect(
            controller.directory.tenantCounts.filter { $0.value > 0 }
                == (try controller.pool.read {
                    try TenantRepository($0).liveCounts()
                }).filter { $0.value > 0 })
    }
}

/// Runs `body(0..<count)` on `count` threads of their own at once and waits for all. (Not
/// `DispatchQueue.concurrentPerform`: it runs only as many iterations at a time as there are cores.)
func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        Thread {
            body(index)
            done.leave()
        }.start()
    }
    done.wait()
}

/// A value behind a lock, shareable with threads (a `Mutex` itself cannot be captured by an escaping closure).
final class Locked<Value: Sendable>: Sendable {
    private let mutex: Mutex<Value>
    init(_ value: Value) { mutex = Mutex(value) }
    func withLock<T>(_ body: (inout Value) -> T) -> T { mutex.withLock { body(&$0) } }
}
