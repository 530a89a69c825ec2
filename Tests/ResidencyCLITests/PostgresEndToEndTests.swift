import Foundation
import ResidencyController
import ResidencyCore
import ResidencyStore
import Testing

/// Several `residency serve` processes on one PostgreSQL store, driven by real clients (Python's http.client,
/// curl) over real sockets. PostgreSQL is the server named by `RESIDENCY_TEST_POSTGRES` (`.ci/run` starts one);
/// each test works in a schema of its own. Without the variable the tests fail under `CI=true` and are skipped
/// with a printed reason elsewhere.
@Suite(.serialized) struct PostgresEndToEndTests {
    static var baseURL: String? {
        guard let url = ProcessInfo.processInfo.environment["RESIDENCY_TEST_POSTGRES"], !url.isEmpty else {
            if ProcessInfo.processInfo.environment["CI"] == "true" {
                Issue.record("RESIDENCY_TEST_POSTGRES is not set: CI must run the PostgreSQL end-to-end tests")
            } else {
                print("skipping: RESIDENCY_TEST_POSTGRES is not set (Scripts/postgres-cluster start DIR PORT)")
            }
            return nil
        }
        return url
    }

    /// A store of its own on the server at `base`: a fresh schema first on the search path.
    static func freshStore(_ base: String) throws -> String {
        let schema = "e2e_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        try Database(postgresURL: base).execute("CREATE SCHEMA \(schema)")
        return base + (base.contains("?") ? "&" : "?") + "options=-csearch_path%3D\(schema)"
    }

    /// Data directories for `count` controllers of one deployment: each its own, all with the same ledger key
    /// (the key signs the one log they share), and an admin token made on the store.
    final class Deployment {
        let store: String
        let directories: [URL]
        let token: String

        init(store: String, count: Int) throws {
            self.store = store
            directories = (0..<count).map { _ in
                FileManager.default.temporaryDirectory.appendingPathComponent("residency-pg-\(UUID())")
            }
            token = try ServerProcess.run([
                "tokens", "create", "--role", "admin", "--name", "ops", "--data", directories[0].path, "--store", store,
            ])
            let key = try Data(contentsOf: directories[0].appendingPathComponent("ledger.key"))
            for directory in directories.dropFirst() {
                try FileManager.default.createDirectory(
                    at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                FileManager.default.createFile(
                    atPath: directory.appendingPathComponent("ledger.key").path, contents: key,
                    attributes: [.posixPermissions: 0o600])
            }
        }

        deinit { for directory in directories { try? FileManager.default.removeItem(at: directory) } }

        /// A controller on directory `index`; leases last two seconds so that a takeover shows quickly.
        func serve(_ index: Int) throws -> ServerProcess {
            try ServerProcess(
                data: directories[index], extraArguments: ["--store", store],
                environment: ["RESIDENCY_LEASE_SECONDS": "2"])
        }

        func cli(_ arguments: [String]) throws -> String {
            try ServerProcess.run(arguments + ["--data", directories[0].path, "--store", store])
        }

        /// Tenant ids in the directory.
        func tenantIDs() throws -> Set<String> {
            let listed = try JSONParser.parse(cli(["tenants", "list", "--format", "json", "--limit", "1000"]))
            guard case .array(let tenants) = listed else { throw FixtureFailure("tenants list: \(listed)") }
            return Set(tenants.compactMap { $0["id"]?.testString })
        }

        /// Tenants the ledger says were created.
        func createdInLedger() throws -> Set<String> {
            var ids: Set<String> = []
            for line in try cli(["ledger", "entries"]).split(separator: "\n") {
                let entry = try JSONParser.parse(String(line))
                if entry["entry"]?["kind"]?.testString == "tenant.created",
                    let id = entry["entry"]?["tenant"]?.testString
                {
                    ids.insert(id)
                }
            }
            return ids
        }
    }

