import Foundation
import ResidencyController
import ResidencyCore
import Testing

/// Counts of tenants per region kept in a server's memory follow what the CLI does beside it: signups and
/// migrations made by `residency` commands show in `GET /v1/regions/{id}` and `/metrics` at once, and
/// placement's capacity check counts them.
@Suite(.serialized) struct SharedCountsEndToEndTests {
    /// A copy of the shipped catalog whose `uk` region holds two tenants.
    static func smallCatalog() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-regions-\(UUID())")
        try FileManager.default.copyItem(at: CLIRun.root.appendingPathComponent("Regions"), to: directory)
        let uk = directory.appendingPathComponent("uk.json")
        let text = try String(contentsOf: uk, encoding: .utf8).replacingOccurrences(
            of: "\"capacity\": 500000", with: "\"capacity\": 2")
        try text.write(to: uk, atomically: true, encoding: .utf8)
        return directory
    }

    static func tenants(in region: String, _ server: ServerProcess, token: String) throws -> Int? {
        let response = try server.curl(["-H", "Authorization: Bearer \(token)", "{url}/v1/regions/\(region)"])
        guard let body = response.components(separatedBy: "\r\n\r\n").last,
            let value = try? JSONParser.parse(body), case .number(let count)? = value["region"]?["tenants"]
        else { return nil }
        return count.int64Value.map(Int.init)
    }

    @Test func signupsAndMigrationsByTheCLIAreSeenByARunningServer() throws {
        let regions = try Self.smallCatalog()
        defer { try? FileManager.default.removeItem(at: regions) }
        let server = try ServerProcess(extraArguments: ["--regions", regions.path])
        defer { #expect(server.stop() == 0) }
        let token = try server.token(role: "admin", name: "me")
        #expect(try Self.tenants(in: "uk", server, token: token) == 0)
        let beside = ["--data", server.data.path, "--regions", regions.path]
        var ids: [String] = []
        for name in ["Ada", "Grace"] {
            let line = try ServerProcess.run(
                ["tenants", "create", "--plan", "paid", "--name", name, "--country", "GB", "--region", "uk"] + beside)
            ids.append(String(line.split(separator: " ").first ?? ""))
        }
        #expect(ids.allSatisfy { TenantID.isWellFormed($0) })
        #expect(try Self.tenants(in: "uk", server, token: token) == 2)
        #expect(try server.curl(["{url}/metrics"]).contains("residency_tenants{region=\"uk\"} 2"))
        // The server never placed anyone in uk itself; its capacity check still sees the region full.
        let refused = try server.curl([
            "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
            "-d", #"{"name":"Edsger","plan":"paid","country":"GB","region":"uk"}"#, "{url}/v1/tenants",
        ])
        #expect(status(of: refused) == 422)
        #expect(refused.contains("region_unavailable"))
        _ = try ServerProcess.run(
            ["migrations", "request", "--tenant", ids[0], "--to", "eu", "--reason", "customer asked", "--approve"]
                + beside)
        #expect(try Self.tenants(in: "uk", server, token: token) == 1)
        #expect(try Self.tenants(in: "eu", server, token: token) == 1)
        let metrics = try server.curl(["{url}/metrics"])
        #expect(metrics.contains("residency_tenants{region=\"uk\"} 1"))
        #expect(metrics.contains("residency_tenants{region=\"eu\"} 1"))
        // Room again: the server places the next UK signup there.
        let placed = try server.curl([
            "-H", "Authorization: Bearer \(token)", "-H", "Content-Type: application/json",
            "-d", #"{"name":"Edsger","plan":"paid","country":"GB","region":"uk"}"#, "{url}/v1/tenants",
        ])
        #expect(status(of: placed) == 201)
        #expect(try Self.tenants(in: "uk", server, token: token) == 2)
    }
}
