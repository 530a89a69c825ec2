import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore

/// Durable appends (one transaction each, and batched), full verification and inclusion-proof latency at
/// `--entries` entries (default 1,000,000), on a real database file with synchronous = FULL.
enum LedgerBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let total = Int(option("entries") ?? "") ?? 1_000_000
        let singles = Int(option("singles") ?? "") ?? 2_000
        let directory = URL(
            fileURLWithPath: option("data") ?? NSTemporaryDirectory() + "residency-bench-ledger-\(UUID().uuidString)")
        defer { if option("data") == nil { try? FileManager.default.removeItem(at: directory) } }
        do {
            let pool = try DatabasePool(directory: DataDirectory(directory))
            // With --data the key is kept beside the database, so `residency ledger verify --data` can check it.
            let signer = try Ledger.loadOrCreateKey(in: directory, origin: "bench/ledger")
            let ledger = Ledger(signer: signer, pool: pool, clock: .system, checkpointEvery: Int.max)
            func body(_ i: Int) -> JSONValue {
                .object([("name", .string("token-\(i)")), ("role", .string("ops"))])
            }
            // One durable transaction per entry.
            var start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<singles {
                _ = try pool.write { database in
                    try Ledger.append(
                        in: database, time: 1_700_000_000_000, kind: .tokenCreated, actor: "bench", body: body(i))
                }
            }
            let singleRate = Double(singles) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            print("ledger.append_single \(Int(singleRate)) entries/s")

            // Batches of 10,000 entries per transaction, up to `total`.
            start = DispatchTime.now().uptimeNanoseconds
            var appended = singles
            while appended < total {
                let batch = min(10_000, total - appended)
                let first = appended
                try pool.write { database in
                    for i in first..<(first + batch) {
                        try Ledger.append(
                            in: database, time: 1_700_000_000_000, kind: .tokenCreated, actor: "bench", body: body(i))
                    }
                }
                appended += batch
            }
            let batchRate = Double(total - singles) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            print("ledger.append_batched \(Int(batchRate)) entries/s")
            try ledger.signCheckpoint(force: true)

            start = DispatchTime.now().uptimeNanoseconds
            let verification = try ledger.verify()
            let verifySeconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            guard verification.isValid else {
                print("error: verification failed: \(verification.problems.first!)")
                return 1
            }
            print("ledger.verify \(Int(Double(verification.entries) / verifySeconds)) entries/s")

            var state: UInt64 = 42
            start = DispatchTime.now().uptimeNanoseconds
            let proofs = 1_000
            for _ in 0..<proofs {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                _ = try ledger.inclusionProof(index: Int(state >> 33) % total, size: total)
            }
            let microseconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(proofs)
            print("ledger.inclusion_proof \(String(format: "%.1f", microseconds)) us")
            start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<proofs {
                state = state &* 6_364_136_223_846_793_005 &+ 1
                _ = try ledger.consistencyProof(from: 1 + Int(state >> 33) % (total - 1), to: total)
            }
            print(
                "ledger.consistency_proof \(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(proofs))) us"
            )
            print("ledger.entries \(total) entries")
            return 0
        } catch {
            print("error: \(error)")
            return 1
        }
    }
}
