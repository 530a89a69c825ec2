import ResidencyCore
import Testing

@testable import ResidencyServer

extension APIApplicationTests {
    /// Random method tokens and random paths, 10,000 of them: the request metrics stay a handful of series
    /// (labels come from closed sets), and the exposition stays small. Keyed by the raw method, each request
    /// with a new token added a series for good.
    @Test func randomMethodsAndPathsAddNoSeries() throws {
        var generator = SeededGenerator(seed: 42)
        let tokenBytes = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~".utf8)
        let known = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "get"]
        let prefixes = [[], ["v1"], ["v1", "tenants"], ["v1", "regions"], ["v1", "ledger"], ["healthz"]]
        for _ in 0..<10_000 {
            let method =
                Bool.random(using: &generator)
                ? known.randomElement(using: &generator)!
                : String(
                    decoding: (0..<Int.random(in: 1...24, using: &generator)).map { _ in
                        tokenBytes.randomElement(using: &generator)!
                    }, as: UTF8.self)
            var segments = prefixes.randomElement(using: &generator)!
            for _ in 0..<Int.random(in: 0...3, using: &generator) {
                segments.append(String(UInt64.random(in: 0...UInt64.max, using: &generator), radix: 36))
            }
            let request = HTTPRequest(
                method: method, target: "/" + segments.joined(separator: "/"), pathSegments: segments, query: [],
                minorVersion: 1, headers: [("host", "t")], body: [])
            _ = api.application.respond(to: request)
        }
        let series = api.application.metrics.requestSeriesCount
        #expect(series <= 64, "\(series) series")
        let text = String(decoding: api.send("GET", "/metrics", role: nil).response.body, as: UTF8.self)
        #expect(text.utf8.count < 32 * 1024, "\(text.utf8.count) bytes of metrics")
        let methods = Set(text.split(separator: "method=\"").dropFirst().map { $0.prefix { $0 != "\"" } })
        #expect(methods.isSubset(of: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "other", "-"]))
        #expect(methods.contains("other"))
        let statuses = Set(text.split(separator: "status=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) })
        #expect(statuses.isSubset(of: Set(HTTPStatus.emitted.map(String.init))), "\(statuses)")
    }

    /// Status labels: a status the server sends keeps its number, any other only its class.
    @Test(arguments: [(404, "404"), (417, "417"), (503, "503"), (418, "4xx"), (299, "2xx"), (999, "9xx"), (-5, "0xx")])
    func statusLabels(status: Int, label: String) {
        #expect(StatusLabel(status).text == label)
    }

    /// The access log's dropped lines are exposed at /metrics.
    @Test func droppedLogLinesAreExposed() throws {
        let metrics = Metrics(droppedLogLines: { 42 })
        #expect(metrics.render(tenants: [:]).contains("\nresidency_log_lines_dropped_total 42\n"))
        let text = String(decoding: api.send("GET", "/metrics", role: nil).response.body, as: UTF8.self)
        #expect(
            text.contains("# TYPE residency_log_lines_dropped_total counter\nresidency_log_lines_dropped_total 0\n"))
    }

    /// Methods HTTP does not define for this API — and methods in the wrong case, which are other methods — are
    /// 501, not 404 or 405.
    @Test(arguments: ["get", "BREW", "Post"])
    func unknownMethodsAreNotImplemented(method: String) {
        let answer = api.send(method, "/v1/tenants", role: nil)
        #expect(answer.status == 501)
        #expect(answer.json?["error"]?["code"] == .string("not_implemented"))
    }

    /// HEAD is answered wherever GET is, as GET would answer, with the GET body's Content-Length and no body on
    /// the wire (it was 405 everywhere).
    @Test(arguments: ["/healthz", "/openapi.json", "/v1/regions", "/v1/tenants", "/metrics"])
    func headIsServedWhereGetIs(path: String) throws {
        let get = api.send("GET", path)
        let head = api.send("HEAD", path)
        #expect(get.status == 200)
        #expect(head.status == 200)
        if path != "/metrics" { #expect(head.response.body == get.response.body) }
        let wire = head.response.serialized(keepAlive: true, omitBody: true)
        let text = String(decoding: wire, as: UTF8.self)
        #expect(text.contains("\r\nContent-Length: \(head.response.body.count)\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
        #expect(api.send("HEAD", "/v1/placements").status == 405)
        #expect(api.send("HEAD", path, role: nil).status == (path.hasPrefix("/v1") ? 401 : 200))
    }
}
