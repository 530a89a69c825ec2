import Foundation
import Testing

/// SwiftPM on Linux lets a module import any module built before it, declared or not, so "the CLI does not import
/// the store" would hold only until someone wrote the import. This test is the check: every module a target
/// imports (of this package's own) is among the dependencies `Package.swift` declares for it.
@Suite struct TargetDependencyTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// Target name -> (directory, declared dependencies), read from `Package.swift`.
    static func targets() throws -> [String: (directory: URL, dependencies: Set<String>)] {
        let manifest = try String(contentsOf: root.appendingPathComponent("Package.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(
            pattern:
                #"\.(target|executableTarget|testTarget)\(\s*name: "([\w-]+)",\s*dependencies: \[([^\]]*)\](,\s*path: "([^"]+)")?"#
        )
        var targets: [String: (URL, Set<String>)] = [:]
        let text = manifest as NSString
        for match in pattern.matches(in: manifest, range: NSRange(location: 0, length: text.length)) {
            let kind = text.substring(with: match.range(at: 1))
            let name = text.substring(with: match.range(at: 2))
            let dependencies = Set(
                text.substring(with: match.range(at: 3)).split(separator: ",").map {
                    $0.trimmingCharacters(in: CharacterSet(charactersIn: " \n\""))
                }.filter { !$0.isEmpty })
            let path =
                match.range(at: 5).location != NSNotFound
                ? text.substring(with: match.range(at: 5)) : (kind == "testTarget" ? "Tests/" : "Sources/") + name
            targets[name] = (root.appendingPathComponent(path), dependencies)
        }
        return targets
    }

    /// The package's own modules a directory's Swift files import.
    static func imports(under directory: URL, modules: Set<String>) -> Set<String> {
        var found: Set<String> = []
        let files = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: nil)
        while let url = files?.nextObject() as? URL {
            guard url.pathExtension == "swift", let text = try? String(contentsOf: url, encoding: .utf8) else {
                continue
            }
            for line in text.split(separator: "\n") {
                let words = line.split(separator: " ")
                guard let index = words.firstIndex(of: "import"), index + 1 < words.count,
                    words[..<index].allSatisfy({ $0 == "@testable" })
                else { continue }
                let module = String(words[index + 1])
                if modules.contains(module) { found.insert(module) }
            }
        }
        return found
    }

    @Test func everyTargetDeclaresWhatItImports() throws {
        let targets = try Self.targets()
        #expect(targets.count >= 14, "Package.swift's targets were not all read: \(targets.keys.sorted())")
        let modules = Set(targets.keys).union(
            try FileManager.default.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path))
        for (name, target) in targets {
            let undeclared = Self.imports(under: target.directory, modules: modules)
                .subtracting(target.dependencies).subtracting([name])
            #expect(
                undeclared.isEmpty, "\(name) imports \(undeclared.sorted()) without declaring them in Package.swift")
        }
    }

    @Test func theCommandLineReachesTheStoreOnlyThroughTheController() throws {
        let cli = try #require(try Self.targets()["ResidencyCLI"])
        #expect(!cli.dependencies.contains("ResidencyStore"))
        #expect(!Self.imports(under: cli.directory, modules: ["ResidencyStore", "CSQLite"]).contains("ResidencyStore"))
        let server = try #require(try Self.targets()["ResidencyServer"])
        #expect(!server.dependencies.contains("ResidencyStore"))
    }
}
