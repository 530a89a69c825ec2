import Foundation
import ResidencyCore
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Witnesses as separate processes, checked by independent code: Python's `cryptography` verifies the
/// project's cosignatures and bundles, and the project verifies cosignatures Python makes.
@Suite(.serialized) struct WitnessEndToEndTests {
    /// A witness process on a port of its own, read from its start-up line.
    final class WitnessProcess {
        let process = Process()
        let data: URL
        let port: Int
        let errors = Pipe()

        init(
            data: URL, log: String, name: String, environment: [String: String] = [:], listen: String = "127.0.0.1:0"
        ) throws {
            self.data = data
            process.executableURL = ServerProcess.binary
            process.arguments = [
                "witness", "serve", "--listen", listen, "--data", data.path, "--name", name, "--log", log,
            ]
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = errors
            try process.run()
            var text = ""
            while text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression) == nil {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                text += String(decoding: chunk, as: UTF8.self)
            }
            guard let range = text.range(of: #"http://127\.0\.0\.1:(\d+)"#, options: .regularExpression),
                let port = Int(text[range].split(separator: ":").last!)
            else {
                process.terminate()
                throw FixtureFailure("the witness did not start: \(text)")
            }
            self.port = port
        }

        var url: String { "http://127.0.0.1:\(port)" }

        func stop() {
            if process.isRunning { process.terminate() }
            process.waitUntilExit()
        }
    }

    static func scratch(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("residency-\(name)-\(UUID().uuidString)")
    }

    static func residency(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = ServerProcess.binary
        process.arguments = arguments
        process.currentDirectoryURL = CLIRun.root
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let out = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let err = String(decoding: error.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, out, err)
    }

