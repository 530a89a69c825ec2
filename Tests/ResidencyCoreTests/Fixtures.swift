import Foundation

/// The repository root and copies of its shipped files for tests to break.
enum Fixtures {
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let regions = repositoryRoot.appendingPathComponent("Regions")
    static let policies = repositoryRoot.appendingPathComponent("Policies")

    /// A fresh temporary directory holding copies of `Regions/` and `Policies/` (without the large geo file).
    static func copyOfShippedFiles() throws -> (root: URL, regions: URL, policies: URL) {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("residency-test-\(UUID().uuidString)")
        let regionsCopy = root.appendingPathComponent("Regions")
        let policiesCopy = root.appendingPathComponent("Policies")
        try FileManager.default.createDirectory(at: regionsCopy, withIntermediateDirectories: true)
        for name in try FileManager.default.contentsOfDirectory(atPath: regions.path)
        where name.hasSuffix(".json") || name.hasSuffix(".csv") {
            try FileManager.default.copyItem(
                at: regions.appendingPathComponent(name), to: regionsCopy.appendingPathComponent(name))
        }
        try FileManager.default.copyItem(at: policies, to: policiesCopy)
        return (root, regionsCopy, policiesCopy)
    }

    /// Replaces exactly one occurrence of `old` in `file`; fails loudly if the fixture text drifted.
    static func replace(in file: URL, _ old: String, with new: String) throws {
        let text = try String(contentsOf: file, encoding: .utf8)
        let occurrences = text.components(separatedBy: old).count - 1
        guard occurrences == 1 else {
            throw FixtureError("expected exactly one \"\(old)\" in \(file.lastPathComponent), found \(occurrences)")
        }
        try text.replacingOccurrences(of: old, with: new).write(to: file, atomically: true, encoding: .utf8)
    }
}

struct FixtureError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension Fixtures {
    /// `../shared/geo` beside the repository, as on developer machines and in CI.
    static let sharedGeo = repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/geo")
    static let conformance = sharedGeo.appendingPathComponent("maxmind-test-data")
}