    /// `count` signups at once, request i to `ports[i % ports.count]`; requests 2k and 2k+1 share one
    /// Idempotency-Key and body, so each key reaches two controllers. A 503 or a refused connection is retried
    /// (up to `retries` times); answers the tenant id acknowledged for each request, or what went wrong.
    static let signups = #"""
        import json, os, threading, time, http.client
        ports = [int(p) for p in os.environ["PORTS"].split(",")]
        token, count, retries = os.environ["TOKEN"], int(os.environ["COUNT"]), int(os.environ["RETRIES"])
        prefix = os.environ.get("PREFIX", "k")
        results = [None] * count
        def signup(i):
            key = "%s-%d" % (prefix, i // 2)
            body = json.dumps({"name": "Tenant %s" % key, "plan": "paid", "country": "DE"})
            for attempt in range(retries + 1):
                port = ports[(i + attempt) % len(ports)]
                try:
                    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                    c.request("POST", "/v1/tenants", body, {"Authorization": "Bearer " + token,
                        "Content-Type": "application/json", "Idempotency-Key": key})
                    r = c.getresponse()
                    data = r.read()
                    if r.status in (200, 201):
                        results[i] = json.loads(data)["tenant"]["id"]
                        return
                    results[i] = "status %d" % r.status
                    if r.status != 503:
                        return
                except Exception as e:
                    results[i] = "error %s" % type(e).__name__
                time.sleep(0.2)
        threads = [threading.Thread(target=signup, args=(i,)) for i in range(count)]
        for t in threads: t.start()
        for t in threads: t.join()
        print(json.dumps(results))
        """#

    static func runSignups(
        ports: [Int], token: String, count: Int, retries: Int = 0, prefix: String = "k"
    ) throws
        -> [String]
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", signups]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "PORTS": ports.map(String.init).joined(separator: ","), "TOKEN": token, "COUNT": String(count),
            "RETRIES": String(retries), "PREFIX": prefix,
        ]) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard case .array(let values) = try JSONParser.parse(text) else { throw FixtureFailure("python: \(text)") }
        return values.map { $0.testString ?? "nothing" }
    }

    static func readiness(_ server: ServerProcess) throws -> JSONValue? {
        let response = try server.curl(["{url}/readyz"])
        return response.components(separatedBy: "\r\n\r\n").last.flatMap { try? JSONParser.parse($0) }
    }

    /// Waits up to `seconds` for `condition`.
    static func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return try condition()
    }

    /// 100 signups at once over two controllers, every Idempotency-Key sent to both: one tenant per key, the
    /// same answer at both, the ledger verified and naming exactly the directory's tenants. A token revoked
    /// at one controller's store is refused by both at the next request; exactly one controller does the
    /// periodic work.
    @Test func twoControllersServeOneDirectory() throws {
        guard let base = Self.baseURL else { return }
        let deployment = try Deployment(store: try Self.freshStore(base), count: 2)
        let first = try deployment.serve(0)
        defer { _ = first.terminate() }
        let second = try deployment.serve(1)
        defer { _ = second.terminate() }

        let results = try Self.runSignups(ports: [first.port, second.port], token: deployment.token, count: 100)
        #expect(results.allSatisfy { TenantID.isWellFormed($0) }, "\(results.filter { !TenantID.isWellFormed($0) })")
        #expect((0..<50).allSatisfy { results[2 * $0] == results[2 * $0 + 1] })
        #expect(Set(results).count == 50)
        let directory = try deployment.tenantIDs()
        #expect(directory == Set(results))
        #expect(try deployment.createdInLedger() == directory)
        #expect(try deployment.cli(["ledger", "verify"]).hasPrefix("verified"))

        // Exactly one of the two does the periodic work.
        let roles = try [first, second].map { try Self.readiness($0)?["periodic_work"]?.testString }
        #expect(roles.sorted { ($0 ?? "") < ($1 ?? "") } == ["held", "standby"])

        // A token revoked on the store is refused by both controllers at once (no cache survives it).
        let reader = try deployment.cli(["tokens", "create", "--role", "admin", "--name", "short-lived"])
        for server in [first, second] {
            #expect(status(of: try server.curl(["-H", "Authorization: Bearer \(reader)", "{url}/v1/tenants"])) == 200)
        }
        _ = try deployment.cli(["tokens", "revoke", "short-lived"])
        for server in [first, second] {
            #expect(status(of: try server.curl(["-H", "Authorization: Bearer \(reader)", "{url}/v1/tenants"])) == 401)
        }
    }

    /// SIGKILL the controller doing the periodic work while both take signups: the other goes on serving,
    /// takes the lease within its duration (two seconds here), and every signup either controller
    /// acknowledged is in the directory and on the verified ledger.
    @Test func aKilledControllersWorkIsTakenOver() throws {
        guard let base = Self.baseURL else { return }
        let deployment = try Deployment(store: try Self.freshStore(base), count: 2)
        let first = try deployment.serve(0)
        var firstAlive = true
        defer { if firstAlive { _ = first.terminate() } }
        #expect(Self.eventually(5) { (try? Self.readiness(first)?["periodic_work"]?.testString) == "held" })
        let second = try deployment.serve(1)
        defer { _ = second.terminate() }
        #expect(try Self.readiness(second)?["periodic_work"]?.testString == "standby")

        let acknowledged = LockedResults()
        let token = deployment.token
        let load = Thread {
            // Batches against both controllers; requests to the dead one fail or move to the live one.
            for batch in 0..<6 {
                if let results = try? Self.runSignups(
                    ports: [first.port, second.port], token: token, count: 20, retries: 3,
                    prefix: "b\(batch)")
                {
                    acknowledged.append(results.filter { TenantID.isWellFormed($0) })
                }
            }
            acknowledged.finish()
        }
        load.start()
        Thread.sleep(forTimeInterval: 0.5)
        first.kill()
        firstAlive = false
        let killedAt = Date()
        #expect(Self.eventually(10) { (try? Self.readiness(second)?["periodic_work"]?.testString) == "held" })
        // Within the lease (2 s) plus the renewal period and the poll: well under the ten seconds allowed.
        #expect(Date().timeIntervalSince(killedAt) < 10)
        acknowledged.wait()

        // The survivor still serves a signup of its own.
        let after = try Self.runSignups(ports: [second.port], token: deployment.token, count: 2, prefix: "after")
        #expect(after.allSatisfy { TenantID.isWellFormed($0) })
        let directory = try deployment.tenantIDs()
        #expect(acknowledged.all.isSubset(of: directory))
        #expect(!acknowledged.all.isEmpty)
        #expect(try deployment.createdInLedger() == directory)
        #expect(try deployment.cli(["ledger", "verify"]).hasPrefix("verified"))
    }

    /// A controller SIGKILLed by a fault in the middle of a migration (after its copy step): the other controller
    /// takes the periodic-work lease and resumes the migration to `completed` by itself. The tenant's data lives
    /// at regional services (uk → eu), not in either controller's directory, as the README asks of several
    /// controllers; the services pin the controller identity they enrolled with, so B is given A's identity
    /// directory, as it is given A's ledger key.
    @Test func aMigrationKilledMidwayIsResumedByTheOtherController() throws {
        guard let base = Self.baseURL else { return }
        typealias E2E = RegionalEndToEndTests
        let deployment = try Deployment(store: try Self.freshStore(base), count: 2)
        let root = E2E.scratch("pgmigrate")
        defer { try? FileManager.default.removeItem(at: root) }
        let first = try ServerProcess(
            data: deployment.directories[0], extraArguments: ["--store", deployment.store],
            environment: ["RESIDENCY_LEASE_SECONDS": "2", "RESIDENCY_FAULT": "copying:after"])
        var firstAlive = true
        defer { if firstAlive { _ = first.terminate() } }
        #expect(Self.eventually(5) { (try? Self.readiness(first)?["periodic_work"]?.testString) == "held" })

        // Regional services for uk and eu, enrolled at the first controller.
        var services: [String: RegionProcess] = [:]
        defer { services.values.forEach { $0.stop() } }
        for region in ["uk", "eu"] {
            let port = try freePort()
            let code = try deployment.cli(["regions", "enroll", region, "--endpoint", "https://127.0.0.1:\(port)"])
            services[region] = try RegionProcess(
                region: region, data: root.appendingPathComponent(region), port: port,
                controller: "http://127.0.0.1:\(first.port)", join: code)
        }

        // The second controller, with the first one's identity (the services pin it).
        let identity = deployment.directories[0].appendingPathComponent("identity")
        try FileManager.default.copyItem(at: identity, to: deployment.directories[1].appendingPathComponent("identity"))
        let second = try deployment.serve(1)
        defer { _ = second.terminate() }
        #expect(try Self.readiness(second)?["periodic_work"]?.testString == "standby")

        // A uk tenant with data, written through the first controller.
        let signup = try deployment.cli(["tokens", "create", "--role", "signup", "--name", "signup"])
        let app = try deployment.cli(["tokens", "create", "--role", "application", "--name", "app"])
        let created = try E2E.api(
            first, "POST", "/v1/tenants", token: signup, body: #"{"name":"Moving Ltd","plan":"paid","country":"GB"}"#)
        guard let tenant = created.json?["tenant"]?["id"]?.testString else {
            throw FixtureFailure("no tenant: \(created)")
        }
        #expect(created.json?["tenant"]?["region"]?.testString == "uk")
        for index in 0..<5 {
            let put = try E2E.api(
                first, "PUT", "/v1/tenants/\(tenant)/data/contacts/c\(index)", token: app,
                body: #"{"name":"Contact \#(index)","email":"c\#(index)@example.com"}"#)
            #expect(put.status == 200, "\(put)")
        }
        func contents(_ server: ServerProcess) throws -> String {
            let list = try E2E.api(server, "GET", "/v1/tenants/\(tenant)/data/contacts?limit=500", token: app)
            guard list.status == 200, let json = list.json else { throw FixtureFailure("GET contacts: \(list)") }
            return json.encoded()
        }
        let before = try contents(first)

        // Filed and approved at the first controller, whose runner dies after the copy step.
        let filed = try E2E.api(
            first, "POST", "/v1/tenants/\(tenant)/migrations", token: deployment.token,
            body: #"{"to_region":"eu","reason":"moving home"}"#)
        guard filed.status == 201, let migration = filed.json?["migration"]?["id"]?.testString else {
            throw FixtureFailure("filing: \(filed)")
        }
        let approved = try? E2E.api(first, "POST", "/v1/migrations/\(migration)/approve", token: deployment.token)
        #expect(approved?.status == nil || approved?.status == 202, "\(String(describing: approved))")
        // Bounded: a fault that never fires fails the test instead of hanging it.
        #expect(Self.eventually(30) { !first.process.isRunning }, "the fault did not kill the first controller")
        if first.process.isRunning { first.kill() }
        first.process.waitUntilExit()
        firstAlive = false
        #expect(first.process.terminationReason == .uncaughtSignal && first.process.terminationStatus == SIGKILL)
        let stateAtB = { () -> String? in
            try? E2E.api(second, "GET", "/v1/migrations/\(migration)", token: deployment.token)
                .json?["migration"]?["state"]?.testString
        }
        #expect(stateAtB() != "completed")

        // The second controller takes the lease and finishes the migration alone.
        #expect(Self.eventually(10) { (try? Self.readiness(second)?["periodic_work"]?.testString) == "held" })
        #expect(Self.eventually(30) { stateAtB() == "completed" }, "\(String(describing: stateAtB()))")
        let moved = try E2E.api(second, "GET", "/v1/tenants/\(tenant)", token: deployment.token)
        #expect(moved.json?["tenant"]?["region"]?.testString == "eu", "\(moved)")
        #expect(try contents(second) == before)
        #expect(E2E.files(named: "\(tenant).sqlite3", under: root.appendingPathComponent("eu")).count == 1)
        #expect(try deployment.cli(["ledger", "verify"]).hasPrefix("verified"))
    }

    /// PostgreSQL stopped under a controller: requests are answered 503 with a clear message meanwhile, and
    /// once it is back the same controller serves again without a restart. Runs its own throwaway cluster
    /// (the shared one stays up for the other tests).
    @Test func aRestartedDatabaseGives503sThenRecovers() throws {
        guard Self.baseURL != nil else { return }
        let cluster = FileManager.default.temporaryDirectory.appendingPathComponent("residency-pgcluster-\(UUID())")
        let port = try freePort()
        let script = CLIRun.root.appendingPathComponent("Scripts/postgres-cluster").path
        let url = try shell([script, "start", cluster.path, String(port)])
        defer {
            _ = try? shell([script, "stop", cluster.path])
            try? FileManager.default.removeItem(at: cluster)
        }
        let deployment = try Deployment(store: url, count: 1)
        let server = try deployment.serve(0)
        defer { _ = server.terminate() }
        let auth = "Authorization: Bearer \(deployment.token)"
        #expect(status(of: try server.curl(["-H", auth, "{url}/v1/tenants"])) == 200)

        _ = try shell([script, "stop", cluster.path])
        let down = try server.curl(["-H", auth, "{url}/v1/tenants"])
        #expect(status(of: down) == 503)
        #expect(down.contains("storage_unavailable") || down.contains("not_ready"))
        let ready = try server.curl(["{url}/readyz"])
        #expect(status(of: ready) == 503)
        #expect(ready.contains("the database is not reachable"))
        let signup = try server.curl([
            "-H", auth, "-H", "Content-Type: application/json", "-d", #"{"name":"Ada","plan":"paid","country":"DE"}"#,
            "{url}/v1/tenants",
        ])
        #expect(status(of: signup) == 503)

        _ = try shell([script, "start-again", cluster.path])
        #expect(Self.eventually(10) { status(of: (try? server.curl(["-H", auth, "{url}/v1/tenants"])) ?? "") == 200 })
        let placed = try server.curl([
            "-H", auth, "-H", "Content-Type: application/json", "-d", #"{"name":"Ada","plan":"paid","country":"DE"}"#,
            "{url}/v1/tenants",
        ])
        #expect(status(of: placed) == 201)
        #expect(status(of: try server.curl(["{url}/readyz"])) == 200)
        #expect(try deployment.cli(["ledger", "verify"]).hasPrefix("verified"))
    }
}

/// Tenant ids acknowledged by a load thread, and its end.
final class LockedResults: @unchecked Sendable {
    // Sendable: every field is behind `condition`.
    private let condition = NSCondition()
    private var ids: Set<String> = []
    private var done = false

    func append(_ more: [String]) {
        condition.lock()
        ids.formUnion(more)
        condition.unlock()
    }

    func finish() {
        condition.lock()
        done = true
        condition.broadcast()
        condition.unlock()
    }

    func wait() {
        condition.lock()
        while !done { condition.wait() }
        condition.unlock()
    }

    var all: Set<String> {
        condition.lock()
        defer { condition.unlock() }
        return ids
    }
}

/// Runs a program to completion; its standard output, trimmed. Throws when it fails.
func shell(_ arguments: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    let errors = Pipe()
    process.standardError = errors
    try process.run()
    let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let errorText = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw FixtureFailure("\(arguments.joined(separator: " ")): \(errorText)")
    }
    return text.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A loopback port free now (bound and released).
func freePort() throws -> Int {
    Int(
        try shell([
            "python3", "-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])",
        ]))!
}

extension JSONValue {
    /// The string, if this is one.
    fileprivate var testString: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
