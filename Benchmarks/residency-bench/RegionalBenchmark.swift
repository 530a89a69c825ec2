import Foundation
import ResidencyTLS

/// Tenant data requests on persistent connections, as fast as `--connections` clients can send them one after
/// another: against the controller's API over plain HTTP (the embedded default, `--token`) or against a regional
/// service over mutual TLS (`--identity` and `--pin`). The same client code both ways, so the figures compare
/// the servers and TLS, not two clients.
enum RegionalBenchmark {
    static func run(option: (String) -> String?) -> Int32 {
        guard let url = option("url"), let tenant = option("tenant"),
            let parts = PeerHTTPClient.parse(url)
        else {
            FileHandle.standardError.write(Data("usage: residency-bench regional --url URL --tenant ID [--token T | --identity DIR --pin PIN] [--mode read|write] [--seconds S] [--connections N]\n".utf8))
            return 64
        }
        let seconds = Double(option("seconds") ?? "5") ?? 5
        let connections = Int(option("connections") ?? "8") ?? 8
        let mode = option("mode") ?? "read"
        var context: TLSContext?
        if parts.secure {
            guard let directory = option("identity"), let pin = option("pin") else {
                FileHandle.standardError.write(Data("https needs --identity DIR and --pin PIN\n".utf8))
                return 64
            }
            do {
                let identity = try TLSIdentity.load(
                    key: directory + "/identity/" + TLSIdentity.keyFileName,
                    certificate: directory + "/identity/" + TLSIdentity.certificateFileName)
                context = try TLSContext(mutual: identity, pinned: [pin], client: true)
            } catch {
                FileHandle.standardError.write(Data("\(error)\n".utf8))
                return 1
            }
        }
        let authorization = option("token").map { "Authorization: Bearer \($0)\r\n" } ?? ""
        let tally = Tally()
        let deadline = Date().addingTimeInterval(seconds)
        let group = DispatchGroup()
        let shared = context
        for worker in 0..<connections {
            group.enter()
            Thread.detachNewThread {
                defer { group.leave() }
                guard let client = try? TLSClient(host: parts.host, port: parts.port, context: shared, timeout: 10) else {
                    tally.add(failure: 1)
                    return
                }
                var sequence = 0
                while Date() < deadline {
                    let key = "w\(worker)-\(sequence % 100)"
                    sequence += 1
                    let request: String
                    if mode == "write" {
                        let body = #"{"name":"Alice \#(sequence)","email":"alice@example.com"}"#
                        request =
                            "PUT /v1/tenants/\(tenant)/data/contacts/\(key) HTTP/1.1\r\nHost: bench\r\n\(authorization)Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)"
                    } else {
                        request = "GET /v1/tenants/\(tenant)/data/contacts/seed HTTP/1.1\r\nHost: bench\r\n\(authorization)\r\n"
                    }
                    do {
                        try client.send(Array(request.utf8))
                        let bytes = try client.receive { Self.answerLength($0) != nil }
                        guard let length = Self.answerLength(bytes) else { break }
                        if bytes.starts(with: Array("HTTP/1.1 200".utf8)) { tally.add(success: 1) } else { tally.add(failure: 1) }
                        client.consume(length)
                    } catch {
                        tally.add(failure: 1)
                        break
                    }
                }
            }
        }
        group.wait()
        let (total, failed) = tally.totals
        print("regional_\(mode)_requests_per_second \(Int(Double(total) / seconds)) requests/s")
        print("regional_\(mode)_failures \(failed) requests")
        return failed > total / 100 ? 1 : 0
    }

    /// Answers and failures of every worker.
    final class Tally: @unchecked Sendable {
        private let lock = NSLock()
        private var successes = 0
        private var failures = 0
        func add(success: Int = 0, failure: Int = 0) {
            lock.lock()
            successes += success
            failures += failure
            lock.unlock()
        }
        var totals: (Int, Int) {
            lock.lock()
            defer { lock.unlock() }
            return (successes, failures)
        }
    }

    /// The length of the first whole answer in `bytes` (head and Content-Length body), or nil.
    static func answerLength(_ bytes: [UInt8]) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var end = -1
        for index in 0...(bytes.count - 4)
        where bytes[index] == 13 && bytes[index + 1] == 10 && bytes[index + 2] == 13 && bytes[index + 3] == 10 {
            end = index
            break
        }
        guard end >= 0 else { return nil }
        let head = String(decoding: bytes[..<end], as: UTF8.self).lowercased()
        guard let range = head.range(of: "content-length:") else { return end + 4 }
        let digits = head[range.upperBound...].prefix { $0 == " " || $0.isNumber }.trimmingCharacters(in: .whitespaces)
        guard let length = Int(digits), bytes.count >= end + 4 + length else { return nil }
        return end + 4 + length
    }
}
