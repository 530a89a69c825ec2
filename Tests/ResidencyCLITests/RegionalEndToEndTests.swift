import Foundation
import ResidencyCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// A regional service as a separate process: `residency region serve` with its own data directory and key pair,
/// enrolled with a join code, reached over mutual TLS by the controller and by curl with a pinned client key.
final class RegionProcess {
    let process = Process()
    let region: String
    let data: URL
    let port: Int
    let errors = Pipe()
    /// The service's key pin, from its start-up line.
    let pin: String

    /// Starts the service; throws with its standard error when it exits instead of listening.
    /// `fault` is given to the service as `RESIDENCY_FAULT` (it kills itself with SIGKILL at that point).
    init(region: String, data: URL, port: Int, controller: String, join: String?, fault: String? = nil) throws {
        self.region = region
        self.data = data
        process.executableURL = ServerProcess.binary
        process.arguments =
            ["region", "serve", "--region", region, "--listen", "127.0.0.1:\(port)", "--data", data.path,
             "--controller", controller] + (join.map { ["--join", $0] } ?? [])
        process.currentDirectoryURL = CLIRun.root
        if let fault {
            process.environment = ProcessInfo.processInfo.environment.merging(["RESIDENCY_FAULT": fault]) { $1 }
        }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        var text = ""
        while text.range(of: #"key pin [A-Za-z0-9+/=]+;"#, options: .regularExpression) == nil {
            let chunk = errors.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        guard let range = text.range(of: #"key pin [A-Za-z0-9+/=]+;"#, options: .regularExpression) else {
            process.waitUntilExit()
            throw FixtureFailure(text)
        }
        pin = String(text[range].dropFirst("key pin ".count).dropLast())
        self.port = port
    }

    var endpoint: String { "https://127.0.0.1:\(port)" }

    func stop() {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }
}

@Suite(.serialized) struct RegionalEndToEndTests {
    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-\(name)-\(UUID().uuidString)")
    }

