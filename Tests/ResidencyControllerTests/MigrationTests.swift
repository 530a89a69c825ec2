import Foundation
import ResidencyCore
import ResidencyStore
import Testing

@testable import ResidencyController

/// Migrations through the controller, on a real data directory (tenant databases on disk).
@Suite struct MigrationTests {
    let directory: URL
    let controller: Controller

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-migration-\(UUID())")
        controller = try Self.open(directory)
    }

    static func open(_ directory: URL, movers: [CommandMoverConfiguration] = []) throws -> Controller {
        let root = AccessExpiryTests.root
        let policies = try PolicySet.load(
            regions: root.appendingPathComponent("Regions"), policies: root.appendingPathComponent("Policies"))
        let pool = try DatabasePool(directory: DataDirectory(directory))
        return try Controller(
            policies: policies, locator: nil, pool: pool, dataDirectory: directory, commandMovers: movers)
    }

    func signUp(_ country: String) throws -> Tenant {
        try controller.directory.signUp(Signup(name: "Tenant \(country)", plan: .paid, declaredCountry: CountryCode(country)))
            .tenant
    }

    func fill(_ tenant: String, contacts: Int = 20, on controller: Controller? = nil) throws {
        let controller = controller ?? self.controller
        for index in 0..<contacts {
            try controller.directory.putRecord(
                tenant: tenant,
                TenantRecord(
                    collection: .contacts, key: "c\(index)",
                    values: ["name": .text("Contact \(index)"), "email": .text("c\(index)@example.com")], updatedAt: 1))
        }
        try controller.directory.putRecord(
            tenant: tenant,
            TenantRecord(
                collection: .documents, key: "contract.pdf",
                values: [
                    "name": .text("contract.pdf"), "content_type": .text("application/pdf"),
                    "body": .bytes((0..<100_000).map { UInt8($0 % 251) }),
                ], updatedAt: 1))
        try controller.directory.putRecord(
            tenant: tenant,
            TenantRecord(
                collection: .accounts, key: "main",
                values: ["name": .text("Main"), "balance_cents": .integer(12_345), "currency": .text("EUR")],
                updatedAt: 1))
    }

    func kinds() throws -> [String] {
        try controller.ledger.entries(from: 0, to: nil).compactMap { row in
            if case .string(let kind) = (try JSONParser.parse(row.entry))["kind"] ?? .null { return kind }
            return nil
        }
    }

    @Test func aMigrationMovesTheDataAndTheDirectoryAndPurgesTheSource() throws {
        let tenant = try signUp("GB")
        #expect(tenant.region == "uk")
        try fill(tenant.id)
        let before = try controller.directory.dataDigest(tenant: tenant.id)
        let requested = try controller.migrations.requestMigration(
            .init(tenant: tenant.id, toRegion: "eu", reason: "customer asked"), by: "ops-1")
        #expect(requested.state == .requested)
        #expect(requested.transfer.mechanism.code == "adequacy")  // UK to Ireland: the UK's adequacy regulations
        _ = try controller.migrations.approveMigration(id: requested.id, by: "ops-2")
        let done = try controller.migrations.runMigration(id: requested.id)
        #expect(done.state == .completed)
        #expect(done.toSite == "eu-ie-dublin")  // nearest EU site to London
        let moved = try controller.directory.tenant(id: tenant.id).tenant
        #expect(moved.region == "eu" && moved.site == "eu-ie-dublin")
        #expect(try controller.directory.dataDigest(tenant: tenant.id) == before)
        let plane = try #require(controller.dataPlane)
        #expect(!plane.exists(region: "uk", tenant: tenant.id))
        #expect(plane.exists(region: "eu", tenant: tenant.id))
        #expect(controller.directory.tenantCounts["uk", default: 0] == 0 && controller.directory.tenantCounts["eu"] == 1)
        // Writable at the new home.
        try controller.directory.putRecord(
            tenant: tenant.id,
            TenantRecord(collection: .contacts, key: "after", values: ["name": .text("After")], updatedAt: 2))
        let steps = try controller.migrations.migrationSteps(id: requested.id).filter { $0.phase == "finished" }.map(\.state)
        #expect(steps == ["requested", "approved", "copying", "frozen", "syncing", "verifying", "cutover", "cleaning"])
        let recorded = try kinds()
        for kind in ["migration.requested", "migration.approved", "migration.cutover", "migration.completed"] {
            #expect(recorded.contains(kind))
        }
        #expect(try controller.ledger.verify().entries > 0)
    }

    @Test func policyRefusesATargetOutsideTheTenantsPermittedRegionsAndLeavesOnlyTheLedgerEntry() throws {
        let tenant = try signUp("FR")
        let before = try kinds().count
        #expect {
            try controller.migrations.requestMigration(.init(tenant: tenant.id, toRegion: "us", reason: "cheaper"), by: "ops")
        } throws: { error in
            guard case ControllerError.refused(let code, _, let rule) = error else { return false }
            return code == "target_not_permitted" && rule == "eea-in-eu"
        }
        #expect(try controller.migrations.migrations(tenant: tenant.id, state: nil, plan: nil, limit: 10).isEmpty)
        #expect(try kinds().count == before + 1)
        #expect(try kinds().last == "migration.refused")
        #expect(throws: ControllerError.self) {
            try controller.migrations.requestMigration(.init(tenant: tenant.id, toRegion: "mars", reason: "x"), by: "ops")
        }
    }

    @Test func concurrentRequestsForOneTenantLetExactlyOneThrough() throws {
        let tenant = try signUp("GB")
        let controller = self.controller
        let outcomes = (0..<8).map { _ in ResultSlot() }
        DispatchQueue.concurrentPerform(iterations: 8) { index in
            outcomes[index].set(
                Result {
                    try controller.migrations.requestMigration(
                        .init(tenant: tenant.id, toRegion: "eu", reason: "race \(index)"), by: "ops-\(index)"
                    ).id
                })
        }
        let succeeded = outcomes.compactMap { try? $0.get() }
        #expect(succeeded.count == 1)
        #expect(try controller.migrations.migrations(tenant: tenant.id, state: nil, plan: nil, limit: 10).count == 1)
    }

    @Test func writesDuringTheBulkCopyAreCarriedByTheFinalSyncAndVerificationCatchesADifference() throws {
        // The local mover's steps one by one, with the application writing between the snapshot and the freeze.
        let tenant = try signUp("GB")
        try fill(tenant.id)
        var migration = try controller.migrations.requestMigration(
            .init(tenant: tenant.id, toRegion: "eu", reason: "writes in flight"), by: "ops")
        let mover = LocalDataMover(dataPlane: controller.dataPlane!)
        _ = try mover.copy(&migration)
        let snapshotContent = migration.content
        try controller.directory.putRecord(
            tenant: tenant.id,
            TenantRecord(collection: .contacts, key: "late", values: ["name": .text("Late")], updatedAt: 9))
        #expect(try controller.directory.deleteRecord(tenant: tenant.id, .contacts, key: "c3"))
        try controller.dataPlane!.open(region: "uk", tenant: tenant.id).setFrozen(true)
        _ = try mover.sync(&migration)
        #expect(migration.changedRows == 2)
        _ = try mover.sync(&migration)  // idempotent
        let verified = try mover.verify(&migration)
        #expect(verified["method"] == .string("full comparison"))
        #expect(migration.content != snapshotContent)
        let target = try TenantDatabase(path: controller.dataPlane!.path(region: "eu", tenant: tenant.id))
        #expect(try target.record(.contacts, key: "late") != nil)
        #expect(try target.record(.contacts, key: "c3") == nil)
        // A change on the target that the source does not have is caught.
        try target.database.execute("UPDATE contacts SET name = 'tampered' WHERE key = 'c1'")
        #expect(throws: TenantDataError.self) { try mover.verify(&migration) }
    }

    @Test func withNoWritesSinceTheSnapshotVerificationComparesRowCountsOnly() throws {
        let tenant = try signUp("GB")
        try fill(tenant.id)
        var migration = try controller.migrations.requestMigration(
            .init(tenant: tenant.id, toRegion: "eu", reason: "quiet"), by: "ops")
        let mover = LocalDataMover(dataPlane: controller.dataPlane!)
        _ = try mover.copy(&migration)
        _ = try mover.sync(&migration)
        #expect(migration.changedRows == 0)
        #expect(try mover.verify(&migration)["method"] == .string("snapshot verified; no change since"))
    }

    @Test func aFailingVerificationRollsBackAndTheTenantStaysWritableAtTheSource() throws {
        let tenant = try signUp("GB")
        try fill(tenant.id)
        let before = try controller.directory.dataDigest(tenant: tenant.id)
        let mover = CommandMoverConfiguration(
            name: "bucket", export: "echo exporting $RESIDENCY_TENANT", importCommand: "true",
            verify: "echo 'object count differs' >&2; exit 3", purge: "true", timeoutSeconds: 60)
        let withMover = try Self.open(directory, movers: [mover])
        let migration = try withMover.migrations.requestMigration(
            .init(tenant: tenant.id, toRegion: "eu", reason: "test"), by: "ops")
        _ = try withMover.migrations.approveMigration(id: migration.id, by: "ops")
        let ended = try withMover.migrations.runMigration(id: migration.id)
        #expect(ended.state == .failed)
        #expect(ended.error?.contains("object count differs") == true)
        #expect(ended.error?.contains("status 3") == true)
        #expect(try withMover.directory.tenant(id: tenant.id).tenant.region == "uk")
        #expect(!withMover.dataPlane!.exists(region: "eu", tenant: tenant.id))
        #expect(try withMover.directory.dataDigest(tenant: tenant.id) == before)
        try withMover.directory.putRecord(
            tenant: tenant.id,
            TenantRecord(collection: .contacts, key: "still", values: ["name": .text("Writable")], updatedAt: 3))
        #expect(try kinds().contains("migration.failed"))
    }

    @Test func cancellingBeforeCutoverEndsTheMigrationAndAfterCutoverIsRefused() throws {
        let tenant = try signUp("GB")
        let first = try controller.migrations.requestMigration(.init(tenant: tenant.id, toRegion: "eu", reason: "a"), by: "ops")
        #expect(try controller.migrations.cancelMigration(id: first.id, by: "ops").state == .cancelled)
        let second = try controller.migrations.requestMigration(.init(tenant: tenant.id, toRegion: "eu", reason: "b"), by: "ops")
        _ = try controller.migrations.approveMigration(id: second.id, by: "ops")
        #expect(try controller.migrations.runMigration(id: second.id).state == .completed)
        #expect {
            try controller.migrations.cancelMigration(id: second.id, by: "ops")
        } throws: { error in
            guard case ControllerError.conflict(let code, _) = error else { return false }
            return code == "not_cancellable"
        }
    }

    @Test func frozenDataRefusesWritesWithAClearError() throws {
        let tenant = try signUp("GB")
        try controller.dataPlane!.open(region: "uk", tenant: tenant.id).setFrozen(true)
        #expect {
            try controller.directory.putRecord(
                tenant: tenant.id,
                TenantRecord(collection: .contacts, key: "x", values: ["name": .text("X")], updatedAt: 1))
        } throws: { error in
            guard case ControllerError.conflict(let code, let message) = error else { return false }
            return code == "migration_in_progress" && message.contains("migration in progress")
        }
        // Reads still work.
        #expect(try controller.directory.records(tenant: tenant.id, .contacts, after: nil, limit: 10).isEmpty)
    }
}

