import Foundation
import ResidencyStore
import Testing

/// Mixed writes from real clients, printed as JSON lines only once the server acknowledged them: signups in
/// several regions, tenant data, and access requests filed, approved and used. Runs until killed or
/// `SECONDS` pass. PORT, TOKEN (admin, files) and LEAD (admin, approves) come from the environment.
let mixedWriter = #"""
    import http.client, json, os, random, sys, threading, time
    port, token, lead = int(os.environ["PORT"]), os.environ["TOKEN"], os.environ["LEAD"]
    stop = time.time() + float(os.environ.get("SECONDS", "600"))
    tenants, lock = [], threading.Lock()
    def say(record):
        with lock:
            sys.stdout.write(json.dumps(record) + "\n")
            sys.stdout.flush()
    def call(c, method, path, body, who=token):
        c.request(method, path, json.dumps(body), {"Authorization": "Bearer " + who, "Content-Type": "application/json"})
        r = c.getresponse()
        return r.status, r.read()
    def signups():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = 0
        while time.time() < stop:
            i += 1
            status, body = call(c, "POST", "/v1/tenants", {"name": f"t{i}", "plan": "paid", "country": random.choice(["DE", "FR", "GB", "US", "IN", "AU"])})
            if status == 201:
                tenant = json.loads(body)["tenant"]
                with lock: tenants.append(tenant["id"])
                say({"tenant": tenant["id"], "region": tenant["region"]})
            elif status >= 500: say({"error": status, "body": body.decode()})
    def data():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        i = 0
        while time.time() < stop:
            with lock: pick = random.choice(tenants) if tenants else None
            if not pick: time.sleep(0.01); continue
            i += 1
            document = {"name": f"doc {i}", "content_type": "text/plain", "body": "x" * random.randint(1, 4000)}
            status, body = call(c, "PUT", f"/v1/tenants/{pick}/data/documents/d{i}", document)
            if status in (200, 201): say({"put": pick, "key": f"d{i}", "document": document})
            elif status >= 500: say({"error": status, "body": body.decode()})
    def access():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while time.time() < stop:
            with lock: pick = random.choice(tenants) if tenants else None
            if not pick: time.sleep(0.01); continue
            status, body = call(c, "POST", "/v1/access-requests", {"tenant": pick, "staff": {"id": "s-1", "entity": "Residency Inc.", "role": "support engineer", "office": "austin"}, "physical_country": "US", "justification": "security_incident", "detail": "T-1", "scope": {"data_classes": ["customer_data"], "mode": "read"}})
            if status != 201:
                if status >= 500: say({"error": status, "body": body.decode()})
                continue
            request = json.loads(body)["access_request"]["id"]
            say({"filed": request})
            status, body = call(c, "POST", f"/v1/access-requests/{request}/approve", {"reason": "incident", "hours": 1}, lead)
            if status != 200: continue
            status, body = call(c, "POST", "/v1/access-events", {"request": request, "staff_id": "s-1", "physical_country": "US", "method": "ssh", "resource": "db/contacts", "data_class": "customer_data", "mode": "read"})
            if status == 201: say({"used": request})
    kinds = [signups] * int(os.environ.get("SIGNUPS", "2")) + [data, access]
    threads = [threading.Thread(target=f, daemon=True) for f in kinds]
    for t in threads: t.start()
    for t in threads:
        try: t.join()
        except Exception: pass
    """#

/// Checks, through a running server, that every acknowledged write of `mixedWriter` is there.
let acknowledgedChecker = #"""
    import http.client, json, os, sys
    port, token = int(os.environ["PORT"]), os.environ["TOKEN"]
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    def get(path):
        c.request("GET", path, headers={"Authorization": "Bearer " + token})
        r = c.getresponse()
        return r.status, r.read()
    checked, missing = 0, []
    for line in open(os.environ["ACKS"]):
        try: record = json.loads(line)
        except ValueError: continue  # the last line may be cut by the kill
        if "error" in record: continue  # a refused write: nothing was acknowledged
        if "tenant" in record:
            status, body = get(f"/v1/tenants/{record['tenant']}")
            ok = status == 200 and json.loads(body)["tenant"]["region"] == record["region"]
        elif "put" in record:
            status, body = get(f"/v1/tenants/{record['put']}/data/documents/{record['key']}")
            ok = status == 200 and json.loads(body)["record"]["body"] == record["document"]["body"]
        elif "filed" in record or "used" in record:
            status, body = get(f"/v1/access-requests/{record.get('filed') or record.get('used')}")
            ok = status == 200 and ("used" not in record or json.loads(body)["access_request"]["state"] == "active")
        else:
            ok = False
        checked += 1
        if not ok: missing.append(line.strip())
    print(json.dumps({"checked": checked, "missing": missing[:5], "missing_count": len(missing)}))
    """#

@Suite(.serialized) struct FaultTests {
    /// `signups`: how many connections sign tenants up at once.
    static func writer(
        _ server: ServerProcess, token: String, lead: String, acks: URL, seconds: Int, signups: Int = 2
    ) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", mixedWriter]
        process.environment = ProcessInfo.processInfo.environment.merging([
            "PORT": String(server.port), "TOKEN": token, "LEAD": lead, "SECONDS": String(seconds),
            "SIGNUPS": String(signups),
        ]) { $1 }
        _ = FileManager.default.createFile(atPath: acks.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: acks)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// Waits (at most 60 s) until the acknowledged writes satisfy `enough`.
    static func waitForAcknowledgements(_ acks: URL, _ enough: ([[String: Any]]) -> Bool) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, !enough(acknowledged(acks)) { Thread.sleep(forTimeInterval: 0.1) }
    }

    static func acknowledged(_ acks: URL) -> [[String: Any]] {
        ((try? String(contentsOf: acks, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// Every acknowledged write is readable, the ledger verifies, and the directory, the data plane and the
    /// ledger agree (the audit finds nothing; every tenant has its `tenant.created` entry).
    static func checkAgreement(_ server: ServerProcess, token: String, acks: URL, atLeast: Int = 20) throws {
        let checked = try server.python(
            "import os; os.environ['ACKS'] = \(String(reflecting: acks.path))\n" + acknowledgedChecker, token: token)
        let result = try JSONSerialization.jsonObject(with: Data(checked.utf8)) as? [String: Any]
        #expect(result?["missing_count"] as? Int == 0, "acknowledged writes lost: \(checked)")
        #expect(
            (result?["checked"] as? Int ?? 0) >= atLeast, "the load should have written before the fault: \(checked)")
        #expect(server.terminate() == 0)

        let verify = try ServerProcess.run(["ledger", "verify", "--data", server.data.path])
        #expect(verify.hasPrefix("verified "), "\(verify)")
        let audit = try ServerProcess.run(["audit", "--data", server.data.path])
        #expect(audit.hasPrefix("no violations"), "\(audit)")
        let database = try Database(path: server.data.appendingPathComponent("residency.sqlite3").path)
        #expect(try database.scalarText("PRAGMA integrity_check") == "ok")
        let tenants = try database.scalarInteger("SELECT count(*) FROM tenants") ?? -1
        let created = try database.scalarInteger("SELECT count(*) FROM ledger_entries WHERE kind = 'tenant.created'")
        #expect(tenants == created)
    }

    @Test func sigkillDuringMixedWritesThenRestart() throws {
        let server = try ServerProcess()
        defer { try? FileManager.default.removeItem(at: server.data) }
        let token = try server.token(role: "admin", name: "ops")
        let lead = try server.token(role: "admin", name: "lead")
        let acks = server.data.deletingLastPathComponent().appendingPathComponent("acks-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: acks) }
        let writer = try Self.writer(server, token: token, lead: lead, acks: acks, seconds: 60)
        // Killed once the load has been acknowledged for a while (however slow the machine), not after a fixed time.
        Self.waitForAcknowledgements(acks) { records in
            records.count >= 40 && records.contains { $0["put"] != nil } && records.contains { $0["used"] != nil }
        }
        server.kill()
        writer.waitUntilExit()
        let records = Self.acknowledged(acks)
        #expect(
            records.filter { $0["error"] != nil }.isEmpty,
            "5xx during the load: \(records.filter { $0["error"] != nil }.prefix(3))")
        #expect(records.contains { $0["put"] != nil } && records.contains { $0["used"] != nil })

        let restarted = try ServerProcess(data: server.data)
        try Self.checkAgreement(restarted, token: token, acks: acks)
    }

    /// 64 signups in flight — committed in groups, each acknowledged once its group is durable — when the
    /// server is killed: after the restart every acknowledged signup is there, and the ledger verifies and
    /// records each tenant.
    @Test func sigkillDuringSixtyFourConcurrentSignups() throws {
        let server = try ServerProcess()
        defer { try? FileManager.default.removeItem(at: server.data) }
        let token = try server.token(role: "admin", name: "ops")
        let lead = try server.token(role: "admin", name: "lead")
        let acks = server.data.deletingLastPathComponent().appendingPathComponent("acks-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: acks) }
        let writer = try Self.writer(server, token: token, lead: lead, acks: acks, seconds: 60, signups: 64)
        Self.waitForAcknowledgements(acks) { records in records.filter { $0["tenant"] != nil }.count >= 96 }
        server.kill()
        writer.waitUntilExit()
        let records = Self.acknowledged(acks)
        #expect(
            records.filter { $0["error"] != nil }.isEmpty,
            "5xx during the load: \(records.filter { $0["error"] != nil }.prefix(3))")
        #expect(records.filter { $0["tenant"] != nil }.count >= 64)

        let restarted = try ServerProcess(data: server.data)
        try Self.checkAgreement(restarted, token: token, acks: acks, atLeast: 64)
    }

    /// A tmpfs this test may mount (root in a container that allows it); without one the test is skipped.
    static let canMount: Bool = {
        let probe = FileManager.default.temporaryDirectory.appendingPathComponent("residency-mount-probe-\(getpid())")
        try? FileManager.default.createDirectory(at: probe, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: probe) }
        guard shell("mount -t tmpfs -o size=1m tmpfs \(probe.path)") == 0 else { return false }
        return shell("umount \(probe.path)") == 0
    }()

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", command]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// The data directory on a 40 MiB tmpfs that a filler file nearly fills: writes fail with 507
    /// `insufficient_storage` (never a 500, never a crash), what was acknowledged stays, and once space is
    /// freed the same server takes writes again; afterwards everything agrees and verifies.
    @Test(.enabled(if: canMount, "needs permission to mount a tmpfs")) func aFullDiskGivesClearErrorsAndNoCorruption()
        throws
    {
        let mount = FileManager.default.temporaryDirectory.appendingPathComponent("residency-full-\(UUID())")
        try FileManager.default.createDirectory(at: mount, withIntermediateDirectories: true)
        #expect(Self.shell("mount -t tmpfs -o size=40m tmpfs \(mount.path)") == 0)
        defer {
            Self.shell("umount -l \(mount.path)")
            try? FileManager.default.removeItem(at: mount)
        }
        let server = try ServerProcess(data: mount.appendingPathComponent("data"))
        let token = try server.token(role: "admin", name: "ops")
        let lead = try server.token(role: "admin", name: "lead")
        let filler = mount.appendingPathComponent("filler")
        #expect(Self.shell("dd if=/dev/zero of=\(filler.path) bs=1M count=30 2>/dev/null") == 0)
        let acks = FileManager.default.temporaryDirectory.appendingPathComponent("acks-\(UUID()).jsonl")
        defer { try? FileManager.default.removeItem(at: acks) }
        let writer = try Self.writer(server, token: token, lead: lead, acks: acks, seconds: 6)
        writer.waitUntilExit()

        let records = Self.acknowledged(acks)
        let failures = records.compactMap { $0["error"] as? Int }
        #expect(!failures.isEmpty, "the disk should have filled up")
        #expect(
            failures.allSatisfy { $0 == 507 },
            "only 507 when the disk is full: \(records.filter { ($0["error"] as? Int ?? 507) != 507 }.prefix(3))")
        let message = records.first { $0["error"] != nil }?["body"] as? String ?? ""
        #expect(message.contains("insufficient_storage") && message.contains("full"), "\(message)")
        #expect(try server.curl(["{url}/healthz"]).contains("200 OK"))

        try FileManager.default.removeItem(at: filler)
        let after = try server.curl([
            "-X", "POST", "{url}/v1/tenants", "-H", "Authorization: Bearer \(token)", "-H",
            "Content-Type: application/json", "-d", #"{"name": "after", "plan": "paid", "country": "DE"}"#,
        ])
        #expect(status(of: after) == 201, "\(after)")
        // A signup whose directory entry committed but whose data could not be made is provisioned at start.
        #expect(server.terminate() == 0)
        let restarted = try ServerProcess(data: server.data)
        try Self.checkAgreement(restarted, token: token, acks: acks, atLeast: 5)
    }

    /// Broken framing on every route over a real socket: a body larger than the limit, a body cut short by a
    /// closed connection, a header flood, garbage instead of a request. The server answers 4xx or hangs up,
    /// never 5xx, and serves the next caller.
    @Test func hostileBytesOverTheWire() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let token = try server.token(role: "admin", name: "ops")
        let output = try server.python(
            #"""
            import http.client, json, os, socket
            port, token = int(os.environ["PORT"]), os.environ["TOKEN"]
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/openapi.json"); spec = json.loads(c.getresponse().read())
            def raw(data, expect_answer=True):
                s = socket.create_connection(("127.0.0.1", port), timeout=10)
                s.sendall(data)
                if not expect_answer:
                    s.close(); return None
                s.shutdown(socket.SHUT_WR)
                answer = b""
                try:
                    while True:
                        chunk = s.recv(65536)
                        if not chunk: break
                        answer += chunk
                except ConnectionResetError:
                    pass  # the server hung up on bytes it had refused to read
                s.close()
                return int(answer.split(b" ")[1]) if answer.startswith(b"HTTP/1.1 ") else None
            statuses = {}
            for path, operations in spec["paths"].items():
                target = path.replace("{id}", "tn_0193a2b4c5d6e7f8091a2b").replace("{collection}", "contacts").replace("{key}", "k")
                for method in operations:
                    if method not in ("post", "put"): continue
                    head = f"{method.upper()} {target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\n"
                    statuses.setdefault("oversized", []).append(raw((head + "Content-Length: 1000000000\r\n\r\n{").encode()))
                    raw((head + "Content-Length: 100\r\n\r\n{\"name\"").encode(), expect_answer=False)
                    statuses.setdefault("chunked-garbage", []).append(raw((head + "Transfer-Encoding: chunked\r\n\r\nzz\r\n").encode()))
            statuses["header-flood"] = [raw(b"GET /healthz HTTP/1.1\r\n" + b"X-A: b\r\n" * 20000 + b"\r\n")]
            statuses["garbage"] = [raw(b"\x00\xff\xfe GARBAGE\r\n\r\n")]
            statuses["bad-version"] = [raw(b"GET / HTTP/9.9\r\n\r\n")]
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("GET", "/healthz"); statuses["after"] = [c.getresponse().status]
            print(json.dumps(statuses))
            """#, token: token)
        let statuses = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: [Int?]] ?? [:]
        #expect((statuses["oversized"] ?? []).count > 15)
        #expect((statuses["oversized"] ?? []).allSatisfy { $0 == 413 }, "\(output)")
        for kind in ["chunked-garbage", "header-flood", "garbage", "bad-version"] {
            #expect(
                (statuses[kind] ?? [nil]).allSatisfy { $0.map { (400..<500).contains($0) || $0 == 505 } ?? true },
                "\(kind): \(output)")
        }
        #expect(statuses["after"] == [200])
    }
}
