import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

/// The real `residency serve` on port 0, driven by real clients: curl and Python's http.client.
final class ServerProcess: Sendable {
    let process: Process
    let port: Int
    let data: URL
    let errors: Pipe

    static var binary: URL { CLIRun.root.appendingPathComponent(".build/debug/residency") }

    /// Runs `residency ARGS` to completion and answers its standard output, trimmed.
    static func run(_ arguments: [String]) throws -> String {
        try runWhole(arguments).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Runs `residency ARGS` and answers its whole standard output, as it is.
    static func runWhole(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.currentDirectoryURL = CLIRun.root
        let output = Pipe()
        process.standardOutput = output
        process.standardError = Pipe()
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    /// Starts a server on a fresh data directory, or on `data` (a restart); its access log goes to `accessLog`
    /// when given; `environment` is added to the test's own.
    init(
        data: URL? = nil, extraArguments: [String] = [], accessLog: URL? = nil, environment: [String: String] = [:]
    ) throws {
        self.data =
            data ?? FileManager.default.temporaryDirectory.appendingPathComponent("residency-e2e-\(UUID().uuidString)")
        process = Process()
        process.executableURL = Self.binary
        process.arguments = ["serve", "--listen", "127.0.0.1:0", "--data", self.data.path] + extraArguments
        process.currentDirectoryURL = CLIRun.root
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        if let accessLog {
            _ = FileManager.default.createFile(atPath: accessLog.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: accessLog)
        } else {
            process.standardOutput = FileHandle.nullDevice
        }
        errors = Pipe()
        process.standardError = errors
        try process.run()
        // A line on stderr names the bound port (after any start-up repairs it reports).
        var text = ""
        let handle = errors.fileHandleForReading
        while text.range(of: #"https?://127\.0\.0\.1:(\d+)"#, options: .regularExpression) == nil {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"https?://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
            let port = Int(text[range].split(separator: ":").last!)
        else {
            process.terminate()
            throw FixtureFailure("server did not start: \(text)")
        }
        self.port = port
    }

    func token(role: String, name: String) throws -> String {
        try Self.run(["tokens", "create", "--role", role, "--name", name, "--data", data.path])
    }

    /// SIGKILL: no shutdown path runs.
    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM and wait, keeping the data directory.
    func terminate() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        process.terminate()
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: data)
        return process.terminationStatus
    }

    /// curl's output (`-s -i` by default), with the port in `{url}` substituted.
    func curl(_ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments =
            ["curl", "-s", "-i", "--max-time", "20"]
            + arguments.map { $0.replacingOccurrences(of: "{url}", with: "http://127.0.0.1:\(port)") }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    /// Runs a Python program with PORT and TOKEN in its environment; answers its standard output.
    func python(_ program: String, token: String = "") throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program]
        process.environment = ProcessInfo.processInfo.environment.merging(["PORT": String(port), "TOKEN": token]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw FixtureFailure("python failed: \(text)") }
        return text
    }
}

struct FixtureFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func status(of response: String) -> Int? {
    // The last status line wins (curl prints "100 Continue" first when it was sent).
    response.components(separatedBy: "\r\n").filter { $0.hasPrefix("HTTP/1.1 ") && !$0.hasPrefix("HTTP/1.1 100") }.last
        .flatMap { Int($0.split(separator: " ")[1]) }
}

@Suite(.serialized) struct ServerEndToEndTests {
    @Test func curlSeesEveryStatus() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let signup = try server.token(role: "signup", name: "signup-flow")
        let support = try server.token(role: "support", name: "desk")
        let auth = "Authorization: Bearer \(signup)"
        let json = "Content-Type: application/json"

