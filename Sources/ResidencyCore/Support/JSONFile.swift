import Foundation

/// Reads a JSON configuration file, reporting unreadable files and syntax errors against the file's name.
package enum JSONFile {
    package static func read(_ url: URL, displayName: String, collector: ProblemCollector) -> JSONValue? {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            collector.report(file: displayName, path: "-", "cannot read the file")
            return nil
        }
        do {
            return try JSONParser.parse([UInt8](data))
        } catch {
            collector.report(file: displayName, path: "-", error.description)
            return nil
        }
    }
}

/// Names files the way the user will recognise them: relative to the working directory when inside it.
package enum DisplayPath {
    package static func of(_ url: URL) -> String {
        let path = url.standardizedFileURL.path
        let cwd = FileManager.default.currentDirectoryPath
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return path.hasPrefix(prefix) ? String(path.dropFirst(prefix.count)) : path
    }
}
