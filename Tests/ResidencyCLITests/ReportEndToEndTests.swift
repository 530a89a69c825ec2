import Foundation
import Testing

/// Signups in all eight regions, access from several countries, a migration — then both reports through
/// the real server, every figure recomputed from the ledger entries the same server serves.
@Suite(.serialized) struct ReportEndToEndTests {
    @Test func everyFigureOfTheReportsIsCheckedAgainstTheLedger() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        var tokens: [String: String] = [:]
        for role in ["signup", "support", "compliance", "ops"] {
            tokens[role] = try server.token(role: role, name: role)
        }
        let program = #"""
            import http.client, json, os, time
            port = int(os.environ["PORT"]); tokens = json.loads(os.environ["TOKEN"])
            def call(method, path, role, body=None, raw=False):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                headers = {"Authorization": "Bearer " + tokens[role]}
                if body is not None:
                    headers["Content-Type"] = "application/json"; body = json.dumps(body)
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse(); data = r.read(); c.close()
                if raw: return r.status, r.getheader("Content-Type"), data.decode()
                return r.status, (json.loads(data) if data else None)
            tenants = {}
            for country in ["FR", "GB", "US", "IN", "SG", "AU", "ZA", "AE"]:
                s, t = call("POST", "/v1/tenants", "signup", {"name": f"Customer {country}", "plan": "paid", "country": country})
                assert s == 201, t
                tenants[country] = t["tenant"]["id"]
            offices = {"US": ("austin", "s-us"), "IN": ("bengaluru", "s-in"), "PH": ("manila", "s-ph"), "IE": ("dublin", "s-ie")}
            def access(country, staff_country, justification, detail, break_glass=False):
                office, staff = offices[staff_country]
                filing = {"tenant": tenants[country], "staff": {"id": staff, "entity": "Residency Group", "role": "sre", "office": office},
                          "physical_country": staff_country, "justification": justification, "detail": detail,
                          "scope": {"data_classes": ["customer_data"], "mode": "read"}}
                path = "/v1/access-requests/break-glass" if break_glass else "/v1/access-requests"
                s, r = call("POST", path, "support", filing)
                if s != 201: return None
                rid = r["access_request"]["id"]
                if r["access_request"]["state"] == "pending":
                    call("POST", f"/v1/access-requests/{rid}/approve", "compliance", {"reason": "ok", "hours": 2})
                use = {"request": rid, "staff_id": staff, "physical_country": staff_country, "method": "console",
                       "resource": "contacts/1", "data_class": "customer_data", "mode": "read"}
                call("POST", "/v1/access-events", "support", use)
                return rid
            access("FR", "US", "legal_request", "CASE-1")
            access("GB", "IN", "customer_support", "TICKET-2")
            access("US", "IE", "customer_support", "TICKET-3")
            access("SG", "IN", "production_alert", "ALERT-4")
            access("AU", "PH", "security_incident", "INC-5", break_glass=True)
            rid = access("IN", "US", "customer_support", "TICKET-6")
            if rid:  # the same grant used from the wrong country: refused
                call("POST", "/v1/access-events", "support", {"request": rid, "staff_id": "s-us", "physical_country": "PH",
                     "method": "console", "resource": "contacts/1", "data_class": "customer_data", "mode": "read"})
            # A filing policy refuses (a justification that does not exist).
            call("POST", "/v1/access-requests", "support", {"tenant": tenants["ZA"], "staff": {"id": "s-us", "entity": "Residency Group", "role": "sre", "office": "austin"},
                 "physical_country": "US", "justification": "curiosity", "detail": "", "scope": {"data_classes": ["customer_data"], "mode": "read"}})
            s, m = call("POST", f"/v1/tenants/{tenants['GB']}/migrations", "ops", {"to_region": "eu", "reason": "asked"})
            assert s == 201, (s, m)
            call("POST", f"/v1/migrations/{m['migration']['id']}/approve", "ops")
            for _ in range(200):
                s, got = call("GET", f"/v1/migrations/{m['migration']['id']}", "ops")
                if got["migration"]["state"] == "completed": break
                time.sleep(0.05)
            s, report = call("GET", "/v1/reports/cross-border?format=json", "compliance")
            s2, rmap = call("GET", "/v1/reports/residency-map?format=json", "compliance")
            s3, ctype, csv = call("GET", "/v1/reports/cross-border?format=csv", "compliance", raw=True)
            s4, htype, html = call("GET", "/v1/reports/cross-border?format=html", "compliance", raw=True)
            s5, mtype, mhtml = call("GET", "/v1/reports/residency-map?format=html", "compliance", raw=True)
            s6, entries = call("GET", "/v1/ledger/entries", "compliance")
            ledger = [e["entry"] for e in entries["entries"]]
            def idx(kind): return [e["index"] for e in ledger if e["kind"] == kind]
            expected = {}
            used = [e for e in ledger if e["kind"] == "access.used"]
            expected["accesses"] = [e["index"] for e in used]
            dest = {}
            for e in used: dest[e["body"]["physical_country"]] = dest.get(e["body"]["physical_country"], 0) + 1
            expected["by_destination"] = dest
            staff = {}
            for e in used: staff[e["body"]["staff"]] = staff.get(e["body"]["staff"], 0) + 1
            expected["by_staff"] = staff
            expected["refused"] = sorted(idx("access.refused") + idx("access.use_refused"))
            expected["break_glass"] = idx("access.break_glass")
            regions = {}
            where = {}
            for e in ledger:
                if e["kind"] == "tenant.created": where[e["tenant"]] = e["region"]
                if e["kind"] == "migration.cutover": where[e["tenant"]] = e["body"]["to"]["region"]
            for r in where.values(): regions[r] = regions.get(r, 0) + 1
            expected["regions"] = regions
            proof_line = report["accesses"][0]["ledger_index"] if report["accesses"] else 0
            s7, proof = call("GET", f"/v1/ledger/proofs/inclusion?index={proof_line}&size={report['checkpoint']['size']}", "compliance")
            print(json.dumps({
                "report": report, "map": rmap, "expected": expected, "csv_type": ctype, "csv": csv,
                "html_type": htype, "html": html, "map_html": mhtml, "proof_status": s7,
                "ledger_size": len(ledger)}))
            """#
        let tokenJSON = String(decoding: try JSONSerialization.data(withJSONObject: tokens), as: UTF8.self)
        let output = try server.python(program, token: tokenJSON)
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let report = try #require(result["report"] as? [String: Any])
        let expected = try #require(result["expected"] as? [String: Any])
        let summary = try #require(report["summary"] as? [String: Any])
        let accesses = try #require(report["accesses"] as? [[String: Any]])
        let expectedAccesses = try #require(expected["accesses"] as? [Int])
        #expect(accesses.map { $0["ledger_index"] as? Int } == expectedAccesses)
        #expect(expectedAccesses.count >= 4, "the scenario should produce several accesses")
        #expect(summary["by_destination"] as? [String: Int] == expected["by_destination"] as? [String: Int])
        #expect(summary["by_staff"] as? [String: Int] == expected["by_staff"] as? [String: Int])
        #expect((summary["by_basis"] as? [String: Int])?.values.reduce(0, +) == expectedAccesses.count)
        let refused = (report["refused"] as? [[String: Any]])?.compactMap { $0["ledger_index"] as? Int }
        #expect(refused == expected["refused"] as? [Int])
        #expect((refused?.count ?? 0) >= 2)
        let breakGlass = (report["break_glass"] as? [[String: Any]])?.compactMap { $0["ledger_index"] as? Int }
        #expect(breakGlass == expected["break_glass"] as? [Int])
        // Every line is covered by the checkpoint the report names, and an inclusion proof is served for it.
        let checkpoint = try #require(report["checkpoint"] as? [String: Any])
        let size = try #require(checkpoint["size"] as? Int)
        #expect((accesses.compactMap { $0["ledger_index"] as? Int } + (refused ?? [])).allSatisfy { $0 < size })
        #expect(result["proof_status"] as? Int == 200)
        #expect((checkpoint["note"] as? String)?.contains("\n\n— ") == true)
        // Each access carries its grant: justification, ticket, basis and decision.
        for access in accesses {
            #expect(!(access["justification"] as? String ?? "").isEmpty && !(access["basis"] as? String ?? "").isEmpty)
            #expect(!(access["ticket"] as? String ?? "").isEmpty && access["decision"] as? String != "unknown")
        }
        // For people: every tenant here still exists, so each line names it; countries are named; the basis is
        // spelt out (the FR tenant reached from the US rests on EU SCC module 3, a contract and a TIA).
        for access in accesses {
            #expect((access["tenant_name"] as? String)?.hasPrefix("Customer ") == true)
            #expect(!(access["destination_name"] as? String ?? "").isEmpty)
            let summary = (access["basis_detail"] as? [String: Any]).flatMap { $0["summary"] as? String }
            #expect(summary?.isEmpty == false)
        }
        #expect(
            accesses.contains {
                guard let basis = $0["basis_detail"] as? [String: Any] else { return false }
                return basis["scc_module"] as? Int == 3 && !(basis["contract"] as? String ?? "").isEmpty
                    && !(basis["tia"] as? String ?? "").isEmpty
            })
        let breakGlassLines = report["break_glass"] as? [[String: Any]] ?? []
        #expect(!breakGlassLines.isEmpty && breakGlassLines.allSatisfy { $0["review_due_at"] is String })
        // The residency map against the ledger: tenants per region after the migration, pinned tenants.
        let map = try #require(result["map"] as? [String: Any])
        let regionRows = try #require(map["regions"] as? [[String: Any]])
        var counted: [String: Int] = [:]
        for row in regionRows where (row["tenants"] as? Int ?? 0) > 0 {
            counted[row["region"] as! String] = row["tenants"] as? Int
        }
        #expect(counted == expected["regions"] as? [String: Int])
        #expect(counted["eu"] == 2 && counted["uk"] == nil)
        let mapSummary = try #require(map["summary"] as? [String: Any])
        #expect(mapSummary["pinned"] as? Int == 4)  // FR (EEA), IN, AU, AE are held by mandatory rules
        #expect(mapSummary["migrations_in_flight"] as? Int == 0 && mapSummary["violations"] as? Int == 0)
        // CSV: a spreadsheet's shape; HTML: self-contained with inline SVG charts.
        #expect((result["csv_type"] as? String)?.hasPrefix("text/csv") == true)
        let csv = try #require(result["csv"] as? String)
        #expect(csv.hasPrefix("section,ledger_index,time,"))
        #expect(csv.components(separatedBy: "\r\n").filter { $0.hasPrefix("access,") }.count == expectedAccesses.count)
        for html in [result["html"] as? String ?? "", result["map_html"] as? String ?? ""] {
            #expect(html.hasPrefix("<!DOCTYPE html>") && html.contains("<svg"))
            #expect(
                !html.contains("<script") && !html.contains("src=") && !html.contains("href=")
                    && !html.contains("@import"))
        }
    }
}

/// The HTML reports rendered by a real browser: headless Chromium draws each page to a PNG, and the PNG is
/// decoded and checked for a drawn page (many colours, a share of non-white pixels).
@Suite struct ReportRenderTests {
    @Test(arguments: ["residency-map", "cross-border"])
    func headlessChromiumRendersTheReport(report: String) throws {
        let sandbox = try MigrationCrashTests.Sandbox()
        for country in ["FR", "GB", "IN", "US"] {
            #expect(try sandbox.run(["tenants", "create", "--plan", "paid", "--name", "R", "--country", country]).status == 0)
        }
        let html = sandbox.directory.appendingPathComponent("\(report).html")
        let made = try sandbox.run(["report", report, "--format", "html", "--output", html.path])
        #expect(made.status == 0, "\(made.output)")
        let png = sandbox.directory.appendingPathComponent("\(report).png")
        let process = Process()
        process.executableURL = CLIRun.root.appendingPathComponent("Scripts/render-report")
        process.arguments = [html.path, png.path]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains("1280x1600"), "\(text)")
    }
}
