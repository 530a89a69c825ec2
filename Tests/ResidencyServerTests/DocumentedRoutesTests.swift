import Foundation
import ResidencyCore
import Testing

@testable import ResidencyServer

/// The README's HTTP table, `openapi.json` and the router list the same routes: a route added to one and not
/// the others fails here, naming it.
@Suite struct DocumentedRoutesTests {
    /// "METHOD /path" for every route of the running router.
    static func routerRoutes() throws -> Set<String> {
        let harness = try APIHarness()
        return Set(harness.application.router.routes.map { "\($0.method) \($0.template)" })
    }

    /// The console's HTML pages are in the README's table, not in the API's description.
    static func isConsole(_ route: String) -> Bool { route.split(separator: " ").last?.hasPrefix("/console") == true }

    /// Every `METHOD[|METHOD] /path[?query]` in the first cell of the README's HTTP API table.
    static func readmeRoutes() throws -> Set<String> {
        let text = try String(
            contentsOf: APIHarness.root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let section = text.range(of: "## HTTP API"), let header = text.range(
            of: "| route | roles | what |", range: section.upperBound..<text.endIndex)
        else { throw FixtureFailure("README.md has no HTTP API table") }
        var routes = Set<String>()
        for line in text[header.upperBound...].split(separator: "\n", omittingEmptySubsequences: false).dropFirst(2)
        {
            guard line.hasPrefix("| `") else { break }
            let cell = line.dropFirst(2).components(separatedBy: " | ")[0]
            for item in cell.components(separatedBy: "`").enumerated() where item.offset % 2 == 1 {
                let parts = item.element.replacingOccurrences(of: "\\|", with: "|").split(separator: " ")
                guard parts.count == 2 else { throw FixtureFailure("README route \"\(item.element)\" is not METHOD PATH") }
                let path = parts[1].split(separator: "?", maxSplits: 1)[0]
                for method in parts[0].split(separator: "|") { routes.insert("\(method) \(path)") }
            }
        }
        return routes
    }

    static func openAPIRoutes() throws -> Set<String> {
        let document = try JSONParser.parse(
            Array(try Data(contentsOf: APIHarness.root.appendingPathComponent("Sources/ResidencyServer/openapi.json"))))
        guard case .object(let paths)? = document["paths"] else { throw FixtureFailure("openapi.json has no paths") }
        var routes = Set<String>()
        for (path, item) in paths {
            guard case .object(let operations) = item else { continue }
            for (method, _) in operations where ["get", "put", "post", "delete", "patch"].contains(method) {
                routes.insert("\(method.uppercased()) \(path)")
            }
        }
        return routes
    }

    @Test func theReadmeTableListsEveryRouteOfTheRouter() throws {
        let router = try Self.routerRoutes()
        let readme = try Self.readmeRoutes()
        #expect(router.count > 30)
        #expect(router.subtracting(readme).sorted() == [], "routes the README's table leaves out")
        #expect(readme.subtracting(router).sorted() == [], "README routes the server does not have")
    }

    @Test func openAPIDescribesEveryRouteOfTheRouter() throws {
        let router = try Self.routerRoutes().filter { !Self.isConsole($0) }
        let document = try Self.openAPIRoutes()
        #expect(router.subtracting(document).sorted() == [], "routes openapi.json leaves out")
        #expect(document.subtracting(router).sorted() == [], "openapi.json routes the server does not have")
    }
}
