import Foundation

/// Finds the shipped `Regions/` and `Policies/` directories.
///
/// In order: an explicit path (a command-line flag), an environment variable, the current directory, then
/// the directories above the executable (which covers both `.build/debug/residency` in a checkout and an
/// install under `PREFIX/bin` with data in `PREFIX/share/residency`).
package struct ResourceLocator: Sendable {
    package let environment: [String: String]
    package let currentDirectory: URL
    package let executable: URL?

    package init(
        environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: URL = URL(fileURLWithPath: FileManager.default.currentDirectoryPath),
        executable: URL? = Bundle.main.executableURL
    ) {
        self.environment = environment
        self.currentDirectory = currentDirectory
        self.executable = executable
    }

    package static let regionsVariable = "RESIDENCY_REGIONS"
    package static let policiesVariable = "RESIDENCY_POLICIES"
    package static let dataVariable = "RESIDENCY_DATA"

    package func regions(explicit: String?) throws(ResourceError) -> URL {
        try locate("Regions", explicit: explicit, variable: Self.regionsVariable)
    }

    package func policies(explicit: String?) throws(ResourceError) -> URL {
        try locate("Policies", explicit: explicit, variable: Self.policiesVariable)
    }

    /// The data directory: explicit, then `RESIDENCY_DATA`, then `./residency-data`.
    package func dataDirectory(explicit: String?) -> URL {
        if let explicit { return resolve(explicit) }
        if let fromEnvironment = environment[Self.dataVariable], !fromEnvironment.isEmpty {
            return resolve(fromEnvironment)
        }
        return currentDirectory.appendingPathComponent("residency-data")
    }

    func locate(_ name: String, explicit: String?, variable: String) throws(ResourceError) -> URL {
        if let explicit {
            let url = resolve(explicit)
            guard isDirectory(url) else {
                throw ResourceError(name: name, tried: [url.path], source: "the command line")
            }
            return url
        }
        if let fromEnvironment = environment[variable], !fromEnvironment.isEmpty {
            let url = resolve(fromEnvironment)
            guard isDirectory(url) else { throw ResourceError(name: name, tried: [url.path], source: "$\(variable)") }
            return url
        }
        var tried: [String] = []
        var candidates = [currentDirectory.appendingPathComponent(name)]
        if var directory = executable?.resolvingSymlinksInPath().deletingLastPathComponent() {
            for _ in 0..<5 {
                candidates.append(directory.appendingPathComponent(name))
                candidates.append(directory.appendingPathComponent("share/residency/\(name)"))
                directory = directory.deletingLastPathComponent()
            }
        }
        for candidate in candidates {
            if isDirectory(candidate) { return candidate.standardizedFileURL }
            tried.append(candidate.standardizedFileURL.path)
        }
        throw ResourceError(name: name, tried: tried, source: nil)
    }

    func resolve(_ path: String) -> URL {
        path.hasPrefix("/")
            ? URL(fileURLWithPath: path) : currentDirectory.appendingPathComponent(path).standardizedFileURL
    }

    private func isDirectory(_ url: URL) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) && isDirectory.boolValue
    }
}

/// A shipped directory could not be found.
package struct ResourceError: Error, Sendable, CustomStringConvertible {
    package let name: String
    package let tried: [String]
    package let source: String?

    package var description: String {
        let flag = "--\(name.lowercased())"
        let variable = name == "Regions" ? ResourceLocator.regionsVariable : ResourceLocator.policiesVariable
        if let source {
            return "\(name) directory \(tried.first ?? "") (from \(source)) does not exist or is not a directory"
        }
        return
            "cannot find the \(name)/ directory (looked in \(tried.prefix(3).joined(separator: ", "))…); pass \(flag) DIR or set \(variable)"
    }
}

extension ResourceLocator {
    package static let geoIPVariable = "RESIDENCY_GEOIP"

    /// The geolocation database: explicit, then `RESIDENCY_GEOIP`, then the one shipped in `Regions/`.
    package func geoIPDatabase(explicit: String?, regions: URL) -> URL {
        if let explicit { return resolve(explicit) }
        if let fromEnvironment = environment[Self.geoIPVariable], !fromEnvironment.isEmpty {
            return resolve(fromEnvironment)
        }
        return regions.appendingPathComponent("dbip-country-lite.mmdb")
    }
}