    static func python(_ program: String, _ arguments: [String] = []) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", program] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func pythonAndTheProjectVerifyEachOthersCosignatures() throws {
        let seed = (0..<32).map { UInt8($0 * 7 % 256) }
        let cosigner = try Cosigner(name: "w.test", privateKey: try Ed25519PrivateKey(seed: seed))
        let body = "residency.local/ledger\n42\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
        let ours = try cosigner.cosign(checkpointText: body, timestamp: 1_700_000_000)
        let program = #"""
            import base64, hashlib, sys
            from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
            seed = bytes(i * 7 % 256 for i in range(32)); body = sys.argv[1]; ours = sys.argv[2]
            key = Ed25519PrivateKey.from_private_bytes(seed); public = key.public_key().public_bytes_raw()
            key_id = hashlib.sha256(b"w.test\n\x04" + public).digest()[:4]
            sig = base64.b64decode(ours.split(" ")[2]); assert sig[:4] == key_id, "key id"
            stamp = int.from_bytes(sig[4:12], "big"); assert stamp == 1700000000, "timestamp"
            Ed25519PublicKey.from_public_bytes(public).verify(sig[12:], f"cosignature/v1\ntime {stamp}\n{body}".encode())
            theirs = key.sign(f"cosignature/v1\ntime 1700000123\n{body}".encode())
            print("\u2014 w.test " + base64.b64encode(key_id + (1700000123).to_bytes(8, "big") + theirs).decode())
            """#
        let run = try Self.python(program, [body, ours])
        #expect(run.status == 0, "\(run.output)")
        let theirs = run.output.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(cosigner.key.verify(theirs, checkpointText: body) == 1_700_000_123)
        #expect(cosigner.key.verify(theirs, checkpointText: body.replacingOccurrences(of: "42", with: "43")) == nil)
    }

    /// Three witness processes, quorum 2, a controller's data directory worked by the command line: the
    /// published checkpoint, the trust file, verification against pinned keys, a bundle checked by Python —
    /// then the log truncated and re-signed by its operator is caught.
    @Test func publishedCheckpointsVerifyWithPinnedKeysAndPython() throws {
        let data = Self.scratch("wdata")
        defer { try? FileManager.default.removeItem(at: data) }
        for country in ["FR", "US", "IN"] {
            #expect(try Self.residency(["tenants", "create", "--plan", "paid", "--name", "T", "--country", country, "--data", data.path]).status == 0)
        }
        let log = try Self.residency(["ledger", "public-key", "--data", data.path]).output.trimmingCharacters(
            in: .whitespacesAndNewlines)
        var witnesses: [WitnessProcess] = []
        defer {
            for witness in witnesses {
                witness.stop()
                try? FileManager.default.removeItem(at: witness.data)
            }
        }
        for index in 0..<3 {
            witnesses.append(try WitnessProcess(data: Self.scratch("w\(index)"), log: log, name: "w\(index).test"))
        }
        var members: [String] = []
        for witness in witnesses {
            let key = try Self.residency(["witness", "public-key", "--data", witness.data.path]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            members.append(#"{"key": "\#(key)", "url": "\#(witness.url)"}"#)
        }
        try #"{"quorum": 2, "witnesses": [\#(members.joined(separator: ", "))]}"#.write(
            to: data.appendingPathComponent("witnesses.json"), atomically: true, encoding: .utf8)
        let checkpoint = try Self.residency(["ledger", "checkpoint", "--data", data.path])
        #expect(checkpoint.status == 0, "\(checkpoint.error)")
        #expect(checkpoint.output.components(separatedBy: "\n— ").count == 5, "\(checkpoint.output)")
        let trust = data.deletingLastPathComponent().appendingPathComponent("trust-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: trust) }
        try Self.residency(["ledger", "trust", "--data", data.path]).output.write(
            to: trust, atomically: true, encoding: .utf8)
        let verified = try Self.residency(["ledger", "verify", "--data", data.path, "--trust", trust.path])
        #expect(verified.status == 0, "\(verified.error)")
        // A bundle, checked by the project and by Python with no project code.
        let bundle = data.deletingLastPathComponent().appendingPathComponent("bundle-\(UUID()).json")
        defer { try? FileManager.default.removeItem(at: bundle) }
        let exported = try Self.residency(["ledger", "export-entry", "0,1,2", "--data", data.path])
        #expect(exported.status == 0, "\(exported.error)")
        try exported.output.write(to: bundle, atomically: true, encoding: .utf8)
        #expect(try Self.residency(["ledger", "verify-entry", "--bundle", bundle.path, "--trust", trust.path]).status == 0)
        let script = CLIRun.root.appendingPathComponent("Scripts/verify_bundle.py").path
        let checked = try Self.python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [script, bundle.path, trust.path])
        #expect(checked.status == 0, "\(checked.output)")
        try exported.output.replacingOccurrences(of: "\\\"FR\\\"", with: "\\\"DE\\\"").write(
            to: bundle, atomically: true, encoding: .utf8)
        #expect(try Self.python("import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')", [script, bundle.path, trust.path]).status != 0)
        // The operator truncates the log, removes the checkpoints past it and re-signs: the witnesses saw more.
        let database = data.appendingPathComponent("residency.sqlite3").path
        let size = Int(try Self.residency(["ledger", "verify", "--data", data.path]).output.split(separator: " ")[1]) ?? 0
        #expect(size >= 4)
        let sql = """
            DROP TRIGGER ledger_entries_no_delete; DROP TRIGGER ledger_checkpoints_no_delete;
            DROP TRIGGER ledger_published_no_delete; DROP TRIGGER ledger_nodes_no_delete;
            DELETE FROM ledger_entries WHERE idx >= 2; DELETE FROM ledger_nodes WHERE size > 2;
            DELETE FROM ledger_checkpoints; DELETE FROM ledger_published;
            """
        let edit = try Self.python(
            "import sqlite3, sys; c = sqlite3.connect(sys.argv[1]); c.executescript(sys.argv[2]); c.commit()",
            [database, sql])
        #expect(edit.status == 0, "\(edit.output)")
        let resigned = try Self.residency(["ledger", "checkpoint", "--data", data.path])
        #expect(resigned.status != 0, "the witnesses must refuse the shorter log: \(resigned.output)")
        let caught = try Self.residency(["ledger", "verify", "--data", data.path, "--trust", trust.path])
        #expect(caught.status == 1)
        #expect(caught.error.contains("entries were removed") || caught.error.contains("ever published"), "\(caught.error)")
    }

    /// SIGKILL just before and just after the witness renames its new state into place: after a restart it
    /// holds the old state or the new one, never something else.
    @Test(arguments: ["before-rename", "after-rename"])
    func aWitnessKilledMidUpdateHoldsTheOldOrTheNewState(moment: String) throws {
        let data = Self.scratch("wcrash")
        let witnessData = Self.scratch("wcrash-witness")
        defer {
            try? FileManager.default.removeItem(at: data)
            try? FileManager.default.removeItem(at: witnessData)
        }
        #expect(try Self.residency(["tenants", "create", "--plan", "paid", "--name", "T", "--country", "FR", "--data", data.path]).status == 0)
        let log = try Self.residency(["ledger", "public-key", "--data", data.path]).output.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let note = try Self.residency(["ledger", "checkpoint", "--data", data.path]).output
        let size = Int(note.split(separator: "\n")[1])!
        let crashing = try WitnessProcess(
            data: witnessData, log: log, name: "w.test", environment: ["RESIDENCY_FAULT": "witness:\(moment)"])
        let body = "old 0\n\n" + note
        let first = try Self.python(
            "import http.client, sys; c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10)\ntry:\n c.request('POST', '/add-checkpoint', body=sys.argv[2].encode()); print(c.getresponse().status)\nexcept Exception as e: print('no answer')",
            [String(crashing.port), body])
        crashing.process.waitUntilExit()
        #expect(crashing.process.terminationReason == .uncaughtSignal, "\(first.output)")
        #expect(first.output.contains("no answer"))
        let restarted = try WitnessProcess(data: witnessData, log: log, name: "w.test")
        defer { restarted.stop() }
        let second = try Self.python(
            "import http.client, sys; c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]), timeout=10); c.request('POST', '/add-checkpoint', body=sys.argv[2].encode()); r = c.getresponse(); print(r.status, r.read().decode().strip())",
            [String(restarted.port), body])
        if moment == "before-rename" {
            #expect(second.output.hasPrefix("200 — w.test"), "\(second.output)")  // the old state: nothing seen
        } else {
            #expect(second.output.hasPrefix("409 \(size)"), "\(second.output)")  // the new state
        }
    }
}

extension WitnessEndToEndTests {
    /// The real server with two witnesses, quorum 2: every signup is under a cosigned checkpoint moments after
    /// it is acknowledged (no unsigned tail); with a witness gone, entries are still written and /readyz and
    /// /metrics say publication waits; when it is back, publication catches up by itself.
    @Test func theServerPublishesEveryEntryAndSaysWhenItCannot() throws {
        let data = Self.scratch("wserve")
        try FileManager.default.createDirectory(
            at: data, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: data) }
        // The ledger key first, so the witnesses can be told which log they follow.
        #expect(try Self.residency(["tokens", "create", "--role", "admin", "--name", "boot", "--data", data.path]).status == 0)
        let log = try Self.residency(["ledger", "public-key", "--data", data.path]).output.trimmingCharacters(
            in: .whitespacesAndNewlines)
        var witnesses = [
            try WitnessProcess(data: Self.scratch("sw0"), log: log, name: "w0.test"),
            try WitnessProcess(data: Self.scratch("sw1"), log: log, name: "w1.test"),
        ]
        defer {
            for witness in witnesses {
                witness.stop()
                try? FileManager.default.removeItem(at: witness.data)
            }
        }
        var members: [String] = []
        for witness in witnesses {
            let key = try Self.residency(["witness", "public-key", "--data", witness.data.path]).output
                .trimmingCharacters(in: .whitespacesAndNewlines)
            members.append(#"{"key": "\#(key)", "url": "\#(witness.url)"}"#)
        }
        try #"{"quorum": 2, "witnesses": [\#(members.joined(separator: ", "))]}"#.write(
            to: data.appendingPathComponent("witnesses.json"), atomically: true, encoding: .utf8)
        let server = try ServerProcess(data: data)
        defer { _ = server.stop() }
        let token = try server.token(role: "admin", name: "ops")
        let program = #"""
            import http.client, json, os, sys, time
            port = int(os.environ["PORT"]); token = os.environ["TOKEN"]
            def call(method, path, body=None):
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                headers = {"Authorization": "Bearer " + token}
                if body is not None: headers["Content-Type"] = "application/json"; body = json.dumps(body)
                c.request(method, path, body=body, headers=headers); r = c.getresponse(); data = r.read(); c.close()
                return r.status, (json.loads(data) if data else None)
            waits = []
            mode = sys.argv[1]
            for i in range(5 if mode == "up" else 1):
                s, t = call("POST", "/v1/tenants", {"name": f"T{i}", "plan": "paid", "country": "FR"})
                assert s == 201, (s, t)
                start = time.time()
                # The ledger's size now, from the server's own count, then wait for a published checkpoint covering it.
                s, ready = call("GET", "/readyz")
                target = ready["ledger"]["signed_size"]
                while True:
                    s, cp = call("GET", "/v1/ledger/checkpoint")
                    if s == 200 and cp["size"] >= target and len(cp["cosigners"]) >= 2: break
                    if time.time() - start > (30 if mode == "up" else 3): break
                    time.sleep(0.01)
                waits.append(time.time() - start)
            # Publication is asynchronous: in "up" mode, give it time to report itself current (a loaded
            # machine can make one attempt time out); in "down" mode, give the signup's entry time to be signed
            # (until then signed and published sizes are equal and publication is current), then the waiting it
            # reports is the point.
            want = "current" if mode == "up" else "waiting for the witness quorum"
            deadline = time.time() + 30
            while True:
                s, ready = call("GET", "/readyz")
                if ready["ledger"]["publication"] == want or time.time() > deadline: break
                time.sleep(0.05)
            s2, cp = call("GET", "/v1/ledger/checkpoint")
            print(json.dumps({"waits": waits, "ready": ready, "checkpoint": cp}))
            """#
        let runUp = try server.python(program.replacingOccurrences(of: "mode = sys.argv[1]", with: "mode = 'up'"), token: token)
        let resultUp = try #require(try JSONSerialization.jsonObject(with: Data(runUp.utf8)) as? [String: Any])
        let checkpointUp = try #require(resultUp["checkpoint"] as? [String: Any])
        let readyUp = try #require((resultUp["ready"] as? [String: Any])?["ledger"] as? [String: Any])
        #expect(readyUp["publication"] as? String == "current", "\(readyUp)")
        #expect((checkpointUp["cosigners"] as? [String])?.count == 2)
        #expect((checkpointUp["size"] as? Int) == (readyUp["signed_size"] as? Int))
        // A witness gone: the signup still succeeds; publication waits and says so.
        witnesses[1].stop()
        let runDown = try server.python(program.replacingOccurrences(of: "mode = sys.argv[1]", with: "mode = 'down'"), token: token)
        let resultDown = try #require(try JSONSerialization.jsonObject(with: Data(runDown.utf8)) as? [String: Any])
        let readyDown = try #require((resultDown["ready"] as? [String: Any])?["ledger"] as? [String: Any])
        #expect(readyDown["publication"] as? String == "waiting for the witness quorum", "\(readyDown)")
        #expect((readyDown["published_size"] as? Int ?? 0) < (readyDown["signed_size"] as? Int ?? 0))
        // Back on the same port and state: publication catches up.
        let port = witnesses[1].port
        let restarted = try WitnessProcess(data: witnesses[1].data, log: log, name: "w1.test", listen: "127.0.0.1:\(port)")
        witnesses[1] = restarted
        let runBack = try server.python(program.replacingOccurrences(of: "mode = sys.argv[1]", with: "mode = 'up'"), token: token)
        let resultBack = try #require(try JSONSerialization.jsonObject(with: Data(runBack.utf8)) as? [String: Any])
        let readyBack = try #require((resultBack["ready"] as? [String: Any])?["ledger"] as? [String: Any])
        #expect(readyBack["publication"] as? String == "current", "\(readyBack)")
    }
}
