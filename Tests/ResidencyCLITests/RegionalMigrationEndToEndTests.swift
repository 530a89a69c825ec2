import Foundation
import ResidencyCore
import Testing

/// Migrations between regional services, each a separate process: the controller (its API server, and the
/// `residency migrations` process that runs the state machine), and the uk, eu and us services. The data goes
/// from the uk service to the eu service over their mutual TLS under signed orders; the orders are refused
/// wherever they were not meant to act; a SIGKILL of any of the three processes at a step is resumed to the
/// same end.
@Suite(.serialized) struct RegionalMigrationEndToEndTests {
    typealias E2E = RegionalEndToEndTests

    /// A controller with its API server and joined services; tenants created and read through the API.
    final class Cluster {
        let root: URL
        var controller: ServerProcess
        var services: [String: RegionProcess] = [:]
        let signup: String
        let app: String

        /// `movers` is written as `movers.json` into the named regions' data directories before they start.
        init(_ name: String, regions: [String], movers: (String, [String])? = nil) throws {
            root = E2E.scratch(name)
            controller = try ServerProcess(
                data: root.appendingPathComponent("controller"), extraArguments: ["--checkpoint-interval", "0.25"])
            if let (text, configured) = movers {
                for region in configured {
                    let directory = root.appendingPathComponent(region)
                    try FileManager.default.createDirectory(
                        at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                    try text.write(
                        to: directory.appendingPathComponent("movers.json"), atomically: true, encoding: .utf8)
                }
            }
            for region in regions {
                services[region] = try E2E.enrolAndStart(
                    region, controller: controller, data: root.appendingPathComponent(region))
            }
            signup = try controller.token(role: "signup", name: "signup")
            app = try controller.token(role: "application", name: "app")
        }

        deinit {
            services.values.forEach { $0.stop() }
            _ = controller.terminate()
            try? FileManager.default.removeItem(at: root)
        }

        var data: URL { controller.data }

        /// Starts the controller's server again on its data directory, optionally with a fault.
        func restartController(fault: String? = nil) throws {
            if controller.process.isRunning { _ = controller.terminate() }
            controller = try ServerProcess(
                data: controller.data, extraArguments: ["--checkpoint-interval", "0.25"],
                environment: fault.map { ["RESIDENCY_FAULT": $0] } ?? [:])
        }

        /// Starts `region`'s service again on its directory and port (after a kill), optionally with a fault.
        func restart(_ region: String, fault: String? = nil) throws {
            let old = services[region]!
            old.stop()
            services[region] = try RegionProcess(
                region: region, data: old.data, port: old.port, controller: "http://127.0.0.1:\(controller.port)",
                join: nil, fault: fault)
        }

        /// A uk tenant with contacts, an account and a 60 KB document (within one command-line argument for curl), written through the controller.
        func tenant(_ name: String) throws -> String {
            let created = try E2E.api(
                controller, "POST", "/v1/tenants", token: signup,
                body: #"{"name":"\#(name)","plan":"paid","country":"GB"}"#)
            guard case .string(let id)? = created.json?["tenant"]?["id"] else {
                throw FixtureFailure("no tenant: \(created)")
            }
            #expect(created.json?["tenant"]?["region"] == .string("uk"))
            for index in 0..<5 {
                try put(id, "contacts/c\(index)", #"{"name":"Contact \#(index)","email":"c\#(index)@example.com"}"#)
            }
            try put(id, "accounts/main", #"{"name":"Main","balance_cents":4200,"currency":"GBP"}"#)
            let body = Data((0..<60_000).map { UInt8($0 % 253) }).base64EncodedString()
            try put(
                id, "documents/big.bin",
                #"{"name":"big.bin","content_type":"application/octet-stream","body":"\#(body)"}"#)
            return id
        }

        func put(_ tenant: String, _ path: String, _ body: String) throws {
            let answer = try E2E.api(controller, "PUT", "/v1/tenants/\(tenant)/data/\(path)", token: app, body: body)
            guard answer.status == 200 else { throw FixtureFailure("PUT \(path): \(String(describing: answer))") }
        }

        /// Every record of the tenant, as the controller serves them (forwarded to its home service).
        func contents(_ tenant: String) throws -> String {
            try ["contacts", "accounts", "documents"].map { collection in
                let list = try E2E.api(
                    controller, "GET", "/v1/tenants/\(tenant)/data/\(collection)?limit=500", token: app)
                guard list.status == 200, let json = list.json else {
                    throw FixtureFailure("GET \(collection): \(list)")
                }
                return json.encoded()
            }.joined(separator: "\n")
        }

        func migrate(
            _ tenant: String, to region: String, fault: String? = nil
        ) throws -> (status: Int32, killed: Bool, output: String) {
            let process = Process()
            process.executableURL = ServerProcess.binary
            process.arguments = [
                "migrations", "request", "--tenant", tenant, "--to", region, "--reason", "moving home", "--approve",
                "--data", data.path,
            ]
            process.currentDirectoryURL = CLIRun.root
            if let fault {
                process.environment = ProcessInfo.processInfo.environment.merging(["RESIDENCY_FAULT": fault]) { $1 }
            }
            let output = Pipe()
            process.standardOutput = output
            process.standardError = output
            try process.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (
                process.terminationStatus,
                process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL, text
            )
        }

        func regionsHolding(_ tenant: String) -> [String] {
            services.keys.filter {
                !E2E.files(named: "\(tenant).sqlite3", under: root.appendingPathComponent($0)).isEmpty
            }.sorted()
                + (E2E.files(named: "\(tenant).sqlite3", under: controller.data).isEmpty ? [] : ["controller"])
        }

        func migrationState(_ tenant: String) throws -> String {
            let list = try E2E.residency([
                "migrations", "list", "--tenant", tenant, "--format", "json", "--data", data.path,
            ])
            guard case .array(let items) = try JSONParser.parse(Array(list.output.utf8)), let first = items.first,
                case .string(let state)? = first["state"]
            else { return "none" }
            return state
        }

        func migrationID(_ tenant: String) throws -> String {
            let list = try E2E.residency([
                "migrations", "list", "--tenant", tenant, "--format", "json", "--data", data.path,
            ])
            guard case .array(let items) = try JSONParser.parse(Array(list.output.utf8)),
                case .string(let id)? = items.first?["id"]
            else { throw FixtureFailure("no migration for \(tenant): \(list)") }
            return id
        }

        /// The tenant lives at eu only, with the same records as before, writable there; uk sends callers to eu.
        func checkMoved(_ tenant: String, expected: String) throws {
            #expect(try migrationState(tenant) == "completed")
            #expect(regionsHolding(tenant) == ["eu"], "\(tenant): \(regionsHolding(tenant))")
            #expect(try contents(tenant) == expected)
            try put(tenant, "contacts/after", #"{"name":"After the move"}"#)
            let uk = services["uk"]!
            try E2E.waitFor("uk to answer 421 for \(tenant)") {
                try E2E.curl("GET", "\(uk.endpoint)/v1/tenants/\(tenant)/data/contacts/c1", identity: data, pin: uk.pin)
                    .status == 421
            }
        }
    }

    /// A tenant moves from the uk service to the eu service: the controller orders, the services move and hash
    /// the data, the source purges; orders presented where they were not meant to act are refused and recorded.
    @Test func aTenantMovesBetweenRegionalServicesUnderSignedOrders() throws {
        let cluster = try Cluster("rmigrate", regions: ["uk", "eu", "us"])
        let tenant = try cluster.tenant("Moving Ltd")
        let before = try cluster.contents(tenant)
        #expect(cluster.regionsHolding(tenant) == ["uk"])
        let moved = try cluster.migrate(tenant, to: "eu")
        #expect(moved.status == 0 && moved.output.contains("completed"), "\(moved.output)")
        try cluster.checkMoved(tenant, expected: before)
        let migration = try cluster.migrationID(tenant)
        let steps = try E2E.residency([
            "migrations", "show", migration, "--format", "json", "--data", cluster.data.path,
        ])
        #expect(steps.output.contains("\"regional\""), "\(steps.output.prefix(800))")

        // The last order the eu service received, as the controller signed it.
        let order = try E2E.python(
            "import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); print(c.execute('select signed from migration_orders where migration=?',(sys.argv[2],)).fetchone()[0].decode())",
            [cluster.root.appendingPathComponent("eu/region.sqlite3").path, migration])
        let (uk, eu, us) = (cluster.services["uk"]!, cluster.services["eu"]!, cluster.services["us"]!)
        let controllerKey = cluster.data
        // Presented by another region's service (us) to the source for the data: refused, not its target.
        let wrongPeer = try E2E.curl(
            "POST", "\(uk.endpoint)/peer/v1/migrations/\(migration)/snapshot", identity: us.data, pin: uk.pin,
            body: order)
        #expect(wrongPeer.status == 403 && wrongPeer.body.contains("order_wrong_peer"), "\(wrongPeer)")
        // Given to a service the order does not name: refused.
        let notNamed = try E2E.curl(
            "POST", "\(us.endpoint)/internal/v1/migrations/\(migration)/pull", identity: controllerKey, pin: us.pin,
            body: order)
        #expect(notNamed.status == 403 && notNamed.body.contains("order_not_for_this_region"), "\(notNamed)")
        // Replayed after the migration ended, by the right parties: refused at both services.
        let replayedAtTarget = try E2E.curl(
            "POST", "\(eu.endpoint)/internal/v1/migrations/\(migration)/pull", identity: controllerKey, pin: eu.pin,
            body: order)
        #expect(replayedAtTarget.status == 403 && replayedAtTarget.body.contains("order_ended"), "\(replayedAtTarget)")
        let replayedAtSource = try E2E.curl(
            "POST", "\(uk.endpoint)/peer/v1/migrations/\(migration)/snapshot", identity: eu.data, pin: uk.pin,
            body: order)
        #expect(replayedAtSource.status == 403 && replayedAtSource.body.contains("order_ended"), "\(replayedAtSource)")
        // Altered in transit (its target changed to us, the signature kept): refused by the signature.
        let euPin = "\"pin\":\"\(eu.pin)\""
        #expect(order.contains(euPin))
        let altered = order.replacingOccurrences(of: "\"region\":\"eu\"", with: "\"region\":\"us\"")
            .replacingOccurrences(of: euPin, with: "\"pin\":\"\(us.pin)\"")
        #expect(altered != order)
        let alteredAnswer = try E2E.curl(
            "POST", "\(us.endpoint)/internal/v1/migrations/\(migration)/pull", identity: controllerKey, pin: us.pin,
            body: altered)
        #expect(alteredAnswer.status == 403 && alteredAnswer.body.contains("order_not_signed"), "\(alteredAnswer)")
        // A peer's key reaches nothing but the peer routes; an application's key does not reach them.
        #expect(try E2E.curl("GET", "\(uk.endpoint)/internal/v1/health", identity: eu.data, pin: uk.pin).status == 403)
        #expect(
            try E2E.curl("GET", "\(eu.endpoint)/v1/tenants/\(tenant)/data/contacts/c1", identity: us.data, pin: eu.pin)
                .status == 403)
        // Every refusal reaches the ledger; so does the source's purge; the ledger verifies.
        try E2E.waitFor("five refused orders on the ledger", seconds: 30) {
            try E2E.ledgerCount(cluster.data, kind: "region.migration_order_refused") >= 5
        }
        let entries = try E2E.residency(["ledger", "entries", "--data", cluster.data.path]).output
        for code in ["order_wrong_peer", "order_not_for_this_region", "order_ended", "order_not_signed"] {
            #expect(entries.contains(code), "\(code) is not on the ledger")
        }
        try E2E.waitFor("the source's purge on the ledger") {
            try E2E.ledgerCount(cluster.data, kind: "region.migration_purged") == 1
        }
        #expect(try E2E.ledgerCount(cluster.data, kind: "migration.completed") == 1)
        #expect(try E2E.residency(["ledger", "verify", "--data", cluster.data.path]).status == 0)

        // A plan of the uk tenants left, run in waves: the same runner, the same region-to-region moves.
        let planned = try (0..<2).map { try cluster.tenant("Planned \($0)") }
        let expected = try planned.map { try cluster.contents($0) }
        let planFile = cluster.root.appendingPathComponent("plan.json")
        let plan = try E2E.residency([
            "migrations", "plan", "--from", "uk", "--to", "eu", "--output", planFile.path, "--data", cluster.data.path,
        ])
        #expect(plan.status == 0, "\(plan.output) \(plan.error)")
        let ran = try E2E.residency(["migrations", "run", planFile.path, "--data", cluster.data.path])
        #expect(ran.status == 0, "\(ran.output) \(ran.error)")
        for (tenant, contents) in zip(planned, expected) { try cluster.checkMoved(tenant, expected: contents) }
        #expect(try E2E.ledgerCount(cluster.data, kind: "migration.completed") == 3)
        #expect(try E2E.residency(["ledger", "verify", "--data", cluster.data.path]).status == 0)
    }

    /// The application writes through the controller without pause while its tenant moves from the uk
    /// service to the eu service: every write is acknowledged (200) or refused as `migration_in_progress`
    /// (409, retried) — a write that reaches the uk service after its purge is followed to eu, never a 500 —
    /// and every acknowledged write is at eu afterwards.
    @Test func writesDuringARegionalMoveAreAcknowledgedOrRefusedAsFrozenAndNoneIsLost() throws {
        let cluster = try Cluster("rwrite", regions: ["uk", "eu"])
        let tenant = try cluster.tenant("Busy Ltd")
        let outcomes = WriteTally()
        let (controller, app) = (cluster.controller, cluster.app)
        let writing = Thread {
            var index = 0
            while !outcomes.stopped {
                let key = "w\(index)"
                let answer = try? E2E.api(
                    controller, "PUT", "/v1/tenants/\(tenant)/data/contacts/\(key)", token: app,
                    body: #"{"name":"Written \#(index)"}"#)
                if answer?.status == 200 {
                    outcomes.record(acknowledged: key)
                    index += 1
                } else if answer?.status == 409, answer?.json?["error"]?["code"] == .string("migration_in_progress") {
                    outcomes.recordFrozen()
                } else {
                    outcomes.record(other: "\(key): \(String(describing: answer))")
                    index += 1
                }
            }
            outcomes.finish()
        }
        writing.start()
        Thread.sleep(forTimeInterval: 0.3)
        let moved = try cluster.migrate(tenant, to: "eu")
        Thread.sleep(forTimeInterval: 0.3)
        outcomes.stop()
        outcomes.waitUntilFinished()
        #expect(moved.status == 0 && moved.output.contains("completed"), "\(moved.output)")
        #expect(outcomes.others.isEmpty, "writes answered otherwise: \(outcomes.others.prefix(3))")
        #expect(!outcomes.keys.isEmpty && outcomes.keys.count < 990)  // one page of the list holds them all
        let list = try E2E.api(cluster.controller, "GET", "/v1/tenants/\(tenant)/data/contacts?limit=999", token: cluster.app)
        guard case .array(let records)? = list.json?["records"] else {
            Issue.record("no records: \(list)")
            return
        }
        let stored = Set(records.compactMap { record -> String? in
            if case .string(let key)? = record["key"] { return key }
            return nil
        })
        let lost = outcomes.keys.subtracting(stored)
        #expect(lost.isEmpty, "acknowledged writes lost: \(lost.sorted().prefix(5))")
        #expect(cluster.regionsHolding(tenant) == ["eu"])
    }

    /// A SIGKILL of the process running the migration (the controller's side), of the source service and of the
    /// target service, each at several steps; after a restart and `migrations resume`, the tenant has the same
    /// data, in one region (the target), writable — and the ledger verifies.
    @Test func aCrashOfAnyProcessAtAnyStepIsResumed() throws {
        let cluster = try Cluster("rcrash", regions: ["uk", "eu"])
        let cases: [(process: String, fault: String)] = [
            ("controller", "copying:after"), ("controller", "frozen:after"), ("controller", "cutover:after"),
            ("controller", "cleaning:before"),
            ("uk", "source-prepare:after"), ("uk", "source-freeze:after"), ("uk", "source-purge:before"),
            ("eu", "target-pull:partial"), ("eu", "target-sync:after"), ("eu", "target-finish:before"),
        ]
        for (index, (process, fault)) in cases.enumerated() {
            let tenant = try cluster.tenant("Crash \(index)")
            var expected = try cluster.contents(tenant)
            if process != "controller" { try cluster.restart(process, fault: fault) }
            let first = try cluster.migrate(tenant, to: "eu", fault: process == "controller" ? fault : nil)
            if process == "controller" {
                #expect(first.killed, "\(fault): \(first.output)")
            } else {
                #expect(first.status != 0, "\(process) \(fault): \(first.output)")
                try E2E.waitFor("\(process) to die at \(fault)") { !cluster.services[process]!.process.isRunning }
                #expect(cluster.services[process]!.process.terminationReason == .uncaughtSignal, "\(process) \(fault)")
                try cluster.restart(process)
            }
            if fault == "frozen:after" {
                // Frozen at the source: a write is held with 409 and Retry-After; reads go on.
                let uk = cluster.services["uk"]!
                let held = try E2E.curl(
                    "PUT", "\(uk.endpoint)/v1/tenants/\(tenant)/data/contacts/held", identity: cluster.data,
                    pin: uk.pin,
                    body: #"{"name":"Held"}"#)
                #expect(held.status == 409 && held.body.contains("migration_in_progress"), "\(held)")
                let headers = try Self.headers(
                    "PUT", "\(uk.endpoint)/v1/tenants/\(tenant)/data/contacts/held", cluster.data, uk.pin)
                #expect(headers.lowercased().contains("retry-after: 1"), "\(headers)")
                // Through the controller, which forwards it: the same 409 with Retry-After.
                let forwarded = try cluster.controller.curl([
                    "-X", "PUT", "-H", "Authorization: Bearer \(cluster.app)", "-H", "Content-Type: application/json",
                    "--data-binary", #"{"name":"Held"}"#, "{url}/v1/tenants/\(tenant)/data/contacts/held",
                ])
                #expect(
                    status(of: forwarded) == 409 && forwarded.lowercased().contains("retry-after: 1")
                        && forwarded.contains("migration_in_progress"), "\(forwarded)")
            }
            if fault == "copying:after" {
                // Written after the snapshot and before the freeze: the change-log sync carries it over.
                try cluster.put(tenant, "contacts/late", #"{"name":"Written during the copy"}"#)
                expected = try cluster.contents(tenant)
            }
            let resumed = try E2E.residency(["migrations", "resume", "--data", cluster.data.path])
            #expect(
                resumed.status == 0 && resumed.output.contains("completed"),
                "\(process) \(fault): \(resumed.output) \(resumed.error)")
            try cluster.checkMoved(tenant, expected: expected)
        }
        // Cancelled after the freeze (its runner killed there): the target's copy is discarded and the source
        // thawed — the tenant stays at uk, whole and writable.
        let stays = try cluster.tenant("Cancelled")
        let before = try cluster.contents(stays)
        #expect(try cluster.migrate(stays, to: "eu", fault: "frozen:after").killed)
        #expect(cluster.regionsHolding(stays) == ["eu", "uk"])
        let cancel = try E2E.residency([
            "migrations", "cancel", try cluster.migrationID(stays), "--data", cluster.data.path,
        ])
        #expect(cancel.status == 0, "\(cancel.output) \(cancel.error)")
        #expect(try cluster.migrationState(stays) == "cancelled")
        #expect(cluster.regionsHolding(stays) == ["uk"])
        #expect(try cluster.contents(stays) == before)
        try cluster.put(stays, "contacts/after", #"{"name":"Still at home"}"#)
        // Between an in-process region (us here has no service) and a service: refused before anything is written.
        let mixed = try E2E.residency([
            "migrations", "request", "--tenant", stays, "--to", "us", "--reason", "mixed", "--data", cluster.data.path,
        ])
        #expect(mixed.status != 0 && (mixed.output + mixed.error).contains("two regional services"), "\(mixed)")
        #expect(try E2E.residency(["ledger", "verify", "--data", cluster.data.path]).status == 0)
    }

    /// The controller's API server runs the migration (approved through the API) and is SIGKILLed at a step;
    /// started again, it resumes the migration by itself and carries it to the same end.
    @Test func theControllerServerKilledMidMigrationResumesItAtStart() throws {
        let cluster = try Cluster("rserver", regions: ["uk", "eu"])
        let ops = try cluster.controller.token(role: "ops", name: "ops")
        for fault in ["copying:after", "verifying:before", "cleaning:before"] {
            try cluster.restartController(fault: fault)
            let tenant = try cluster.tenant("Server crash \(fault)")
            let expected = try cluster.contents(tenant)
            let filed = try E2E.api(
                cluster.controller, "POST", "/v1/tenants/\(tenant)/migrations", token: ops,
                body: #"{"to_region":"eu","reason":"server crash test"}"#)
            guard filed.status == 201, case .string(let id)? = filed.json?["migration"]?["id"] ?? filed.json?["id"]
            else {
                throw FixtureFailure("filing: \(filed)")
            }
            let approved = try E2E.api(cluster.controller, "POST", "/v1/migrations/\(id)/approve", token: ops)
            #expect(approved.status == 202 || approved.status == nil, "\(approved)")
            try E2E.waitFor("the server to die at \(fault)") { !cluster.controller.process.isRunning }
            #expect(cluster.controller.process.terminationReason == .uncaughtSignal, "\(fault)")
            #expect(try cluster.migrationState(tenant) != "completed")
            try cluster.restartController()
            try E2E.waitFor("the restarted server to complete the migration", seconds: 30) {
                try cluster.migrationState(tenant) == "completed"
            }
            try cluster.checkMoved(tenant, expected: expected)
        }
        #expect(try E2E.residency(["ledger", "verify", "--data", cluster.data.path]).status == 0)
    }

    /// An external store's mover configured at both regions runs there, under the step's order: the export at
    /// the source, the import and verify at the target, the purge at the source after the cutover. A region
    /// without the mover cannot take part in a move that needs it.
    @Test func externalStoresMoveWithMoversRunAtTheRegions() throws {
        let scratch = E2E.scratch("rmovers-store")
        try FileManager.default.createDirectory(
            at: scratch.appendingPathComponent("ext/uk"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(
            at: scratch.appendingPathComponent("stage"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (ext, stage, log) = (
            scratch.appendingPathComponent("ext").path, scratch.appendingPathComponent("stage").path,
            scratch.appendingPathComponent("log").path
        )
        let file = "$RESIDENCY_TENANT.txt"
        let movers = """
            {"movers": [{"name": "files",
              "export": "cp \(ext)/$RESIDENCY_REGION/\(file) \(stage)/\(file) && echo export $RESIDENCY_PHASE at $RESIDENCY_REGION >> \(log)",
              "import": "mkdir -p \(ext)/$RESIDENCY_REGION && cp \(stage)/\(file) \(ext)/$RESIDENCY_REGION/\(file) && echo import $RESIDENCY_PHASE at $RESIDENCY_REGION >> \(log)",
              "verify": "cmp \(stage)/\(file) \(ext)/$RESIDENCY_REGION/\(file) && echo verify at $RESIDENCY_REGION >> \(log)",
              "purge": "rm -f \(ext)/$RESIDENCY_PURGE_REGION/\(file) && echo purge $RESIDENCY_PURGE_REGION at $RESIDENCY_REGION >> \(log)"}]}
            """
        let cluster = try Cluster("rmovers", regions: ["uk", "eu", "us"], movers: (movers, ["uk", "eu"]))
        let tenant = try cluster.tenant("Stores Ltd")
        let expected = try cluster.contents(tenant)
        try "the external copy\n".write(toFile: "\(ext)/uk/\(tenant).txt", atomically: true, encoding: .utf8)
        let moved = try cluster.migrate(tenant, to: "eu")
        #expect(moved.status == 0 && moved.output.contains("completed"), "\(moved.output)")
        try cluster.checkMoved(tenant, expected: expected)
        #expect(try String(contentsOfFile: "\(ext)/eu/\(tenant).txt", encoding: .utf8) == "the external copy\n")
        #expect(!FileManager.default.fileExists(atPath: "\(ext)/uk/\(tenant).txt"))
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(
            lines == [
                "export bulk at uk", "import bulk at eu", "export final at uk", "import final at eu", "verify at eu",
                "purge uk at uk",
            ], "\(lines)")
        let shown = try E2E.residency([
            "migrations", "show", try cluster.migrationID(tenant), "--format", "json", "--data", cluster.data.path,
        ])
        #expect(shown.output.contains("region:files"), "\(shown.output.prefix(600))")
        // The target service SIGKILLed right after a command (its import): restarted and resumed, the move ends
        // as if nothing happened — the commands are run again, as every step is.
        let resumed = try cluster.tenant("Killed Importer")
        let resumedContents = try cluster.contents(resumed)
        try "another external copy\n".write(toFile: "\(ext)/uk/\(resumed).txt", atomically: true, encoding: .utf8)
        try cluster.restart("eu", fault: "target-command:after")
        #expect(try cluster.migrate(resumed, to: "eu").status != 0)
        try E2E.waitFor("eu to die after its command") { !cluster.services["eu"]!.process.isRunning }
        try cluster.restart("eu")
        let resume = try E2E.residency(["migrations", "resume", "--data", cluster.data.path])
        #expect(resume.status == 0 && resume.output.contains("completed"), "\(resume.output) \(resume.error)")
        try cluster.checkMoved(resumed, expected: resumedContents)
        #expect(try String(contentsOfFile: "\(ext)/eu/\(resumed).txt", encoding: .utf8) == "another external copy\n")
        #expect(!FileManager.default.fileExists(atPath: "\(ext)/uk/\(resumed).txt"))
        // A command that fails at the region (no external file to export): the migration rolls back — the
        // tenant's data stays whole and writable at uk, nothing is left at eu.
        let failing = try cluster.tenant("No External File")
        let unchanged = try cluster.contents(failing)
        let failed = try cluster.migrate(failing, to: "eu")
        #expect(failed.status != 0 && failed.output.contains("mover_failed"), "\(failed.output)")
        #expect(try cluster.migrationState(failing) == "failed")
        #expect(cluster.regionsHolding(failing) == ["uk"])
        #expect(try cluster.contents(failing) == unchanged)
        try cluster.put(failing, "contacts/after", #"{"name":"Still at home"}"#)
        // us has no such mover: a move between eu and us is refused before anything is written.
        let refused = try E2E.residency([
            "migrations", "request", "--tenant", tenant, "--to", "us", "--reason", "no mover", "--data",
            cluster.data.path,
        ])
        #expect(
            refused.status != 0 && (refused.output + refused.error).contains("must be configured at both regions"),
            "\(refused)")
    }

    /// curl's response headers for one request with the controller's key.
    static func headers(_ method: String, _ url: String, _ identity: URL, _ pin: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "curl", "-s", "-k", "-D", "-", "-o", "/dev/null", "-X", method, "--max-time", "10",
            "--cert", identity.appendingPathComponent("identity/tls-cert.pem").path,
            "--key", identity.appendingPathComponent("identity/tls-key.pem").path, "--pinnedpubkey", "sha256//\(pin)",
            "-H", "Content-Type: application/json", "--data-binary", #"{"name":"Held"}"#, url,
        ]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }
}

/// What one writer thread saw, read by the test once it finished.
private final class WriteTally: @unchecked Sendable {
    private let lock = NSCondition()
    private var acknowledgedKeys = Set<String>()
    private var otherOutcomes: [String] = []
    private var stopping = false
    private var finished = false

    func record(acknowledged key: String) { lock.withLock { _ = acknowledgedKeys.insert(key) } }
    func recordFrozen() {}
    func record(other text: String) { lock.withLock { otherOutcomes.append(text) } }
    func stop() { lock.withLock { stopping = true } }
    var stopped: Bool { lock.withLock { stopping } }
    func finish() {
        lock.withLock {
            finished = true
            lock.broadcast()
        }
    }
    func waitUntilFinished() {
        lock.withLock { while !finished { lock.wait() } }
    }
    var keys: Set<String> { lock.withLock { acknowledgedKeys } }
    var others: [String] { lock.withLock { otherOutcomes } }
}
