import Foundation
import Testing

/// The controller's API over TLS 1.3 (`serve --tls-cert --tls-key`), handled in the event loop through memory
/// BIOs, driven by real clients: curl for HTTPS with keep-alive and large bodies, OpenSSL's own client for the
/// protocol versions, and a plain-HTTP client that must get nothing.
@Suite(.serialized) struct TLSEndToEndTests {
    final class Certificate {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("residency-tls-\(UUID())")
        var certificate: String { directory.appendingPathComponent("cert.pem").path }
        var key: String { directory.appendingPathComponent("key.pem").path }

        init(keyType: String = "ed25519") throws {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let made = try TLSEndToEndTests.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", keyType, "-nodes", "-keyout", key, "-out", certificate, "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                ])
            guard made.status == 0 else { throw FixtureFailure("openssl req failed: \(made.output)") }
        }

        deinit { try? FileManager.default.removeItem(at: directory) }
    }

    static func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> (status: Int32, output: String) {
        guard FileManager.default.isExecutableFile(atPath: tool) else {
            throw FixtureFailure("\(tool) is not installed (.ci/run installs it)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let stdin = Pipe()
        process.standardInput = stdin
        try process.run()
        if let input { stdin.fileHandleForWriting.write(Data(input.utf8)) }
        try stdin.fileHandleForWriting.close()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    @Test func httpsWithKeepAliveLargeBodiesAndOnlyTLS13() throws {
        let certificate = try Certificate()
        let server = try ServerProcess(extraArguments: ["--tls-cert", certificate.certificate, "--tls-key", certificate.key])
        defer { #expect(server.stop() == 0) }
        let token = try server.token(role: "admin", name: "ops")
        let base = "https://127.0.0.1:\(server.port)"
        // Several requests on one connection, a signup, and a 600 KB body refused by the API as too large a
        // record, all through TLS.
        let many = try Self.run(
            "/usr/bin/curl",
            ["-sS", "--cacert", certificate.certificate, "-w", "%{http_code} %{num_connects}\\n"]
                + (0..<20).flatMap { _ in ["-o", "/dev/null", "\(base)/healthz"] })
        #expect(many.status == 0, "\(many.output)")
        let lines = many.output.split(separator: "\n")
        #expect(lines.count == 20 && lines.allSatisfy { $0.hasPrefix("200") }, "\(many.output)")
        #expect(lines.filter { $0.hasSuffix(" 1") }.count == 1, "one connection for all: \(many.output)")
        let signup = try Self.run(
            "/usr/bin/curl",
            [
                "-sS", "--cacert", certificate.certificate, "-H", "Authorization: Bearer \(token)", "-H",
                "Content-Type: application/json", "-d", #"{"name": "TLS Ltd", "plan": "paid", "country": "FR"}"#,
                "\(base)/v1/tenants",
            ])
        #expect(signup.output.contains("\"tenant\""), "\(signup.output)")
        // Over TLS the console's session cookie is Secure as well as HttpOnly and SameSite=Strict.
        let console = try Self.run(
            "/usr/bin/curl",
            ["-sS", "-i", "--cacert", certificate.certificate, "--data-urlencode", "token=\(token)", "\(base)/console/sign-in"])
        #expect(console.output.contains("Set-Cookie: residency_session=") && console.output.contains("; Secure"), "\(console.output.prefix(400))")
        let big = String(repeating: "x", count: 600_000)
        let large = try Self.run(
            "/usr/bin/curl",
            [
                "-sS", "--cacert", certificate.certificate, "-H", "Authorization: Bearer \(token)", "-H",
                "Content-Type: application/json", "-w", "\\n%{http_code}", "--data-binary", "@-",
                "\(base)/v1/placements",
            ], input: #"{"ip": "81.2.69.160", "plan": "paid", "pad": ""# + big + #""}"#)
        #expect(large.output.hasSuffix("\n400") || large.output.hasSuffix("\n422"), "\(large.output.suffix(300))")
        // TLS 1.2 is refused at the handshake; TLS 1.3 with OpenSSL's client works.
        let old = try Self.run(
            "/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_2"], input: "")
        #expect(old.status != 0, "\(old.output.suffix(400))")
        let current = try Self.run(
            "/usr/bin/openssl",
            ["s_client", "-connect", "127.0.0.1:\(server.port)", "-tls1_3", "-CAfile", certificate.certificate, "-quiet"],
            input: "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        #expect(current.output.contains("HTTP/1.1 200 OK") && current.output.contains(#"{"status":"ok"}"#), "\(current.output)")
        // Plain HTTP on the TLS port gets no HTTP answer.
        let plain = try Self.run("/usr/bin/curl", ["-sS", "-m", "5", "http://127.0.0.1:\(server.port)/healthz"])
        #expect(plain.status != 0 && !plain.output.contains("status"), "\(plain.output)")
    }

    @Test func badCertificateFilesAreClearErrors() throws {
        let certificate = try Certificate()
        let other = try Certificate()
        let binary = ServerProcess.binary.path
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("residency-tlsbad-\(UUID())").path
        defer { try? FileManager.default.removeItem(atPath: data) }
        let cases: [([String], String)] = [
            (["--tls-cert", "/nonexistent.pem", "--tls-key", certificate.key], "does not exist"),
            (["--tls-cert", certificate.certificate, "--tls-key", other.key], "does not belong to the certificate"),
            (["--tls-cert", certificate.key, "--tls-key", certificate.key], "is not a PEM certificate"),
            (["--tls-cert", certificate.certificate], "go together"),
        ]
        for (arguments, message) in cases {
            let run = try Self.run(binary, ["serve", "--listen", "127.0.0.1:0", "--data", data] + arguments)
            #expect(run.status != 0)
            #expect(run.output.contains(message), "\(arguments): \(run.output)")
        }
    }
}