        #expect(status(of: try server.curl(["{url}/healthz"])) == 200)
        #expect(status(of: try server.curl(["{url}/v1/regions"])) == 401)
        #expect(status(of: try server.curl(["-H", "Authorization: Bearer rsd_forged", "{url}/v1/regions"])) == 401)
        #expect(
            status(
                of: try server.curl([
                    "-H", "Authorization: Bearer \(support)", "-H", json, "-d", "{}", "{url}/v1/tenants",
                ])) == 403)
        #expect(status(of: try server.curl(["-H", auth, "{url}/nowhere"])) == 404)
        let notAllowed = try server.curl(["-X", "PUT", "-H", auth, "{url}/v1/tenants"])
        #expect(status(of: notAllowed) == 405)
        #expect(notAllowed.contains("Allow: POST, GET"))
        #expect(status(of: try server.curl(["-H", auth, "-H", json, "-d", "{nope", "{url}/v1/placements"])) == 400)
        #expect(
            status(
                of: try server.curl(["-H", auth, "-H", "Content-Type: text/csv", "-d", "a,b", "{url}/v1/placements"]))
                == 415)
        let refused = try server.curl([
            "-H", auth, "-H", json, "-d", #"{"name":"x","plan":"free","country":"FR","region":"us"}"#,
            "{url}/v1/tenants",
        ])
        #expect(status(of: refused) == 422)
        #expect(refused.contains(#""rule":"eea-in-eu""#))
        let created = try server.curl([
            "-H", auth, "-H", json, "-H", "Idempotency-Key: k", "-d", #"{"name":"x","plan":"free","country":"DE"}"#,
            "{url}/v1/tenants",
        ])
        #expect(status(of: created) == 201)
        #expect(
            status(
                of: try server.curl([
                    "-H", auth, "-H", json, "-H", "Idempotency-Key: k", "-d", #"{"name":"y","plan":"free"}"#,
                    "{url}/v1/tenants",
                ])) == 409)

        // A 2 MiB body is refused from its Content-Length, before it is read.
        let big = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).json")
        try Data(repeating: 0x20, count: 2 * 1024 * 1024).write(to: big)
        defer { try? FileManager.default.removeItem(at: big) }
        #expect(
            status(
                of: try server.curl(["-H", auth, "-H", json, "--data-binary", "@\(big.path)", "{url}/v1/placements"]))
                == 413)
        #expect(
            status(of: try server.curl(["-H", "X-Big: " + String(repeating: "a", count: 20_000), "{url}/healthz"]))
                == 431)

        // A chunked body is decoded; Expect: 100-continue is answered before the body is sent.
        let chunked = try server.curl([
            "-H", auth, "-H", json, "-H", "Transfer-Encoding: chunked", "-d", #"{"country":"JP"}"#,
            "{url}/v1/placements",
        ])
        #expect(status(of: chunked) == 200)
        #expect(chunked.contains(#""region":"singapore""#))
        let continued = try server.curl([
            "-H", auth, "-H", json, "-H", "Expect: 100-continue", "-d", #"{"country":"IN"}"#, "{url}/v1/placements",
        ])
        #expect(continued.contains("HTTP/1.1 100 Continue"))
        #expect(status(of: continued) == 200)
    }

    /// The server caches who a token belongs to; `residency tokens revoke`, run beside it, still takes effect at
    /// the very next request, and the refused call is on the ledger. A token created meanwhile works at once.
    @Test func aTokenRevokedBesideTheServerFailsAtOnce() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let token = try server.token(role: "signup", name: "warm")
        let auth = "Authorization: Bearer \(token)"
        for _ in 0..<5 { #expect(status(of: try server.curl(["-H", auth, "{url}/v1/regions"])) == 200) }
        _ = try ServerProcess.run(["tokens", "revoke", "warm", "--data", server.data.path])
        let refused = try server.curl(["-H", auth, "{url}/v1/regions"])
        #expect(status(of: refused) == 401)
        #expect(refused.contains("invalid_token"))
        let fresh = try server.token(role: "signup", name: "fresh")
        #expect(status(of: try server.curl(["-H", "Authorization: Bearer \(fresh)", "{url}/v1/regions"])) == 200)
        let compliance = try server.token(role: "compliance", name: "auditor")
        let entries = try server.curl([
            "-H", "Authorization: Bearer \(compliance)", "{url}/v1/ledger/entries",
        ])
        #expect(entries.contains(#""kind":"api.refused""#) && entries.contains(#""reason":"revoked_token""#))
    }

    /// One JSON line per request on standard output, with the token's name and never its secret; lines
    /// still buffered are written when the server stops.
    @Test func theAccessLogHasOneLinePerRequestAndNoSecrets() throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("access-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let server = try ServerProcess(accessLog: log)
        let token = try server.token(role: "signup", name: "logged")
        var sent = 0
        for path in ["/healthz", "/v1/regions", "/v1/regions/uk", "/nowhere"] {
            _ = try server.curl([
                "-H", "Authorization: Bearer \(token)", "-H", "X-Request-Id: req-\(sent)", "{url}\(path)",
            ])
            sent += 1
        }
        _ = try server.curl(["{url}/v1/regions"])  // no token
        sent += 1
        #expect(server.stop() == 0)
        let lines = try String(contentsOf: log, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == sent)
        #expect(!lines.contains { $0.contains(token) })
        let objects = lines.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(objects.count == sent)
        #expect(objects.map { $0["status"] as? Int } == [200, 200, 200, 404, 401])
        // Public and unmatched routes authenticate no one.
        #expect(objects.map { $0["token"] as? String } == [nil, "logged", "logged", nil, nil])
        #expect(objects.map { $0["request_id"] as? String }.prefix(4) == ["req-0", "req-1", "req-2", "req-3"])
        #expect(objects.allSatisfy { ($0["time"] as? String)?.hasSuffix("Z") == true && $0["duration_ms"] is Double })
        #expect(objects[2]["route"] as? String == "/v1/regions/{id}")
        #expect(objects[2]["path"] as? String == "/v1/regions/uk")
    }

    @Test func fiftyConcurrentSignupsWithOneKeyMakeOneTenant() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let token = try server.token(role: "signup", name: "signup-flow")
        let output = try server.python(
            """
            import http.client, json, os, threading
            port, token = int(os.environ["PORT"]), os.environ["TOKEN"]
            body = json.dumps({"name": "Racing Ltd", "plan": "trial", "country": "GB"})
            results, lock = [], threading.Lock()
            def signup():
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("POST", "/v1/tenants", body, {"Authorization": "Bearer " + token,
                    "Content-Type": "application/json", "Idempotency-Key": "same-key"})
                response = connection.getresponse()
                payload = json.loads(response.read())
                with lock:
                    results.append((response.status, payload["tenant"]["id"]))
            threads = [threading.Thread(target=signup) for _ in range(50)]
            for thread in threads: thread.start()
            for thread in threads: thread.join()
            connection = http.client.HTTPConnection("127.0.0.1", port)
            connection.request("GET", "/v1/tenants?limit=1000", headers={"Authorization": "Bearer " + token})
            listed = json.loads(connection.getresponse().read())["tenants"]
            print(len(results), len({id for _, id in results}), sorted({status for status, _ in results}), len(listed))
            """, token: token)
        #expect(output.trimmingCharacters(in: .whitespacesAndNewlines) == "50 1 [201] 1")
    }

    @Test func aSecondServerOnTheSameDataDirectoryIsRefused() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let second = Process()
        second.executableURL = ServerProcess.binary
        second.arguments = ["serve", "--listen", "127.0.0.1:0", "--data", server.data.path]
        second.currentDirectoryURL = CLIRun.root
        let errors = Pipe()
        second.standardError = errors
        second.standardOutput = FileHandle.nullDevice
        try second.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        second.waitUntilExit()
        #expect(second.terminationStatus == 1)
        #expect(
            text.contains("is in use by another residency server (pid \(server.process.processIdentifier))"), "\(text)")
        // CLI commands share the directory with a running server: SQLite serialises their writes.
        #expect(try server.token(role: "ops", name: "while-serving").hasPrefix("rsd_"))
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let output = try server.python(
            """
            import os, socket
            s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
            s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: a\\r\\nX-Request-Id: one\\r\\n\\r\\n"
                      b"GET /nowhere HTTP/1.1\\r\\nHost: a\\r\\nX-Request-Id: two\\r\\n\\r\\n"
                      b"GET /readyz HTTP/1.1\\r\\nHost: a\\r\\nX-Request-Id: three\\r\\nConnection: close\\r\\n\\r\\n")
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk: break
                data += chunk
            import re
            text = data.decode()
            print(re.findall(r"HTTP/1.1 (\\d+)", text), re.findall(r"X-Request-Id: (\\S+)", text))
            """)
        #expect(
            output.trimmingCharacters(in: .whitespacesAndNewlines) == "['200', '404', '200'] ['one', 'two', 'three']")
    }

    @Test func slowClientsTimeOutAndFloodsGet503() throws {
        let server = try ServerProcess(extraArguments: ["--request-timeout", "1", "--max-connections", "4"])
        defer { #expect(server.stop() == 0) }
        let output = try server.python(
            """
            import os, socket, time
            port = int(os.environ["PORT"])
            slow = socket.create_connection(("127.0.0.1", port))
            slow.sendall(b"GET /healthz HTTP/1.1\\r\\nHo")
            time.sleep(1.6)
            print(slow.recv(4096).decode().split("\\r\\n")[0])
            held = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
            time.sleep(0.3)
            extra = socket.create_connection(("127.0.0.1", port))
            print(extra.recv(4096).decode().split("\\r\\n")[0])
            """)
        #expect(output == "HTTP/1.1 408 Request Timeout\nHTTP/1.1 503 Service Unavailable\n")
    }

    @Test func shutdownFinishesTheRequestInFlight() throws {
        let server = try ServerProcess()
        let program = """
            import os, socket, sys, time
            s = socket.create_connection(("127.0.0.1", int(os.environ["PORT"])))
            s.sendall(b"POST /v1/placements HTTP/1.1\\r\\nHost: a\\r\\nContent-Type: application/json\\r\\nContent-Length: 2\\r\\n\\r\\n{")
            print("sent half", flush=True)
            sys.stdin.readline()
            s.sendall(b"}")
            print(s.recv(4096).decode().split("\\r\\n")[0], flush=True)
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", program]
        python.environment = ProcessInfo.processInfo.environment.merging(["PORT": String(server.port)]) { $1 }
        let input = Pipe()
        let output = Pipe()
        let pythonErrors = Pipe()
        python.standardInput = input
        python.standardOutput = output
        python.standardError = pythonErrors
        try python.run()
        var text = ""
        while !text.contains("sent half") {
            text += String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
        }
        server.process.terminate()  // SIGTERM while the request is half sent
        Thread.sleep(forTimeInterval: 0.3)
        input.fileHandleForWriting.write(Data("go\n".utf8))
        python.waitUntilExit()
        text += String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        // The request completes (401: no token) and the server then exits cleanly.
        #expect(
            text.contains("HTTP/1.1 401 Unauthorized"),
            "\(String(decoding: pythonErrors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))")
        server.process.waitUntilExit()
        #expect(server.process.terminationStatus == 0)
        try? FileManager.default.removeItem(at: server.data)
    }
}

@Suite(.serialized) struct LedgerCrashTests {
    /// SIGKILL in the middle of a stream of signups from 16 clients at once (committed in groups): afterwards the
    /// ledger verifies and records exactly the tenants the directory holds — every change and its entry committed
    /// together or not at all — and every signup the server acknowledged (201) is there: none was answered
    /// before its group was durable.
    @Test func sigkillDuringWritesLeavesALedgerThatMatchesTheState() throws {
        let server = try ServerProcess()
        let token = try server.token(role: "signup", name: "load")
        let acknowledgedFile = FileManager.default.temporaryDirectory.appendingPathComponent("residency-acked-\(UUID())")
        defer { try? FileManager.default.removeItem(at: acknowledgedFile) }
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            """
            import http.client, json, os, threading
            port, token = int(os.environ["PORT"]), os.environ["TOKEN"]
            acknowledged = open(os.environ["ACKNOWLEDGED"], "w")
            lock = threading.Lock()
            def signups(n):
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    for i in range(10000):
                        c.request("POST", "/v1/tenants", json.dumps({"name": f"t{n}-{i}", "plan": "free", "country": "DE"}),
                                  {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
                        r = c.getresponse()
                        body = r.read()
                        if r.status == 201:
                            with lock:
                                acknowledged.write(json.loads(body)["tenant"]["id"] + "\\n")
                                acknowledged.flush()
                except Exception:
                    pass
            threads = [threading.Thread(target=signups, args=(n,)) for n in range(16)]
            for t in threads: t.start()
            for t in threads: t.join()
            """,
        ]
        python.environment = ProcessInfo.processInfo.environment.merging([
            "PORT": String(server.port), "TOKEN": token, "ACKNOWLEDGED": acknowledgedFile.path,
        ]) { $1 }
        python.standardOutput = FileHandle.nullDevice
        python.standardError = FileHandle.nullDevice
        try python.run()
        // Killed once the load has made some tenants (however slow the machine), not after a fixed time.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            Thread.sleep(forTimeInterval: 0.1)
            let made = (try? Database(path: server.data.appendingPathComponent("residency.sqlite3").path))
                .flatMap { try? $0.scalarInteger("SELECT count(*) FROM tenants") } ?? 0
            if made > 200 { break }
        }
        kill(server.process.processIdentifier, SIGKILL)
        server.process.waitUntilExit()
        python.waitUntilExit()
        #expect(server.process.terminationReason == .uncaughtSignal)

        let verify = try ServerProcess.run(["ledger", "verify", "--data", server.data.path])
        #expect(verify.hasPrefix("verified "), "\(verify)")
        let database = try Database(path: server.data.appendingPathComponent("residency.sqlite3").path)
        let tenants = try database.scalarInteger("SELECT count(*) FROM tenants") ?? -1
        let created =
            try database.scalarInteger("SELECT count(*) FROM ledger_entries WHERE kind = 'tenant.created'") ?? -2
        #expect(tenants > 10, "the load should have created tenants before the kill")
        #expect(tenants == created)
        let missing = try database.scalarInteger(
            "SELECT count(*) FROM tenants WHERE id NOT IN (SELECT json_extract(CAST(entry AS TEXT), '$.tenant') FROM ledger_entries WHERE kind = 'tenant.created')"
        )
        #expect(missing == 0)
        let acknowledged = try String(contentsOf: acknowledgedFile, encoding: .utf8).split(separator: "\n")
        #expect(acknowledged.count > 10, "the load should have had signups acknowledged before the kill")
        let stored = Set(try database.statement("SELECT id FROM tenants").rows([]) { $0.text(0) })
        let lost = acknowledged.filter { !stored.contains(String($0)) }
        #expect(lost.isEmpty, "acknowledged but not stored: \(lost.prefix(5))")
        try? FileManager.default.removeItem(at: server.data)
    }
}

@Suite(.serialized) struct AccessEndToEndTests {
    /// From request to record through the real server: a support engineer in the US asks for an EU tenant's
    /// data, compliance approves, the engineer uses it, a use from another country is refused, and the ledger
    /// an auditor reads holds every step with its transfer basis.
    @Test func requestApproveUseAndAudit() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let signup = try server.token(role: "signup", name: "signup-flow")
        let support = try server.token(role: "support", name: "desk")
        let compliance = try server.token(role: "compliance", name: "dpo")
        let output = try server.python(
            """
            import http.client, json, os
            port = int(os.environ["PORT"])
            tokens = json.loads(os.environ["TOKEN"])
            def call(method, path, token, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                headers = {"Authorization": "Bearer " + tokens[token]}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                    body = json.dumps(body)
                c.request(method, path, body, headers)
                r = c.getresponse()
                return r.status, json.loads(r.read())
            _, t = call("POST", "/v1/tenants", "signup", {"name": "Acme GmbH", "plan": "paid", "country": "DE"})
            tenant = t["tenant"]["id"]
            filing = {"tenant": tenant, "staff": {"id": "s-7", "entity": "Residency Inc.", "role": "support engineer", "office": "austin"},
                      "physical_country": "US", "justification": "legal_request", "detail": "CASE-2026-11",
                      "scope": {"data_classes": ["customer_data"], "mode": "read"}}
            s, r = call("POST", "/v1/access-requests", "support", filing); print("filed", s, r["access_request"]["state"])
            rid = r["access_request"]["id"]
            s, r = call("POST", f"/v1/access-requests/{rid}/approve", "compliance", {"reason": "court order 12/2026", "hours": 1}); print("approved", s, r["access_request"]["state"])
            use = {"request": rid, "staff_id": "s-7", "physical_country": "US", "method": "console", "resource": "contacts/881", "data_class": "customer_data", "mode": "read"}
            s, r = call("POST", "/v1/access-events", "support", use); print("used", s, r["access_request"]["state"])
            use["physical_country"] = "PH"
            s, r = call("POST", "/v1/access-events", "support", use); print("elsewhere", s, r["error"]["code"])
            s, r = call("GET", "/v1/ledger/entries", "compliance")
            steps = [(e["entry"]["kind"], e["entry"]["body"].get("basis_rule") or e["entry"]["body"].get("refusal")) for e in r["entries"] if e["entry"]["kind"].startswith("access.")]
            print(steps)
            s, r = call("GET", "/v1/ledger/checkpoint", "compliance"); print("checkpoint", s, r["size"] == len(call("GET", "/v1/ledger/entries", "compliance")[1]["entries"]))
            """,
            token: "{\"signup\": \"\(signup)\", \"support\": \"\(support)\", \"compliance\": \"\(compliance)\"}")
        let lines = output.split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "filed 201 pending",
                "approved 200 approved",
                "used 201 active",
                "elsewhere 422 wrong_country",
                "[('access.requested', 'eu-us-scc'), ('access.approved', 'eu-us-scc'), ('access.activated', 'eu-us-scc'), ('access.used', None), ('access.use_refused', 'wrong_country')]",
                "checkpoint 200 True",
            ], "\(output)")
        #expect(try ServerProcess.run(["ledger", "verify", "--data", server.data.path]).hasPrefix("verified "))
    }
}