final class ResultSlot: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Result<String, Error>?
    func set(_ result: Result<String, Error>) { lock.withLock { value = result } }
    func get() throws -> String { try lock.withLock { value }!.get() }
}

/// The application writing without pause while its tenant moves back and forth: every write is acknowledged
/// or refused as `migration_in_progress` (which the application retries) — never a storage error because it
/// raced the cutover or the purge at the old home — and every acknowledged write is at the final home.
@Suite struct MigrationWriteRaceTests {
    @Test func writesRacingMigrationsAreAcknowledgedOrRefusedAsFrozenAndNoneIsLost() throws {
        let scratch = try UKTenantScratch("race", tenant: "Racer")
        defer { scratch.remove() }
        let (controller, tenant) = (scratch.controller, scratch.tenant)
        let outcomes = WriteOutcomes()
        let stop = ManagedAtomicFlag()
        // Threads of their own: on the global queue two spinning writers could hold every one of its threads on
        // a two-core machine, and work the migration queues there would wait behind them.
        let writers = DispatchGroup()
        for writer in 0..<2 {
            writers.enter()
            Thread {
                defer { writers.leave() }
                var index = 0
                while !stop.isSet {
                    let key = "w\(writer)-\(index)"
                    do {
                        try controller.directory.putRecord(
                            tenant: tenant.id,
                            TenantRecord(collection: .contacts, key: key, values: ["name": .text(key)], updatedAt: 1))
                        outcomes.acknowledged(key)
                        index += 1
                    } catch ControllerError.conflict(let code, _) where code == "migration_in_progress" {
                        outcomes.frozen()
                        usleep(1_000)  // as an application backs off before its retry
                    } catch {
                        outcomes.other("\(key): \(error)")
                        index += 1
                    }
                }
            }.start()
        }
        var region = tenant.region
        for round in 0..<6 {
            let target = region == "uk" ? "eu" : "uk"
            let migration = try controller.migrations.requestMigration(
                .init(tenant: tenant.id, toRegion: target, reason: "round \(round)"), by: "ops")
            _ = try controller.migrations.approveMigration(id: migration.id, by: "ops")
            let done = try controller.migrations.runMigration(id: migration.id)
            #expect(done.state == .completed, "round \(round): \(done.error ?? "")")
            region = target
        }
        stop.set()
        writers.wait()
        #expect(outcomes.others.isEmpty, "writes answered otherwise: \(outcomes.others.prefix(5))")
        #expect(outcomes.keys.count > 0)
        var stored = Set<String>()
        var cursor: String?
        while true {
            let page = try controller.directory.records(tenant: tenant.id, .contacts, after: cursor, limit: 1000)
            guard let last = page.last else { break }
            stored.formUnion(page.map(\.key))
            cursor = last.key
        }
        let lost = outcomes.keys.subtracting(stored)
        #expect(lost.isEmpty, "acknowledged writes lost: \(lost.sorted().prefix(5))")
        // Nothing of the tenant is left at the home it left: no database, and no journal a late connection
        // to the purged file could have created beside it.
        let plane = try #require(controller.dataPlane)
        let away = region == "uk" ? "eu" : "uk"
        let left = try FileManager.default.contentsOfDirectory(atPath: plane.directory(region: away).path)
        #expect(left.filter { $0.hasPrefix(tenant.id) }.isEmpty, "left in \(away): \(left)")
    }
}

