import Foundation
import Testing

/// The cross-border report streamed by the real server over a real socket: curl reads it as chunks (strictly
/// framed), and the body is the report the CLI writes from the same data directory, in every format.
@Suite(.serialized) struct ReportStreamingEndToEndTests {
    @Test func curlReadsTheChunkedReportAndItIsTheCLIReport() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        var tokens: [String: String] = [:]
        for role in ["signup", "support", "compliance"] { tokens[role] = try server.token(role: role, name: role) }
        let encoded = String(decoding: try JSONSerialization.data(withJSONObject: tokens), as: UTF8.self)
        // 1,500 uses of one grant, over one keep-alive connection: a report of a few MiB.
        _ = try server.python(
            #"""
            import http.client, json, os
            port = int(os.environ["PORT"]); tokens = json.loads(os.environ["TOKEN"])
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            def call(method, path, role, body=None):
                c.request(method, path, body=json.dumps(body) if body is not None else None,
                          headers={"Authorization": "Bearer " + tokens[role], "Content-Type": "application/json"})
                r = c.getresponse(); data = r.read()
                return r.status, (json.loads(data) if data else None)
            s, t = call("POST", "/v1/tenants", "signup", {"name": "Customer FR", "plan": "paid", "country": "FR"})
            assert s == 201, t
            filing = {"tenant": t["tenant"]["id"], "staff": {"id": "s-us", "entity": "Residency Group", "role": "sre", "office": "austin"},
                      "physical_country": "US", "justification": "customer_support", "detail": "TICKET-1",
                      "scope": {"data_classes": ["customer_data"], "mode": "read"}}
            s, r = call("POST", "/v1/access-requests", "support", filing)
            assert s == 201, r
            rid = r["access_request"]["id"]
            if r["access_request"]["state"] == "pending":
                s, d = call("POST", f"/v1/access-requests/{rid}/approve", "compliance", {"reason": "ok", "hours": 2})
                assert s == 200, d
            for i in range(1500):
                s, u = call("POST", "/v1/access-events", "support", {"request": rid, "staff_id": "s-us",
                            "physical_country": "US", "method": "console", "resource": f"contacts/{i}",
                            "data_class": "customer_data", "mode": "read"})
                assert s in (200, 201), u
            """#, token: encoded)
        Thread.sleep(forTimeInterval: 1.5)  // the publication loop signs a checkpoint over the last entries
        let period = ["--from", "2020-01-01T00:00:00Z", "--to", "2100-01-01T00:00:00Z"]
        for format in ["json", "csv", "html"] {
            let url = "{url}/v1/reports/cross-border?format=\(format)&from=2020-01-01T00:00:00Z&to=2100-01-01T00:00:00Z"
            let raw = try curlBytes(server, ["--raw", "-H", "Authorization: Bearer \(tokens["compliance"]!)", url])
            let pieces = try #require(Self.dechunk(raw), "\(format): the chunked framing is broken")
            #expect(pieces.count > 1, "\(format): \(pieces.count) chunk(s)")
            let body = String(decoding: pieces.flatMap { $0 }, as: UTF8.self)
            let cli = try ServerProcess.runWhole(
                ["report", "cross-border", "--data", server.data.path, "--format", format] + period)
            #expect(Self.unstamped(body) == Self.unstamped(cli), "\(format): \(body.utf8.count) against \(cli.utf8.count) bytes")
            if format == "json" { #expect(body.contains("\"resource\": \"contacts/1499\"")) }
        }
    }

    /// The one thing two runs of the same report differ in: when it was generated.
    static func unstamped(_ report: String) -> String {
        report.replacingOccurrences(
            of: #"("generated_at": "|Generated )[0-9T:.Z-]+"#, with: "$1-", options: .regularExpression)
    }

    func curlBytes(_ server: ServerProcess, _ arguments: [String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["curl", "-s", "--fail", "--max-time", "30"]
            + arguments.map { $0.replacingOccurrences(of: "{url}", with: "http://127.0.0.1:\(server.port)") }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = [UInt8](output.fileHandleForReading.readDataToEndOfFile())
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return bytes
    }

    /// Chunked framing (RFC 9112 §7.1) read strictly; nil when broken.
    static func dechunk(_ raw: [UInt8]) -> [[UInt8]]? {
        var pieces: [[UInt8]] = []
        var at = 0
        while true {
            var lineEnd = at
            while lineEnd + 1 < raw.count && !(raw[lineEnd] == 0x0D && raw[lineEnd + 1] == 0x0A) { lineEnd += 1 }
            guard lineEnd + 1 < raw.count, let size = Int(String(decoding: raw[at..<lineEnd], as: UTF8.self), radix: 16)
            else { return nil }
            at = lineEnd + 2
            if size == 0 { return raw.count == at + 2 && raw[at] == 0x0D && raw[at + 1] == 0x0A ? pieces : nil }
            guard at + size + 2 <= raw.count, raw[at + size] == 0x0D, raw[at + size + 1] == 0x0A else { return nil }
            pieces.append(Array(raw[at..<(at + size)]))
            at += size + 2
        }
    }
}
