import Foundation

/// libFuzzer entry point for the policy loader. A scratch copy of the shipped `Regions/` and `Policies/`
/// is made once; each input replaces one of its files — the first byte picks which — and the whole set is
/// loaded. The loader must either succeed or report problems that each name a file, a field path and a
/// message; crashes, hangs, sanitizer reports and empty problem reports are bugs.
let files = [
    "Policies/residency.json", "Policies/transfers.json", "Policies/access.json", "Policies/retention.json",
    "Policies/data-classes.json", "Regions/eu.json", "Regions/us.json", "Regions/countries.csv",
]

let scratch: URL = {
    let root = URL(fileURLWithPath: ProcessInfo.processInfo.environment["RESIDENCY_ROOT"] ?? ".")
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("residency-fuzz-policy-\(getpid())")
    try? FileManager.default.removeItem(at: scratch)
    for folder in ["Regions", "Policies"] {
        let target = scratch.appendingPathComponent(folder)
        try! FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        for name in try! FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
        where name.hasSuffix(".json") || name.hasSuffix(".csv") {
            try! FileManager.default.copyItem(
                at: root.appendingPathComponent(folder).appendingPathComponent(name),
                to: target.appendingPathComponent(name))
        }
    }
    return scratch
}()

let originals: [Data] = files.map { try! Data(contentsOf: scratch.appendingPathComponent($0)) }

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPolicyLoader(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size > 0 else { return 0 }
    let choice = Int(data[0]) % files.count
    let file = scratch.appendingPathComponent(files[choice])
    try! Data(bytes: data + 1, count: size - 1).write(to: file)
    defer { try! originals[choice].write(to: file) }
    let collector = ProblemCollector()
    let set = PolicySet.load(
        regions: scratch.appendingPathComponent("Regions"), policies: scratch.appendingPathComponent("Policies"),
        collector: collector)
    if set == nil && collector.problems.isEmpty { fatalError("the load failed without saying why") }
    for problem in collector.problems where problem.file.isEmpty || problem.path.isEmpty || problem.message.isEmpty {
        fatalError("a problem report is missing its file, path or message: \(problem)")
    }
    if set != nil && !collector.problems.isEmpty { fatalError("a set was loaded despite problems") }
    return 0
}