extension MigrationWriteRaceTests {
    /// The race made certain: the operation's first run finds its home being left — the tenant is migrated
    /// away while it runs, then it fails as SQLite fails on a purged file — and the request runs again at
    /// the new home. With the tenant where it was, the same failure is reported, not retried.
    @Test func anOperationThatFailsAtAHomeTheTenantLeftRunsAgainAtTheNewHome() throws {
        let scratch = try UKTenantScratch("follow", tenant: "Mover")
        defer { scratch.remove() }
        let (controller, tenant) = (scratch.controller, scratch.tenant)
        var homes: [String] = []
        let record = TenantRecord(collection: .contacts, key: "late", values: ["name": .text("Late")], updatedAt: 1)
        try controller.directory.atDataHome(
            of: tenant.id, remote: { _ in Issue.record("no regional service here"); return },
            local: { database in
                homes.append(database.database.path)
                if homes.count == 1 {
                    let migration = try controller.migrations.requestMigration(
                        .init(tenant: tenant.id, toRegion: "eu", reason: "under a request"), by: "ops")
                    _ = try controller.migrations.approveMigration(id: migration.id, by: "ops")
                    #expect(try controller.migrations.runMigration(id: migration.id).state == .completed)
                    throw TenantDataError.io("disk I/O error on a file removed under the request")
                }
                try database.put(record)
            })
        let plane = try #require(controller.dataPlane)
        #expect(homes == [plane.path(region: "uk", tenant: tenant.id), plane.path(region: "eu", tenant: tenant.id)])
        #expect(try plane.open(region: "eu", tenant: tenant.id).record(.contacts, key: "late") == record)

        var runs = 0
        #expect {
            try controller.directory.atDataHome(
                of: tenant.id, remote: { _ in }, local: { _ in
                    runs += 1
                    throw TenantDataError.io("disk I/O error")
                })
        } throws: { error in
            guard case ControllerError.storage(let message) = error else { return false }
            return message == "disk I/O error"
        }
        #expect(runs == 1)
    }

    /// The bulk copy is published frozen and stays so until the cutover thaws it: a request that found the
    /// tenant in the target's region long ago cannot commit there before the directory points there.
    @Test func theCopyAtTheTargetIsFrozenUntilTheCutover() throws {
        let scratch = try UKTenantScratch("frozen", tenant: "Copied")
        defer { scratch.remove() }
        let (controller, tenant) = (scratch.controller, scratch.tenant)
        var migration = try controller.migrations.requestMigration(
            .init(tenant: tenant.id, toRegion: "eu", reason: "copy"), by: "ops")
        let plane = try #require(controller.dataPlane)
        let mover = LocalDataMover(dataPlane: plane)
        _ = try mover.copy(&migration)
        let copy = try plane.open(region: "eu", tenant: tenant.id)
        #expect(try copy.isFrozen())
        #expect(try !plane.open(region: "uk", tenant: tenant.id).isFrozen())
        #expect(throws: TenantDataError.frozen) {
            try copy.put(TenantRecord(collection: .contacts, key: "stale", values: ["name": .text("S")], updatedAt: 1))
        }
        try mover.thawTarget(migration)
        #expect(try !copy.isFrozen())
    }

    /// The freeze reaches the main file before the source is purged: a connection that opens the main file
    /// and then a fresh, empty write-ahead log (the old one already unlinked) still reads it frozen.
    @Test func theFreezeIsInTheMainFileOnceTheLogIsFolded() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-fold-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("t.sqlite3").path
        _ = try TenantDatabase.provision(at: path, tenant: "tn_fold")
        let database = try TenantDatabase(path: path)
        try database.setFrozen(true)
        func mainFileAlone() throws -> Bool {
            let alone = directory.appendingPathComponent("alone-\(UUID()).sqlite3").path
            try FileManager.default.copyItem(atPath: path, toPath: alone)
            return try TenantDatabase(path: alone).isFrozen()
        }
        #expect(try !mainFileAlone(), "the flag was expected in the log only before the fold")
        try database.foldWriteAheadLog()
        #expect(try mainFileAlone())
    }
}

/// A controller on a scratch data directory with one GB tenant (homed in uk); `remove()` deletes the directory
/// (called by the test, not left to deinit, which may run as soon as the scratch's last use).
private struct UKTenantScratch {
    let directory: URL
    let controller: Controller
    let tenant: Tenant

    init(_ label: String, tenant name: String) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-\(label)-\(UUID())")
        controller = try MigrationTests.open(directory)
        tenant = try controller.directory.signUp(Signup(name: name, plan: .paid, declaredCountry: CountryCode("GB")))
            .tenant
    }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

private final class WriteOutcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var acknowledgedKeys = Set<String>()
    private var refusedAsFrozen = 0
    private var otherOutcomes: [String] = []
    func acknowledged(_ key: String) { lock.withLock { _ = acknowledgedKeys.insert(key) } }
    func frozen() { lock.withLock { refusedAsFrozen += 1 } }
    func other(_ text: String) { lock.withLock { otherOutcomes.append(text) } }
    var keys: Set<String> { lock.withLock { acknowledgedKeys } }
    var others: [String] { lock.withLock { otherOutcomes } }
}

private final class ManagedAtomicFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}
