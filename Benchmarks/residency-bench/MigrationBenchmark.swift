import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore

/// Migrates one tenant whose database holds `--megabytes` (default 1024) of documents from the UK to the
/// EU through the real runner, and in the same run copies the same file with `cp`: MB/s for both, and how
/// long the tenant was frozen.
enum MigrationBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let megabytes = Int(option("megabytes") ?? "") ?? 1024
        let root = URL(fileURLWithPath: option("root") ?? FileManager.default.currentDirectoryPath)
        let directory = URL(
            fileURLWithPath: option("data") ?? NSTemporaryDirectory() + "residency-bench-migration-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let controller = try Controller.open(
                dataDirectory: directory, regions: root.appendingPathComponent("Regions"),
                policies: root.appendingPathComponent("Policies"), geoIP: nil)
            let tenant = try controller.directory.signUp(Signup(name: "Big Tenant", plan: .paid, declaredCountry: CountryCode("GB")))
                .tenant
            let source = controller.dataPlane!.path(region: tenant.region, tenant: tenant.id)
            // Fill it: 1 MiB documents of random bytes (incompressible, as real files mostly are), in batches.
            let database = try TenantDatabase(path: source)
            var body = [UInt8](repeating: 0, count: 1 << 20)
            var generator = SystemRandomNumberGenerator()
            for batch in stride(from: 0, to: megabytes, by: 64) {
                try database.write {
                    for index in batch..<min(batch + 64, megabytes) {
                        for offset in stride(from: 0, to: body.count, by: 8) {
                            withUnsafeBytes(of: generator.next()) { word in
                                for byte in 0..<8 { body[offset + byte] = word[byte] }
                            }
                        }
                        try database.put(
                            TenantRecord(
                                collection: .documents, key: "doc-\(index)",
                                values: [
                                    "name": .text("doc-\(index).bin"), "content_type": .text("application/octet-stream"),
                                    "body": .bytes(body),
                                ], updatedAt: 1))
                    }
                }
            }
            try database.database.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            let bytes = (try FileManager.default.attributesOfItem(atPath: source)[.size] as? Int64) ?? 0
            let megabytesOnDisk = Double(bytes) / 1_048_576

            // Write the fill back to disk first, so neither side pays for the other's dirty pages.
            sync()
            // The reference: cp of the same file to a new file on the same file system, made durable (`sync FILE`
            // fsyncs it) as the migration makes its copy durable. Without the fsync cp measured the page cache:
            // 300 to 2,000 MiB/s from one run to the next on the same machine.
            let copy = directory.appendingPathComponent("cp-reference.sqlite3").path
            var start = DispatchTime.now().uptimeNanoseconds
            let cp = Process()
            cp.executableURL = URL(fileURLWithPath: "/bin/sh")
            cp.arguments = ["-c", "cp \"$0\" \"$1\" && sync \"$1\"", source, copy]
            try cp.run()
            cp.waitUntilExit()
            let cpSeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            try? FileManager.default.removeItem(atPath: copy)
            sync()

            start = DispatchTime.now().uptimeNanoseconds
            let requested = try controller.migrations.requestMigration(
                .init(tenant: tenant.id, toRegion: "eu", reason: "benchmark"), by: "bench")
            _ = try controller.migrations.approveMigration(id: requested.id, by: "bench")
            let done = try controller.migrations.runMigration(id: requested.id)
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard done.state == .completed else {
                FileHandle.standardError.write(Data("migration ended \(done.state.rawValue): \(done.error ?? "")\n".utf8))
                return 1
            }
            let steps = try controller.migrations.migrationSteps(id: requested.id)
            func duration(_ state: String) -> Double {
                let started = steps.first { $0.state == state && $0.phase == "started" }?.at ?? 0
                let finished = steps.first { $0.state == state && $0.phase == "finished" }?.at ?? 0
                return Double(finished - started) / 1000
            }
            print("migration.megabytes \(String(format: "%.1f", megabytesOnDisk)) MiB")
            print("migration.seconds \(String(format: "%.3f", seconds)) s")
            print("migration.mbps \(String(format: "%.0f", megabytesOnDisk / seconds)) MiB/s")
            print("migration.copy_step_seconds \(String(format: "%.3f", duration("copying"))) s")
            print("migration.frozen_ms \(done.frozenMilliseconds ?? -1) ms")
            print("cp.seconds \(String(format: "%.3f", cpSeconds)) s")
            print("cp.mbps \(String(format: "%.0f", megabytesOnDisk / cpSeconds)) MiB/s")
            return 0
        } catch {
            FileHandle.standardError.write(Data("migration benchmark failed: \(error)\n".utf8))
            return 1
        }
    }
}
