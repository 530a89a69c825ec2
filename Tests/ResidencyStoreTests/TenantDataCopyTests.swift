import Foundation
import ResidencyCore
import Synchronization
import Testing

@testable import ResidencyStore

/// The data plane's copy machinery: the change log and the final sync, under random writes.
@Suite struct TenantDataCopyTests {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-copy-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    func record(_ collection: TenantCollection, _ key: String, _ version: Int) -> TenantRecord {
        switch collection {
        case .contacts:
            return TenantRecord(
                collection: .contacts, key: key,
                values: ["name": .text("Contact \(key) v\(version)"), "email": .text("\(key)@example.com")],
                updatedAt: Int64(version))
        case .accounts:
            return TenantRecord(
                collection: .accounts, key: key,
                values: [
                    "name": .text(key), "balance_cents": .integer(Int64(version) * 100), "currency": .text("EUR"),
                ],
                updatedAt: Int64(version))
        case .documents:
            return TenantRecord(
                collection: .documents, key: key,
                values: [
                    "name": .text(key), "content_type": .text("application/octet-stream"),
                    "body": .bytes((0..<(version % 7) * 1000).map { UInt8(truncatingIfNeeded: $0 &* version) }),
                ], updatedAt: Int64(version))
        }
    }

    /// Each request opens the tenant's database and closes it again. Eight threads doing that at once, writing
    /// and reading, must never see "database is locked": the last connection's close (which checkpoints and
    /// removes the WAL) racing another's open once did, and the API answered 503 (found by Scripts/soak).
    @Test func concurrentOpensAndClosesNeverFailWithBusy() throws {
        let failures = Mutex<[String]>([])
        // Fresh databases (provisioned in rollback-journal mode; the first open turns WAL on) and a reused one.
        for round in 0..<20 {
            let path = directory.appendingPathComponent("busy-\(round).sqlite3").path
            try TenantDatabase.provision(at: path, tenant: "t")
            DispatchQueue.concurrentPerform(iterations: 8) { thread in
                for step in 0..<(round == 0 ? 150 : 10) {
                    do {
                        let database = try TenantDatabase(path: path)
                        if step % 2 == 0 {
                            try database.put(record(.contacts, "c\(thread)-\(step % 10)", step))
                        } else {
                            _ = try database.record(.contacts, key: "c\(thread)-\(step % 10)")
                        }
                    } catch {
                        failures.withLock { $0.append("\(error)") }
                    }
                }
            }
        }
        let seen = failures.withLock { $0 }
        #expect(seen.isEmpty, "\(seen.count) failures, first: \(seen.first ?? "")")
    }

    /// A migration's snapshot at the source: a kernel copy of the database file when the WAL can be emptied
    /// first; the online backup API when a reader keeps frames of the WAL in its view. Either way the file holds
    /// the data as of the counter it reports.
    @Test func aSnapshotIsTheFileCopiedOrABackupWhenTheWALCannotEmpty() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("source.sqlite3").path
        try TenantDatabase.provision(at: path, tenant: "t")
        let database = try TenantDatabase(path: path)
        for index in 0..<40 { try database.put(record(.documents, "d\(index)", index + 7)) }
        let fastPath = directory.appendingPathComponent("fast.snapshot").path
        let fast = try TenantDataCopy.snapshot(of: path, to: fastPath)
        #expect(fast.copiedAsFile, "an idle tenant's snapshot is taken as a copy of its file")
        #expect(fast.sequence == (try database.sequence()))
        #expect(fast.bytes == (try FileManager.default.attributesOfItem(atPath: fastPath)[.size] as? Int64))
        #expect(fast.bytes == (try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int64))
        let content = try TenantDataCopy.fileContent(ofSnapshot: fastPath, sha256: try FileDigest.sha256(of: fastPath))
        #expect(content.rows[.documents] == 40)
        #expect((try TenantDatabase(snapshotAt: fastPath).contentDigest()) == (try database.contentDigest()))