    /// A port nobody listens on now (bound, read, released): where a regional service is enrolled before it starts.
    static func freePort() throws -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0
            }
        }
        guard bound else { throw FixtureFailure("cannot find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func residency(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        try WitnessEndToEndTests.residency(arguments)
    }

    /// A client identity (`region pin`), pinned by the given services through their `client-pins` files.
    static func clientIdentity(_ directory: URL, pinnedBy services: [URL]) throws -> String {
        let pin = try residency(["region", "pin", "--data", directory.path]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        for service in services {
            // A service's directory is its owner's alone (the service refuses one others can enter).
            try FileManager.default.createDirectory(
                at: service, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try (pin + "\n").write(to: service.appendingPathComponent("client-pins"), atomically: true, encoding: .utf8)
        }
        return pin
    }

    /// curl with a client key (mutual TLS) and the service's key pinned: (HTTP status or nil when TLS failed, body).
    static func curl(
        _ method: String, _ url: String, identity: URL?, pin: String?, body: String? = nil
    ) throws -> (status: Int?, body: String) {
        var arguments = ["curl", "-s", "-k", "--max-time", "10", "-X", method, "-w", "\n%{http_code}"]
        if let identity {
            arguments += [
                "--cert", identity.appendingPathComponent("identity/tls-cert.pem").path,
                "--key", identity.appendingPathComponent("identity/tls-key.pem").path,
            ]
        }
        if let pin { arguments += ["--pinnedpubkey", "sha256//\(pin)"] }
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments + [url]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        let code = lines.last.flatMap { Int($0) }
        return (process.terminationStatus == 0 && code != 0 ? code : nil, lines.dropLast().joined(separator: "\n"))
    }

    /// An API call to the controller as `token`: (status, JSON).
    static func api(
        _ server: ServerProcess, _ method: String, _ path: String, token: String, body: String? = nil
    ) throws -> (status: Int?, json: JSONValue?) {
        var arguments = ["-X", method, "-H", "Authorization: Bearer \(token)"]
        if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
        let response = try server.curl(arguments + ["{url}" + path])
        let body = response.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n")
        return (status(of: response), try? JSONParser.parse(body))
    }

    static func waitFor(_ what: String, seconds: Double = 20, _ condition: () throws -> Bool) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return }
            Thread.sleep(forTimeInterval: 0.1)
        }
        throw FixtureFailure("timed out waiting for \(what)")
    }

    static func files(named name: String, under directory: URL) -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory.path) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(name) }
    }

    static func ledgerCount(_ data: URL, kind: String) throws -> Int {
        let run = try residency(["ledger", "entries", "--data", data.path])
        return run.output.components(separatedBy: "\"kind\":\"\(kind)\"").count - 1
    }

    /// Enrols `region` at a free port and starts its service with the code.
    static func enrolAndStart(_ region: String, controller: ServerProcess, data: URL) throws -> RegionProcess {
        let port = try freePort()
        let enrol = try residency([
            "regions", "enroll", region, "--endpoint", "https://127.0.0.1:\(port)", "--data", controller.data.path,
        ])
        guard enrol.status == 0 else { throw FixtureFailure("enroll \(region): \(enrol.error)") }
        return try RegionProcess(
            region: region, data: data, port: port, controller: "http://127.0.0.1:\(controller.port)",
            join: enrol.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// A controller and three regional services as separate processes: each tenant's data lives in its home
    /// region's directory and nowhere else, a wrong-region request gets 421 naming the right one, strangers are
    /// refused at the handshake, a tampered assignment is refused, and every write is on the ledger once.
    @Test func threeRegionalServicesHoldTheirOwnTenantsData() throws {
        let root = Self.scratch("regions")
        defer { try? FileManager.default.removeItem(at: root) }
        let controller = try ServerProcess(data: root.appendingPathComponent("controller"), extraArguments: ["--checkpoint-interval", "0.25"])
        defer { _ = controller.terminate() }
        let regions = ["eu", "us", "india"]
        let application = root.appendingPathComponent("app")
        _ = try Self.clientIdentity(application, pinnedBy: regions.map { root.appendingPathComponent($0) })
        var services: [String: RegionProcess] = [:]
        for region in regions {
            services[region] = try Self.enrolAndStart(region, controller: controller, data: root.appendingPathComponent(region))
        }
        defer { services.values.forEach { $0.stop() } }
        let signup = try controller.token(role: "signup", name: "signup")
        let app = try controller.token(role: "application", name: "app")
        var tenants: [String: String] = [:]
        for (country, region) in [("FR", "eu"), ("US", "us"), ("IN", "india")] {
            let created = try Self.api(
                controller, "POST", "/v1/tenants", token: signup,
                body: #"{"name":"Tenant \#(country)","plan":"paid","country":"\#(country)"}"#)
            #expect(created.status == 201)
            guard case .string(let id)? = created.json?["tenant"]?["id"] else { throw FixtureFailure("no tenant id") }
            #expect(created.json?["tenant"]?["region"] == .string(region))
            tenants[region] = id
        }
        // Through the controller (forwarded over mutual TLS), then straight at the regional service.
        for (region, id) in tenants {
            let put = try Self.api(
                controller, "PUT", "/v1/tenants/\(id)/data/contacts/c1", token: app, body: #"{"name":"Alice \#(region)"}"#)
            #expect(put.status == 200)
            let read = try Self.api(controller, "GET", "/v1/tenants/\(id)/data/contacts/c1", token: app)
            #expect(read.json?["record"]?["name"] == .string("Alice \(region)"))
            let route = try Self.api(controller, "GET", "/v1/tenants/\(id)/route", token: app)
            #expect(route.json?["route"]?["endpoint"] == .string(services[region]!.endpoint))
            #expect(route.json?["route"]?["epoch"] == .integer(1))
            let service = services[region]!
            let direct = try Self.curl(
                "PUT", "\(service.endpoint)/v1/tenants/\(id)/data/contacts/c2", identity: application, pin: service.pin,
                body: #"{"name":"Bob"}"#)
            #expect(direct.status == 200, "\(direct)")
            let list = try Self.curl("GET", "\(service.endpoint)/v1/tenants/\(id)/data/contacts", identity: application, pin: service.pin)
            #expect(list.status == 200 && list.body.contains("Alice \(region)") && list.body.contains("Bob"))
        }
        // Each tenant's database is in its home region's directory, and nowhere else; the controller holds none.
        for (region, id) in tenants {
            for other in regions {
                let found = Self.files(named: "\(id).sqlite3", under: root.appendingPathComponent(other))
                #expect(found.count == (other == region ? 1 : 0), "\(id) in \(other): \(found)")
            }
            #expect(Self.files(named: "\(id).sqlite3", under: controller.data).isEmpty)
        }
        // A wrong-region request gets 421 naming the right region and endpoint (once the assignments reached it).
        let eu = tenants["eu"]!
        let us = services["us"]!
        var misdirected: (status: Int?, body: String) = (nil, "")
        try Self.waitFor("the eu tenant's assignment at the us service") {
            misdirected = try Self.curl("GET", "\(us.endpoint)/v1/tenants/\(eu)/data/contacts/c1", identity: application, pin: us.pin)
            return misdirected.status == 421
        }
        let answer = try JSONParser.parse(misdirected.body)
        #expect(answer["error"]?["region"] == .string("eu"))
        #expect(answer["error"]?["endpoint"] == .string(services["eu"]!.endpoint))
        // An unknown tenant: 404.
        #expect(try Self.curl("GET", "\(us.endpoint)/v1/tenants/tn_0193a2b4c5d6e7f8091a2b/data/contacts/c1", identity: application, pin: us.pin).status == 404)
        // A key nobody pinned, or no key at all: refused at the handshake (no HTTP answer).
        let stranger = root.appendingPathComponent("stranger")
        _ = try Self.clientIdentity(stranger, pinnedBy: [])
        #expect(try Self.curl("GET", "\(us.endpoint)/internal/v1/health", identity: stranger, pin: us.pin).status == nil)
        #expect(try Self.curl("GET", "\(us.endpoint)/internal/v1/health", identity: nil, pin: us.pin).status == nil)
        // A service that pins another key is not who the client expects: curl refuses it.
        #expect(try Self.curl("GET", "\(us.endpoint)/internal/v1/health", identity: application, pin: services["eu"]!.pin).status == nil)
        // A tampered assignment (the real one with its region changed) is refused and the tenant stays where it is.
        let signed = try Self.python(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select signed from tenant_assignments where tenant=?',(sys.argv[2],)).fetchone()[0].decode())",
            [controller.data.appendingPathComponent("residency.sqlite3").path, eu])
        let tampered = signed.replacingOccurrences(of: "\"region\":\"eu\"", with: "\"region\":\"us\"")
        #expect(tampered != signed)
        // Sent with the controller's own key (from its data directory), the signature is what refuses it.
        let refused = try Self.curl(
            "PUT", "\(us.endpoint)/internal/v1/assignments/\(eu)", identity: controller.data, pin: us.pin, body: tampered)
        #expect(refused.status == 403 && refused.body.contains("not signed by the controller"), "\(refused)")
        // An application's key reaches the data routes only: no assignments, no draining the outbox.
        let fromApplication = try Self.curl(
            "PUT", "\(us.endpoint)/internal/v1/assignments/\(eu)", identity: application, pin: us.pin, body: signed)
        #expect(fromApplication.status == 403 && fromApplication.body.contains("controller_only"))
        #expect(try Self.curl(
            "POST", "\(us.endpoint)/internal/v1/outbox/ack", identity: application, pin: us.pin, body: #"{"through":1000}"#
        ).status == 403)
        #expect(try Self.curl("GET", "\(us.endpoint)/v1/tenants/\(eu)/data/contacts/c1", identity: application, pin: us.pin).status == 421)
        // A newer epoch (the tenant suspended by the retention schedule) stands; the older one replayed is refused.
        let billing = try controller.token(role: "billing", name: "billing")
        #expect(try Self.api(controller, "POST", "/v1/tenants/\(eu)/events", token: billing, body: #"{"type":"payment_failed"}"#).status == 200)
        let later = Timestamp.rfc3339(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 40 * 86_400_000)
        #expect(try Self.residency(["lifecycle", "run", "--as-of", later, "--data", controller.data.path]).status == 0)
        let euService = services["eu"]!
        try Self.waitFor("the suspension at the eu service") {
            let read = try Self.curl("GET", "\(euService.endpoint)/v1/tenants/\(eu)/data/contacts/c1", identity: application, pin: euService.pin)
            return read.status == 409 && read.body.contains("tenant_suspended")
        }
        let stale = try Self.curl(
            "PUT", "\(euService.endpoint)/internal/v1/assignments/\(eu)", identity: controller.data, pin: euService.pin, body: signed)
        #expect(stale.status == 409 && stale.body.contains("stale_assignment"), "\(stale)")
        #expect(try Self.curl("GET", "\(euService.endpoint)/v1/tenants/\(eu)/data/contacts/c1", identity: application, pin: euService.pin).status == 409)
        // Every write reached the ledger exactly once; the ledger verifies.
        try Self.waitFor("six data events on the ledger") { try Self.ledgerCount(controller.data, kind: "region.data_written") >= 6 }
        Thread.sleep(forTimeInterval: 1)
        #expect(try Self.ledgerCount(controller.data, kind: "region.data_written") == 6)
        #expect(try Self.ledgerCount(controller.data, kind: "region.enrolled") == 3)
        #expect(try Self.residency(["ledger", "verify", "--data", controller.data.path]).status == 0)
        let list = try Self.residency(["regions", "list", "--data", controller.data.path, "--format", "json"])
        #expect(list.output.components(separatedBy: "\"reachable\"").count - 1 == 3, "\(list.output)")
        let metrics = try controller.curl(["{url}/metrics"])
        for region in regions {
            #expect(metrics.contains("residency_region_service_up{region=\"\(region)\"} 1"))
            // What each service has counted of refused orders past a presenter's budget: none here.
            #expect(metrics.contains("residency_region_service_order_refusals_tallied{region=\"\(region)\"} 0"))
        }
        #expect(!metrics.contains("residency_region_service_up{region=\"uk\"}"))
    }

    static func python(_ program: String, _ arguments: [String]) throws -> String {
        let run = try WitnessEndToEndTests.python(program, arguments)
        guard run.status == 0 else { throw FixtureFailure(run.output) }
        return run.output.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The controller killed: the regional service keeps serving its tenant's data from its signed assignment and
    /// queues every write; back, the controller records each acknowledged write on the ledger exactly once.
    @Test func writesDuringAControllerOutageReachTheLedgerOnce() throws {
        let root = Self.scratch("outage")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("controller")
        var controller = try ServerProcess(data: data, extraArguments: ["--checkpoint-interval", "0.25"])
        let application = root.appendingPathComponent("app")
        _ = try Self.clientIdentity(application, pinnedBy: [root.appendingPathComponent("eu")])
        let eu = try Self.enrolAndStart("eu", controller: controller, data: root.appendingPathComponent("eu"))
        defer { eu.stop() }
        let signup = try controller.token(role: "signup", name: "signup")
        let created = try Self.api(
            controller, "POST", "/v1/tenants", token: signup, body: #"{"name":"Acme","plan":"paid","country":"DE"}"#)
        guard case .string(let id)? = created.json?["tenant"]?["id"] else { throw FixtureFailure("no tenant") }
        controller.kill()
        var acknowledged = 0
        // The issue's 30 seconds of writes while the controller is down.
        let until = Date().addingTimeInterval(30)
        while Date() < until {
            let put = try Self.curl(
                "PUT", "\(eu.endpoint)/v1/tenants/\(id)/data/accounts/a\(acknowledged)", identity: application, pin: eu.pin,
                body: #"{"name":"A","balance_cents":\#(acknowledged),"currency":"EUR"}"#)
            if put.status == 200 { acknowledged += 1 }
        }
        #expect(acknowledged > 10)
        controller = try ServerProcess(data: data, extraArguments: ["--checkpoint-interval", "0.25"])
        defer { _ = controller.terminate() }
        try Self.waitFor("\(acknowledged) data events on the ledger", seconds: 30) {
            try Self.ledgerCount(data, kind: "region.data_written") >= acknowledged
        }
        Thread.sleep(forTimeInterval: 1)
        #expect(try Self.ledgerCount(data, kind: "region.data_written") == acknowledged)
        // Every acknowledged write is there: read page by page (a fast machine writes more than one page's worth).
        var stored = 0
        var after: String?
        while true {
            let page = try Self.curl(
                "GET", "\(eu.endpoint)/v1/tenants/\(id)/data/accounts?limit=1000" + (after.map { "&after=\($0)" } ?? ""),
                identity: application, pin: eu.pin)
            guard case .array(let records)? = try JSONParser.parse(Array(page.body.utf8))["records"] else { break }
            stored += records.count
            guard records.count == 1000, case .string(let last)? = records.last?["key"] else { break }
            after = last
        }
        #expect(stored == acknowledged)
        #expect(try Self.residency(["ledger", "verify", "--data", data.path]).status == 0)
    }

    /// A regional service's witness cosigns the controller's checkpoints (`region:eu` in witnesses.json): the
    /// published checkpoint carries its cosignature, and the ledger verifies against the pinned trust file.
    @Test func aRegionalServiceWitnessesTheControllersLog() throws {
        let root = Self.scratch("rwitness")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("controller")
        var controller = try ServerProcess(data: data, extraArguments: ["--checkpoint-interval", "0.25"])
        let eu = try Self.enrolAndStart("eu", controller: controller, data: root.appendingPathComponent("eu"))
        defer { eu.stop() }
        let listed = try JSONParser.parse(Array(try Self.residency(["regions", "list", "--data", data.path, "--format", "json"]).output.utf8))
        guard case .array(let regions) = listed,
            let service = regions.first(where: { $0["id"] == .string("eu") })?["service"],
            case .string(let key)? = service["witness_key"], service["witness_url"] == .string("region:eu")
        else { throw FixtureFailure("no witness key for eu: \(listed.encoded())") }
        #expect(key.hasPrefix("residency-region-eu+"))
        try #"{"quorum": 1, "witnesses": [{"key": "\#(key)", "url": "region:eu"}]}"#.write(
            to: data.appendingPathComponent("witnesses.json"), atomically: true, encoding: .utf8)
        _ = controller.terminate()
        controller = try ServerProcess(data: data, extraArguments: ["--checkpoint-interval", "0.25"])
        defer { _ = controller.terminate() }
        _ = try controller.token(role: "admin", name: "witnessed")
        var note = ""
        try Self.waitFor("a checkpoint cosigned by the eu service") {
            let readiness = try controller.curl(["{url}/readyz"])
            guard readiness.contains("\"publication\":\"current\"") else { return false }
            note = try Self.residency(["ledger", "checkpoint", "--data", data.path]).output
            return note.contains("\u{2014} residency-region-eu ")
        }
        let trust = root.appendingPathComponent("trust.json")
        try Self.residency(["ledger", "trust", "--data", data.path]).output.write(to: trust, atomically: true, encoding: .utf8)
        let verified = try Self.residency(["ledger", "verify", "--data", data.path, "--trust", trust.path])
        #expect(verified.status == 0, "\(verified.output) \(verified.error)")
    }

    /// Support access at the region: the service checks the controller-signed grant itself (staff, country,
    /// scope, expiry), records every use, allowed or refused, for the ledger, and a revocation reaches it within
    /// seconds.
    @Test func supportAccessIsCheckedAndRecordedAtTheRegion() throws {
        let root = Self.scratch("rsupport")
        defer { try? FileManager.default.removeItem(at: root) }
        let data = root.appendingPathComponent("controller")
        let controller = try ServerProcess(data: data, extraArguments: ["--checkpoint-interval", "0.25"])
        defer { _ = controller.terminate() }
        let staffTool = root.appendingPathComponent("support")
        _ = try Self.clientIdentity(staffTool, pinnedBy: [root.appendingPathComponent("india")])
        let india = try Self.enrolAndStart("india", controller: controller, data: root.appendingPathComponent("india"))
        defer { india.stop() }
        let signup = try controller.token(role: "signup", name: "signup")
        let app = try controller.token(role: "application", name: "app")
        let created = try Self.api(
            controller, "POST", "/v1/tenants", token: signup, body: #"{"name":"Acme","plan":"paid","country":"IN"}"#)
        guard case .string(let tenant)? = created.json?["tenant"]?["id"] else { throw FixtureFailure("no tenant") }
        #expect(try Self.api(controller, "PUT", "/v1/tenants/\(tenant)/data/contacts/c1", token: app, body: #"{"name":"Asha"}"#).status == 200)
        let base = ["--data", data.path]
        let filed = try Self.residency(
            [
                "access", "request", "--tenant", tenant, "--staff-id", "s-9", "--entity", "Residency Europe Ltd",
                "--role", "support engineer", "--office", "dublin", "--country", "IE", "--justification",
                "security_incident", "--detail", "INC-12", "--data-classes", "customer_data", "--mode", "read",
                "--as", "desk",
            ] + base)
        guard case .string(let request)? = try JSONParser.parse(filed.output)["id"] else {
            throw FixtureFailure("no request: \(filed.error)")
        }
        func use(staff: String = "s-9", country: String = "IE", method: String = "GET", body: String? = nil) throws
            -> (status: Int?, body: String)
        {
            var arguments = [
                "curl", "-s", "-k", "--max-time", "10", "-X", method, "-w", "\n%{http_code}",
                "--cert", staffTool.appendingPathComponent("identity/tls-cert.pem").path,
                "--key", staffTool.appendingPathComponent("identity/tls-key.pem").path,
                "--pinnedpubkey", "sha256//\(india.pin)",
                "-H", "X-Residency-Grant: \(request)", "-H", "X-Residency-Staff: \(staff)",
                "-H", "X-Residency-Country: \(country)",
            ]
            if let body { arguments += ["-H", "Content-Type: application/json", "--data-binary", body] }
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = arguments + ["\(india.endpoint)/v1/tenants/\(tenant)/support/contacts/c1"]
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            return (lines.last.flatMap { Int($0) }, lines.dropLast().joined(separator: "\n"))
        }
        // Pending: the region holds no grant.
        #expect(try use().status == 403)
        #expect(try Self.residency(["access", "approve", request, "--reason", "incident", "--hours", "2"] + base).status == 0)
        var allowed: (status: Int?, body: String) = (nil, "")
        try Self.waitFor("the grant at the region") {
            allowed = try use()
            return allowed.status == 200
        }
        #expect(allowed.body.contains("Asha"))
        // Outside the grant, at the region: another country, another person, a write under a read grant.
        let country = try use(country: "US")
        #expect(country.status == 403 && country.body.contains("wrong_country"))
        #expect(try use(staff: "s-1").body.contains("wrong_staff"))
        #expect(try use(method: "PUT", body: #"{"name":"X"}"#).body.contains("out_of_scope"))
        // Revoked at the controller: refused at the region within seconds.
        #expect(try Self.residency(["access", "revoke", request, "--reason", "done"] + base).status == 0)
        let revokedAt = Date()
        try Self.waitFor("the revocation at the region", seconds: 10) { try use().status == 403 }
        #expect(Date().timeIntervalSince(revokedAt) < 10)
        // Every use reached the ledger, attributed to the region.
        try Self.waitFor("the uses on the ledger") {
            try Self.ledgerCount(data, kind: "access.use_refused") >= 5 && Self.ledgerCount(data, kind: "access.used") >= 1
        }
        // The cross-border report counts the region's uses like the controller's own.
        let report = try Self.residency(["report", "cross-border", "--format", "json"] + base).output
        #expect(report.contains(request), "\(report.prefix(600))")
        #expect(try Self.residency(["ledger", "verify"] + base).status == 0)
    }

    /// Bad input at start-up: each a clear error, and nothing half-done.
    @Test func badEnrolmentInputIsRefusedClearly() throws {
        let root = Self.scratch("badjoin")
        defer { try? FileManager.default.removeItem(at: root) }
        let controller = try ServerProcess(data: root.appendingPathComponent("controller"))
        defer { _ = controller.terminate() }
        let url = "http://127.0.0.1:\(controller.port)"
        func serve(_ region: String, _ directory: String, join: String?, controller: String = url) throws -> String {
            let port = try Self.freePort()
            do {
                let process = try RegionProcess(
                    region: region, data: root.appendingPathComponent(directory), port: port, controller: controller, join: join)
                process.stop()
                return "started"
            } catch let failure as FixtureFailure {
                return failure.description
            }
        }
        let port = try Self.freePort()
        let code = try Self.residency([
            "regions", "enroll", "eu", "--endpoint", "https://127.0.0.1:\(port)", "--data", controller.data.path,
        ]).output.trimmingCharacters(in: .whitespacesAndNewlines)
        // Not joined yet and no code: told how to enrol.
        #expect(try serve("eu", "eu", join: nil).contains("regions enroll eu"))
        // A controller URL that does not answer: nothing saved, the code still usable.
        #expect(try serve("eu", "eu", join: code, controller: "http://127.0.0.1:1").contains("does not answer"))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("eu/region.json").path))
        // A damaged code.
        #expect(try serve("eu", "eu", join: String(code.dropLast(5))).contains("damaged"))
        // The code for another region.
        #expect(try serve("us", "us", join: code).contains("no join code is open for region us"))
        #expect(try serve("eu", "eu", join: code) == "started")
        // The same code again, from another directory: spent.
        #expect(try serve("eu", "eu2", join: code).contains("already used"))
        // A directory enrolled as eu started as another region.
        #expect(try serve("uk", "eu", join: nil).contains("holds the identity of region eu"))
        // A missing key, then a damaged one.
        let key = root.appendingPathComponent("eu/identity/tls-key.pem")
        let saved = try Data(contentsOf: key)
        try FileManager.default.removeItem(at: key)
        #expect(try serve("eu", "eu", join: nil).contains("without tls-key.pem"))
        try Data("not a key".utf8).write(to: key)
        #expect(try serve("eu", "eu", join: nil).contains("key"))
        try saved.write(to: key)
        #expect(try serve("eu", "eu", join: nil) == "started")
        // A damaged client-pins line.
        try "not-a-pin\n".write(to: root.appendingPathComponent("eu/client-pins"), atomically: true, encoding: .utf8)
        #expect(try serve("eu", "eu", join: nil).contains("is not a key pin"))
    }
}

/// The console over a real socket with curl as the browser: a cookie jar, a form with its CSRF token, a decision.
@Suite(.serialized) struct ConsoleEndToEndTests {
    /// Headless Chromium (installed by .ci/run) loads the sign-in page at phone width: the labelled form and the
    /// main landmark are in the DOM the browser built from our HTML.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")))
    func headlessChromiumRendersTheSignInPage() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("residency-chromium-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: profile) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/chromium")
        process.arguments = [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=390,844",
            "--user-data-dir=\(profile.path)", "--dump-dom", "http://127.0.0.1:\(server.port)/console/sign-in",
        ]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let dom = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(dom.contains(#"<form method="post" action="/console/sign-in">"#), "\(dom.prefix(500))")
        #expect(dom.contains(#"<label for="token">"#) && dom.contains(#"type="password""#))
        #expect(dom.contains(#"<main id="main">"#))
    }

    @Test func curlSignsInAndSignsOutWithACookieJar() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let token = try server.token(role: "compliance", name: "officer")
        let jar = FileManager.default.temporaryDirectory.appendingPathComponent("residency-jar-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: jar) }
        let signIn = try server.curl(["-c", jar.path, "--data-urlencode", "token=\(token)", "{url}/console/sign-in"])
        #expect(status(of: signIn) == 303)
        #expect(signIn.contains("HttpOnly") && signIn.contains("SameSite=Strict"))
        let jarText = try String(contentsOf: jar, encoding: .utf8)
        #expect(!jarText.contains(token))
        let overview = try server.curl(["-b", jar.path, "{url}/console"])
        #expect(status(of: overview) == 200 && overview.contains("<caption>Regions</caption>"))
        #expect(overview.contains("Content-Security-Policy: default-src 'none'"))
        guard let range = overview.range(of: #"name="csrf" value="([0-9a-f]{64})""#, options: .regularExpression) else {
            throw FixtureFailure("no CSRF token in the page")
        }
        let csrf = String(overview[range].dropFirst(#"name="csrf" value=""#.count).dropLast())
        #expect(status(of: try server.curl(["-b", jar.path, "--data", "csrf=\(csrf)", "{url}/console/sign-out"])) == 303)
        #expect(status(of: try server.curl(["-b", jar.path, "{url}/console"])) == 303)
    }
}

