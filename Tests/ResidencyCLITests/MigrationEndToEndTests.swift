import Foundation
import ResidencyCore
import Testing

/// Migrations and tenant data through the real server with Python's http.client.
@Suite(.serialized) struct MigrationEndToEndTests {
    @Test func theApplicationKeepsWorkingWhileOperationsMovesItsTenant() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let signup = try server.token(role: "signup", name: "signup-flow")
        let ops = try server.token(role: "ops", name: "ops-desk")
        let app = try server.token(role: "application", name: "app")
        let program = #"""
            import http.client, json, os, threading, time
            port = int(os.environ["PORT"])
            signup, ops, app = os.environ["TOKEN"].split(",")
            def call(method, path, token, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                headers = {"Authorization": "Bearer " + token}
                if body is not None:
                    headers["Content-Type"] = "application/json"
                    body = json.dumps(body)
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse(); data = r.read(); c.close()
                return r.status, (json.loads(data) if data else None)
            out = {}
            s, t = call("POST", "/v1/tenants", signup, {"name": "Moving Co", "plan": "paid", "country": "GB", "ip": "81.2.69.160"})
            tenant = t["tenant"]["id"]; out["home"] = t["tenant"]["region"]
            for i in range(30):
                call("PUT", f"/v1/tenants/{tenant}/data/contacts/c{i}", app, {"name": f"Contact {i}"})
            out["wrong_role"] = call("POST", f"/v1/tenants/{tenant}/migrations", app, {"to_region": "eu", "reason": "x"})[0]
            s, refused = call("POST", f"/v1/tenants/{tenant}/migrations", ops, {"to_region": "us", "reason": "cheaper"})
            out["refused"] = [s, refused["error"]["code"], refused["error"]["rule"]]
            out["unknown_region"] = call("POST", f"/v1/tenants/{tenant}/migrations", ops, {"to_region": "mars", "reason": "x"})[0]
            out["unknown_field"] = call("POST", f"/v1/tenants/{tenant}/migrations", ops, {"to_region": "eu", "reason": "x", "speed": 1})[0]
            # Eight operators at once: exactly one migration is filed.
            statuses = []
            def attempt():
                statuses.append(call("POST", f"/v1/tenants/{tenant}/migrations", ops, {"to_region": "eu", "reason": "race"}))
            threads = [threading.Thread(target=attempt) for _ in range(8)]
            [t.start() for t in threads]; [t.join() for t in threads]
            out["race"] = sorted(s for s, _ in statuses)
            migration = [b for s, b in statuses if s == 201][0]["migration"]["id"]
            # The application writes throughout; a write during the freeze is refused with 409 and retried.
            stop = threading.Event(); writes = {"ok": 0, "frozen": 0, "other": []}
            def writer():
                i = 0
                while not stop.is_set():
                    s, b = call("PUT", f"/v1/tenants/{tenant}/data/contacts/w{i}", app, {"name": f"Written {i}"})
                    if s == 200: writes["ok"] += 1; i += 1
                    elif s == 409 and b["error"]["code"] == "migration_in_progress": writes["frozen"] += 1
                    else: writes["other"].append(s)
            w = threading.Thread(target=writer); w.start()
            time.sleep(0.2)
            out["approve"] = call("POST", f"/v1/migrations/{migration}/approve", ops)[0]
            for _ in range(200):
                s, m = call("GET", f"/v1/migrations/{migration}", ops)
                if m["migration"]["state"] in ("completed", "failed"): break
                time.sleep(0.05)
            time.sleep(0.2); stop.set(); w.join()
            out["state"] = m["migration"]["state"]
            out["steps"] = [x["state"] for x in m["migration"]["steps"] if x["phase"] == "finished"]
            out["writes_ok"] = writes["ok"]; out["other"] = writes["other"]
            s, t = call("GET", f"/v1/tenants/{tenant}", ops)
            out["region_after"] = t["tenant"]["region"]
            # Every acknowledged write is at the new home.
            keys = set(); after = None
            while True:
                s, page = call("GET", f"/v1/tenants/{tenant}/data/contacts?limit=500" + (f"&after={after}" if after else ""), app)
                keys |= {r["key"] for r in page["records"]}
                after = page["next"]
                if not after: break
            out["missing"] = [f"w{i}" for i in range(writes["ok"]) if f"w{i}" not in keys] + [f"c{i}" for i in range(30) if f"c{i}" not in keys]
            out["cancel_after"] = call("POST", f"/v1/migrations/{migration}/cancel", ops)[0]
            print(json.dumps(out))
            """#
        let output = try server.python(program, token: [signup, ops, app].joined(separator: ","))
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        #expect(result["home"] as? String == "uk")
        #expect(result["wrong_role"] as? Int == 403)
        let refused = result["refused"] as? [Any]
        #expect(refused?[0] as? Int == 422 && refused?[1] as? String == "target_not_permitted")
        #expect(refused?[2] as? String == "uk-choice")
        #expect(result["unknown_region"] as? Int == 400)
        #expect(result["unknown_field"] as? Int == 400)
        #expect(result["race"] as? [Int] == [201, 409, 409, 409, 409, 409, 409, 409])
        #expect(result["approve"] as? Int == 202)
        #expect(result["state"] as? String == "completed")
        #expect(
            result["steps"] as? [String]
                == ["requested", "approved", "copying", "frozen", "syncing", "verifying", "cutover", "cleaning"])
        #expect(result["region_after"] as? String == "eu")
        #expect((result["writes_ok"] as? Int ?? 0) > 0)
        #expect((result["other"] as? [Any])?.isEmpty == true, "writes answered otherwise: \(result["other"] ?? "")")
        #expect((result["missing"] as? [Any])?.isEmpty == true, "acknowledged writes lost: \(result["missing"] ?? "")")
        #expect(result["cancel_after"] as? Int == 409)
    }
}

@Suite(.serialized) struct LifecycleEndToEndTests {
    @Test func billingEventsOverHTTPAndTheScheduleFromTheCommandLine() throws {
        let server = try ServerProcess()
        defer { #expect(server.stop() == 0) }
        let signup = try server.token(role: "signup", name: "signup-flow")
        let billing = try server.token(role: "billing", name: "billing")
        let ops = try server.token(role: "ops", name: "ops")
        let app = try server.token(role: "application", name: "app")
        let program = #"""
            import datetime, http.client, json, os
            port = int(os.environ["PORT"])
            signup, billing, ops, app = os.environ["TOKEN"].split(",")
            now = datetime.datetime.now(datetime.timezone.utc)
            def iso(days):
                return (now + datetime.timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
            def call(method, path, token, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
                headers = {"Authorization": "Bearer " + token}
                if body is not None:
                    headers["Content-Type"] = "application/json"; body = json.dumps(body)
                c.request(method, path, body=body, headers=headers)
                r = c.getresponse(); data = r.read(); c.close()
                return r.status, (json.loads(data) if data else None)
            s, t = call("POST", "/v1/tenants", signup, {"name": "Late Payer", "plan": "paid", "country": "GB"})
            tenant = t["tenant"]["id"]
            out = {}
            # Dated before the tenant existed: refused, so it cannot make a deletion due at once.
            out["backdated"] = call("POST", f"/v1/tenants/{tenant}/events", billing, {"type": "payment_failed", "at": "2020-01-01T00:00:00Z"})
            out["failed"] = call("POST", f"/v1/tenants/{tenant}/events", billing, {"type": "payment_failed"})
            out["wrong_role"] = call("POST", f"/v1/tenants/{tenant}/events", app, {"type": "activity"})[0]
            out["bad_type"] = call("POST", f"/v1/tenants/{tenant}/events", billing, {"type": "refund"})
            out["missing_plan"] = call("POST", f"/v1/tenants/{tenant}/events", billing, {"type": "plan_changed"})[0]
            out["future"] = call("POST", f"/v1/tenants/{tenant}/events", billing, {"type": "activity", "at": "2999-01-01T00:00:00Z"})[0]
            out["due"] = call("GET", f"/v1/lifecycle/due?as_of={iso(16)}", ops)
            out["tenant"] = tenant
            print(json.dumps(out))
            """#
        let output = try server.python(program, token: [signup, billing, ops, app].joined(separator: ","))
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let backdated = result["backdated"] as? [Any]
        #expect(backdated?[0] as? Int == 422)
        #expect(
            ((backdated?[1] as? [String: Any])?["error"] as? [String: Any])?["code"] as? String
                == "event_before_creation")
        let failed = result["failed"] as? [Any]
        #expect(failed?[0] as? Int == 200)
        #expect(
            ((failed?[1] as? [String: Any])?["lifecycle"] as? [String: Any])?["payment_failed_at"] as? String != nil)
        #expect(result["wrong_role"] as? Int == 403)
        #expect((result["bad_type"] as? [Any])?[0] as? Int == 400)
        #expect(result["missing_plan"] as? Int == 400)
        #expect(result["future"] as? Int == 400)
        let due = ((result["due"] as? [Any])?[1] as? [String: Any])?["due"] as? [[String: Any]]
        #expect(due?.map { $0["rule"] as? String } == ["failed-payment-suspend"])
        // The schedule from the command line, beside the running server, long after the fact.
        let tenant = try #require(result["tenant"] as? String)
        let later = Timestamp.rfc3339(milliseconds: Int64(Date().timeIntervalSince1970 * 1000) + 200 * 86_400_000)
        let run = try ServerProcess.run([
            "lifecycle", "run", "--as-of", later, "--format", "json", "--data", server.data.path,
        ])
        let steps = try #require(try JSONSerialization.jsonObject(with: Data(run.utf8)) as? [[String: Any]])
        #expect(steps.map { $0["action"] as? String } == ["suspend", "close", "delete"])
        #expect(steps.allSatisfy { $0["tenant"] as? String == tenant })
        let again = try ServerProcess.run([
            "lifecycle", "run", "--as-of", later, "--data", server.data.path,
        ])
        #expect(again == "nothing due")
        #expect(
            status(of: try server.curl(["-H", "Authorization: Bearer \(ops)", "{url}/v1/tenants/\(tenant)"])) == 200)
        let gone = try server.curl([
            "-H", "Authorization: Bearer \(app)", "{url}/v1/tenants/\(tenant)/data/contacts",
        ])
        // Not "no tenant": the application is told when and by which rule the tenant was deleted.
        #expect(status(of: gone) == 409)
        #expect(gone.contains("tenant_deleted") && gone.contains("was deleted on") && gone.contains("rule "))
    }
}