        // A reader whose view holds a frame of the WAL: the WAL cannot be emptied, the backup API copies instead.
        try database.put(record(.contacts, "late", 1))
        let reader = try TenantDatabase(path: path)
        let slowPath = directory.appendingPathComponent("slow.snapshot").path
        let slow = try reader.database.read { () throws -> TenantDataCopy.FileSnapshot in
            _ = try reader.sequence()
            return try TenantDataCopy.snapshot(of: path, to: slowPath)
        }
        #expect(!slow.copiedAsFile)
        #expect(slow.sequence == fast.sequence + 1)
        #expect((try TenantDatabase(snapshotAt: slowPath).contentDigest()) == (try database.contentDigest()))
    }

    /// The target's file of a pulled snapshot: hashed by a second thread reading back what was written, across
    /// a resume (a file left by a cut pull is hashed from its first byte) and a truncation.
    @Test func aReceivedFileHashesEveryByteAcrossAResume() throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("incoming").path
        let bytes = (0..<((3 << 20) + 12_345)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ ($0 >> 13)) }
        let expected = SHA256.hash(bytes).hex
        func append(_ file: ReceivedFile, from start: Int) throws {
            for offset in stride(from: start, to: bytes.count, by: 200_000) {
                try bytes[offset..<min(offset + 200_000, bytes.count)].withUnsafeBytes { try file.append($0) }
            }
        }
        do {
            let cut = try ReceivedFile(path: path)
            try bytes[..<1_000_000].withUnsafeBytes { try cut.append($0) }
        }
        let resumed = try ReceivedFile(path: path)
        #expect(resumed.length == 1_000_000)
        try append(resumed, from: 1_000_000)
        #expect(try resumed.finish() == expected)
        let again = try ReceivedFile(path: path)
        #expect(again.length == Int64(bytes.count))
        try again.truncate()
        try append(again, from: 0)
        #expect(try again.finish() == expected)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == Data(bytes))
    }

    @Test func aRecordCanBeChangedAndDeletedRepeatedly() throws {
        let database = try TenantDatabase.provision(at: directory.appendingPathComponent("t.sqlite3").path, tenant: "t")
        for version in 0..<5 { try database.put(record(.accounts, "main", version)) }
        #expect(try database.delete(.accounts, key: "main"))
        try database.put(record(.accounts, "main", 9))
        #expect(try database.record(.accounts, key: "main")?.values["balance_cents"] == .integer(900))
        #expect(try database.sequence() == 7)
    }

    /// Property: whatever the application does between the snapshot and the freeze — inserts, updates,
    /// deletes, re-inserts under the same key — the final sync makes the copy equal to the source.
    @Test(arguments: 1...12)
    func theFinalSyncMakesTheCopyEqualAfterRandomWrites(seed: Int) throws {
        var random = SeededGenerator(seed: UInt64(seed))
        let source = directory.appendingPathComponent("source.sqlite3").path
        let target = directory.appendingPathComponent("target/t.sqlite3").path
        let database = try TenantDatabase.provision(at: source, tenant: "t")
        let keys = (0..<40).map { "k\($0)" }
        func mutate(_ count: Int) throws {
            for step in 0..<count {
                let collection = TenantCollection.allCases.randomElement(using: &random)!
                let key = keys.randomElement(using: &random)!
                if Int.random(in: 0..<4, using: &random) == 0 {
                    _ = try database.delete(collection, key: key)
                } else {
                    try database.put(record(collection, key, step + seed * 1000))
                }
            }
        }
        try mutate(150)
        let snapshot = try TenantDataCopy.bulkCopy(from: source, to: target)
        #expect(snapshot.content == (try database.contentDigest()))
        try mutate(Int.random(in: 0...120, using: &random))
        try database.setFrozen(true)
        #expect(throws: TenantDataError.frozen) { try database.put(record(.contacts, "late", 1)) }
        _ = try TenantDataCopy.syncChanges(from: source, to: target, since: snapshot.sequence)
        let verified = try TenantDataCopy.verify(source: source, target: target)
        #expect(verified == (try database.contentDigest()))
        #expect(try TenantDatabase(path: target).contentDigest() == verified)
    }

    @Test func aMissingDatabaseIsNeverCreatedEmpty() {
        let path = directory.appendingPathComponent("absent.sqlite3").path
        #expect(throws: TenantDataError.missing(path: path)) { try TenantDatabase(path: path) }
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    /// A signup's provision and the repair pass may provision one tenant at once; neither may delete the
    /// other's half-built file, and the published database always has its schema in the main file.
    @Test func concurrentProvisionsOfOneTenantPublishOneCompleteDatabase() throws {
        let plane = DataPlane(dataDirectory: DataDirectory(directory))
        for round in 0..<20 {
            let tenant = "tn_0193a2b4c5d6e7f8091a\(String(format: "%02d", round))"
            DispatchQueue.concurrentPerform(iterations: 6) { _ in
                do { try plane.provision(region: "eu", tenant: tenant) } catch { Issue.record("\(error)") }
            }
            let path = plane.path(region: "eu", tenant: tenant)
            #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
            #expect(!FileManager.default.fileExists(atPath: path + ".partial"))
            #expect(try plane.open(region: "eu", tenant: tenant).sequence() == 0)
        }
    }
}

/// SplitMix64: a small deterministic generator so a failing seed reproduces.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
