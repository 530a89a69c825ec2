import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

@testable import ResidencyController

/// Log records captured by a test.
final class CapturedLog: LogHandler {
    let records = Mutex<[LogRecord]>([])
    func log(_ record: LogRecord) { records.withLock { $0.append(record) } }
    var messages: [String] { records.withLock { $0.map(\.message) } }
}

/// The one commit path: a state change and its ledger entries commit together, a checkpoint is signed after,
/// and a signing failure is reported (log, counter, `/readyz`'s failure log) — never dropped.
@Suite struct CommitPathTests {
    let log = CapturedLog()
    let controller: Controller

    init() throws {
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(inMemory: ()), checkpointEvery: 1,
            logHandler: log)
    }

    func signUp() throws -> Tenant {
        try controller.directory.signUp(Signup(name: "Customer Ltd", plan: .paid, declaredCountry: CountryCode("GB")))
            .tenant
    }

    @Test func aCommitWithEntriesSignsACheckpoint() throws {
        _ = try signUp()
        let size = try controller.ledger.size()
        let signed = try controller.pool.read { try LedgerRepository($0).latestCheckpoint() }
        #expect(signed?.size == size)
        #expect(controller.failures.count == 0)
    }

    @Test func aSigningFailureIsReportedNotDropped() throws {
        _ = try signUp()
        // Tamper: an entry, then a checkpoint over it that the log cannot extend (a root that is not the log's).
        try controller.pool.write { database in
            try Ledger.append(in: database, time: 0, kind: .tokenRevoked, actor: "test", body: .object([]))
            let repository = LedgerRepository(database)
            let size = try repository.size()
            try repository.insertCheckpoint(
                size: size, root: SHA256.hash(Array("not the log".utf8)), note: "forged", at: 0)
        }
        // The signup still commits: the change and its record are durable whatever happens to the signature.
        let tenant = try signUp()
        #expect(try controller.directory.tenant(id: tenant.id).tenant.id == tenant.id)
        #expect(controller.failures.count == 1)
        #expect(controller.failures.latest.last?.what == "signing a ledger checkpoint")
        #expect(controller.failures.latest.last?.error.contains("does not extend the checkpoint") == true)
        #expect(controller.counters.value(.checkpointSigningFailures) == 1)
        let logged = log.records.withLock { $0 }.filter { $0.level == .error }
        #expect(logged.map(\.message) == ["signing a ledger checkpoint"])
    }

    @Test func aSignupIsCountedByTheDirectoryWhoeverCallsIt() throws {
        let tenant = try signUp()
        #expect(controller.counters.value(.signups, [("region", tenant.region)]) == 1)
        #expect(controller.counters.value(.placements, [("region", tenant.region), ("outcome", "placed")]) == 1)
        let text = controller.counters.render()
        #expect(text.contains("residency_signups_total{region=\"\(tenant.region)\"} 1\n"))
    }

    @Test func aLogRecordIsOneJSONLine() throws {
        let line = JSONLineLogHandler.line(
            for: LogRecord(
                time: 0, level: .error, label: "residency.test", message: "it broke", metadata: [("error", "a\nb")]))
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let parsed = try JSONParser.parse(String(line.dropLast()))
        #expect(parsed["level"] == .string("error"))
        #expect(parsed["message"] == .string("it broke"))
        #expect(parsed["error"] == .string("a\nb"))
    }
}
