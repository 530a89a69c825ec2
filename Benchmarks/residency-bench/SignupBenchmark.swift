import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Synchronization

/// Durable signups through the controller on a real data directory (WAL, synchronous = FULL): one caller at a
/// time, then `--callers` (default 64) callers at once, whose signups commit in groups. The directory entry and
/// its ledger entry only: provisioning a tenant's own database happens after the commit and is not measured.
enum SignupBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        let count = Int(option("count") ?? "") ?? 20_000
        let callers = Int(option("callers") ?? "") ?? 64
        let directory = URL(fileURLWithPath: NSTemporaryDirectory() + "residency-bench-signups-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let locator = ResourceLocator()
            let policies = try PolicySet.load(
                regions: try locator.regions(explicit: nil), policies: try locator.policies(explicit: nil))
            let pool = try DatabasePool(directory: DataDirectory(directory))
            let controller = try Controller(policies: policies, locator: nil, pool: pool)
            let countries = ["DE", "FR", "GB", "US", "IN", "AU", "SG", "ZA", "JP", "BR"].compactMap { CountryCode($0) }
            @Sendable func signUp(_ i: Int) throws {
                _ = try controller.directory.signUp(
                    Signup(name: "tenant \(i)", plan: .paid, declaredCountry: countries[i % countries.count]))
            }
            let singles = max(1, count / 10)
            var start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<singles { try signUp(i) }
            let singleRate = Double(singles) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            print("signups.one_caller \(Int(singleRate)) signups/s")

            let groupsBefore = pool.groupCommitTotals
            let failures = Failures()
            let cpuBefore = processCPUSeconds()
            start = DispatchTime.now().uptimeNanoseconds
            onThreads(callers) { caller in
                var i = singles + caller
                while i < singles + count {
                    if (try? signUp(i)) == nil { failures.count.add(1, ordering: .relaxed) }
                    i += callers
                }
            }
            let rate = Double(count) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
            let cpuPerSignup = (processCPUSeconds() - cpuBefore) / Double(count) * 1e6
            guard failures.count.load(ordering: .relaxed) == 0 else {
                print("error: \(failures.count.load(ordering: .relaxed)) signups failed")
                return 1
            }
            print("signups.concurrent \(Int(rate)) signups/s")
            print("signups.callers \(callers) callers")
            // How many signups each commit (one fsync) carried, on average.
            let groupsAfter = pool.groupCommitTotals
            let groups = max(1, groupsAfter.groups - groupsBefore.groups)
            print("signups.mean_group \((groupsAfter.writes - groupsBefore.writes) / groups) signups")
            // What the machine's load cannot move much: CPU (user + system, every thread) per concurrent signup.
            print("signups.cpu_per_signup \(Int(cpuPerSignup)) us")
            return 0
        } catch {
            print("error: \(error)")
            return 1
        }
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

/// Signups that failed, counted from every caller's thread.
final class Failures: Sendable {
    let count = Atomic<Int>(0)
}

/// User and system CPU time this process has used, in seconds, over all its threads.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}
