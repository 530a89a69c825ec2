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
    /// Geolocation test data kept in the repository (`Tests/Fixtures/geo`, with its licences), so a clone with
    /// nothing beside it passes.
    static let geo = repositoryRoot.appendingPathComponent("Tests/Fixtures/geo")
    static let conformance = geo.appendingPathComponent("maxmind-test-data")

    /// The entries of a fixture directory; a missing or empty one is an error naming the path (a parameterised
    /// test over an empty list would otherwise report "no test cases" instead of failing).
    static func listing(_ directory: URL) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory.path), !names.isEmpty else {
            return ["missing fixture directory \(directory.path)"]
        }
        return names.sorted()
    }
}
