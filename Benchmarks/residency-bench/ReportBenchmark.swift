import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore

/// Fills a data directory's ledger with `--events` access events (default 10,000,000) spread over 40 tenants,
/// 12 staff and 6 countries, then times the cross-border report over all of them. `--data DIR` keeps the
/// directory so `Scripts/bench-report` can time the sqlite3 aggregate on the same database.
enum ReportBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let events = Int(option("events") ?? "") ?? 10_000_000
        let root = URL(fileURLWithPath: option("root") ?? FileManager.default.currentDirectoryPath)
        guard let data = option("data") else {
            FileHandle.standardError.write(Data("report benchmark needs --data DIR\n".utf8))
            return 64
        }
        let directory = URL(fileURLWithPath: data)
        do {
            let controller = try Controller.open(
                dataDirectory: directory, regions: root.appendingPathComponent("Regions"),
                policies: root.appendingPathComponent("Policies"), geoIP: nil)
            let countries = ["US", "IN", "PH", "IE", "ZA", "AU"]
            let existing = try controller.ledger.size()
            if existing < events {
                var start = DispatchTime.now().uptimeNanoseconds
                var written = 0
                while written < events {
                    let batch = min(20_000, events - written)
                    let first = written
                    try controller.pool.write { database in
                        for i in first..<(first + batch) {
                            try Ledger.append(
                                in: database, time: 1_780_000_000_000 + Int64(i), kind: .accessUsed, actor: "desk",
                                tenant: "tn_bench\(i % 40)", region: "eu",
                                body: .object([
                                    ("request", .string("ar_bench\(i % 500)")), ("staff", .string("s-\(i % 12)")),
                                    ("physical_country", .string(countries[i % countries.count])),
                                    ("method", .string("console")), ("resource", .string("contacts/\(i % 1000)")),
                                    ("data_class", .string("customer_data")), ("mode", .string("read")),
                                    ("outcome", .string("allowed")), ("event", .integer(i)),
                                ]))
                        }
                    }
                    written += batch
                }
                let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
                print("report.generate_events \(Int(Double(events) / seconds)) events/s")
                start = DispatchTime.now().uptimeNanoseconds
                _ = try controller.ledger.signCheckpoint(force: true)
                print("report.checkpoint \(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)) s")
                // A live store folds the report's day rows in as it signs (a checkpoint every 100 entries); these
                // entries were written without signing, so the whole stretch is folded here, as a controller
                // opening the store does — not inside the first timed report.
                start = DispatchTime.now().uptimeNanoseconds
                _ = try Controller.open(
                    dataDirectory: directory, regions: root.appendingPathComponent("Regions"),
                    policies: root.appendingPathComponent("Policies"), geoIP: nil)
                print("report.fold \(String(format: "%.1f", Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)) s")
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let report = try controller.reports.crossBorderReport(
                from: 1_700_000_000_000, to: 1_900_000_000_000, region: nil, tenant: nil)
            let destinations = report.byDestination
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            print("report.cross_border_seconds \(String(format: "%.3f", seconds)) s")
            print("report.accesses \(report.accesses.count) lines")
            print("report.destinations \(destinations.map { "\($0.key)=\($0.count)" }.joined(separator: ","))")
            // The last 1 % of the period: read through the (kind, time) and request indexes, so it should cost
            // about 1 % of the whole.
            let windowFrom = 1_780_000_000_000 + Int64(events - events / 100)
            let windowStart = DispatchTime.now().uptimeNanoseconds
            let window = try controller.reports.crossBorderReport(
                from: windowFrom, to: 1_780_000_000_000 + Int64(events), region: nil, tenant: nil)
            let windowSeconds = Double(DispatchTime.now().uptimeNanoseconds - windowStart) / 1e9
            print("report.window_from \(windowFrom)")
            print("report.window_seconds \(String(format: "%.3f", windowSeconds)) s")
            print("report.window_accesses \(window.accesses.count) lines")
            return 0
        } catch {
            FileHandle.standardError.write(Data("report benchmark failed: \(error)\n".utf8))
            return 1
        }
    }
}
