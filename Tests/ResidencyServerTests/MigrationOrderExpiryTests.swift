import Foundation
import ResidencyCore
import ResidencyTLS
import Synchronization
import Testing

@testable import ResidencyController
@testable import ResidencyServer

#if canImport(Glibc)
    import Glibc
#endif

/// A migration order is checked when a transfer starts, not while its bytes flow: a slow pull whose order
/// expires in the middle still completes; a pull cut in the middle is not resumed under its expired order (the
/// target refuses it and records the refusal) but is resumed — from the bytes already received, not from zero
/// — under the fresh order the controller signs for the next attempt. Two services in process, the source behind
/// a real TLS listener, a relay between them that holds or cuts the snapshot's stream, and one clock both
/// services read, moved by the test.
@Suite struct MigrationOrderExpiryTests {
    final class TestClock: Sendable {
        let now = Mutex<Int64>(1_800_000_000_000)
        var clock: Clock { Clock { [self] in now.withLock { $0 } } }
        func advance(milliseconds: Int64) { now.withLock { $0 += milliseconds } }
    }

    static let tenant = "tn_0193a2b4c5d6e7f8091a2b"
    static let lifetime: Int64 = 60_000

    let time = TestClock()
    let controller: TLSIdentity
    let scratch: URL

    init() throws {
        controller = try TLSIdentity.generate(name: "residency-controller")
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("residency-expiry-\(UUID().uuidString)")
    }

    func node(_ region: String) throws -> (node: RegionNode, identity: TLSIdentity) {
        let directory = scratch.appendingPathComponent(region)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let identity = try TLSIdentity.generate(name: "residency-region-\(region)")
        let node = try RegionNode(
            configuration: RegionNodeConfiguration(
                region: region, site: region, controllerURL: "http://127.0.0.1:1", controllerKey: controller.publicKey,
                enrolledAt: 0),
            dataDirectory: directory, identity: identity, clock: time.clock)
        return (node, identity)
    }

    /// An order for migration `id` from uk (reached at `endpoint`) to eu, signed by the controller now.
    func order(_ id: String, source: TLSIdentity, target: TLSIdentity, endpoint: String) throws -> [UInt8] {
        let now = time.clock.now()
        let order = MigrationOrder(
            migration: id, tenant: Self.tenant,
            source: .init(region: "uk", site: "uk", endpoint: endpoint, pin: source.pin),
            target: .init(region: "eu", site: "eu", endpoint: "https://127.0.0.1:9", pin: target.pin),
            issuedAt: now, expiresAt: now + Self.lifetime, nonce: SecureRandom.hex(16))
        return SignedMigrationOrder(order: order, signature: try controller.signature(for: order.signedMessage))
            .jsonValue.encodedBytes()
    }

    func refusedCode(_ body: () throws -> Any) -> String? {
        do {
            _ = try body()
            return nil
        } catch RegionNode.Refusal.orderRefused(let code, _) {
            return code
        } catch {
            return "other: \(error)"
        }
    }

    @Test func anOrderExpiringMidTransferNeitherCutsTheStreamNorResumesIt() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let (uk, ukIdentity) = try node("uk")
        let (eu, euIdentity) = try node("eu")
        // The tenant lives at uk, with 16 MiB of documents; eu knows it is uk's.
        let assignment = TenantAssignment(
            tenant: Self.tenant, region: "uk", site: "uk", endpoint: "https://127.0.0.1:9", status: .active, epoch: 1,
            policyVersion: "test", issuedAt: time.clock.now())
        let signed = SignedAssignment(
            assignment: assignment, signature: try controller.signature(for: assignment.signedMessage)
        ).jsonValue.encodedBytes()
        #expect(try uk.accept(assignment: signed) == .stored)
        #expect(try eu.accept(assignment: signed) == .stored)
        for index in 0..<16 {
            try uk.put(
                tenant: Self.tenant,
                TenantRecord(
                    collection: .documents, key: "doc-\(index)",
                    values: [
                        "name": .text("doc-\(index).bin"), "content_type": .text("application/octet-stream"),
                        "body": .bytes((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ index) }),
                    ], updatedAt: time.clock.now()))
        }
        try uk.replacePeers([(pin: euIdentity.pin, region: "eu", endpoint: "https://127.0.0.1:9")])

        // The source service behind mutual TLS (the controller's key and eu's pinned), and the relay before it.
        let controllerPin = try #require(TLSIdentity.pin(ofEd25519: controller.publicKey))
        var configuration = HTTPServer.Configuration(address: try ListenAddress(parsing: "127.0.0.1:0"))
        let tls = try TLSContext(mutual: ukIdentity, pinned: [controllerPin, euIdentity.pin], client: false)
        configuration.tls = tls
        let application = RegionApplication(node: uk, version: "test", tls: tls, basePins: [controllerPin]) { _ in }
        let server = try HTTPServer(
            configuration: configuration, handler: { application.respond(to: $0) },
            rejecter: { application.rejection(status: $0, message: $1) })
        Thread.detachNewThread { server.run() }
        defer { server.shutdown() }
        let relay = try HoldingRelay(upstreamPort: server.port)
        defer { relay.stop() }
        let endpoint = "https://127.0.0.1:\(relay.port)"
        let copy = scratch.appendingPathComponent("eu/regions/eu/tenants/\(Self.tenant).sqlite3").path

        // 1. The stream is held after its first MiB; meanwhile the order expires (a new step under it is now
        // refused at the source); released, the same transfer completes and the copy is the source's bytes.
        let first = "mg_0193a2b4c5d6e7f8091a01"
        let slow = try order(first, source: ukIdentity, target: euIdentity, endpoint: endpoint)
        let prepared = try uk.prepareSnapshot(order: slow, migration: first, hash: true)
        guard case .number(let bytes)? = prepared["bytes"], let snapshotSize = bytes.int64Value else {
            Issue.record("the snapshot's description has no size: \(prepared.encoded())")
            return
        }
        #expect(snapshotSize > 16 << 20)
        relay.behaviour.withLock { $0 = .hold(after: 1 << 20) }
        let outcome = Outcome()
        let finished = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let result: Result<JSONValue, RegionNode.Refusal>
            do throws(RegionNode.Refusal) {
                result = .success(try eu.pull(order: slow, migration: first))
            } catch {
                result = .failure(error)
            }
            outcome.value.withLock { $0 = result }
            finished.signal()
        }
        #expect(relay.held.wait(timeout: .now() + 60) == .success, "the stream never reached the relay's hold")
        time.advance(milliseconds: Self.lifetime + 1)
        #expect(
            refusedCode { try uk.snapshotDescription(order: slow, migration: first, caller: euIdentity.pin) }
                == "order_expired")
        #expect(outcome.value.withLock { $0 } == nil, "the pull ended while its stream was held")
        relay.release.signal()
        #expect(finished.wait(timeout: .now() + 60) == .success)
        let pulled = try #require(try outcome.value.withLock { $0 }?.get())
        #expect(pulled["content"] == prepared["content"])
        #expect(FileManager.default.fileExists(atPath: copy))
        // Rolled back on both sides under fresh orders, for the second migration of the same tenant.
        _ = try eu.discard(order: try order(first, source: ukIdentity, target: euIdentity, endpoint: endpoint), migration: first)
        _ = try uk.release(order: try order(first, source: ukIdentity, target: euIdentity, endpoint: endpoint), migration: first)
        #expect(!FileManager.default.fileExists(atPath: copy))

        // 2. The stream is cut after its first MiB: the partial file stays at eu.
        let second = "mg_0193a2b4c5d6e7f8091a02"
        let cutOrder = try order(second, source: ukIdentity, target: euIdentity, endpoint: endpoint)
        let source = try uk.prepareSnapshot(order: cutOrder, migration: second, hash: true)
        relay.behaviour.withLock { $0 = .cut(after: 2 << 20) }
        do {
            _ = try eu.pull(order: cutOrder, migration: second)
            Issue.record("a pull whose stream was cut succeeded")
        } catch RegionNode.Refusal.peerUnavailable {
        } catch {
            Issue.record("a cut stream is reported as the peer unavailable, not \(error)")
        }
        let partial = scratch.appendingPathComponent("eu/migrations/\(second).incoming").path
        let received = try #require(try FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int64)
        #expect(received >= 1 << 20 && received < snapshotSize)
        // The order expires before the next attempt: the target refuses to act on it, and records it.
        time.advance(milliseconds: Self.lifetime + 1)
        relay.behaviour.withLock { $0 = .pass }
        #expect(refusedCode { try eu.pull(order: cutOrder, migration: second) } == "order_expired")
        #expect(
            try eu.events(after: 0, limit: 100).contains {
                $0.kind == LedgerKind.regionMigrationOrderRefused.rawValue && $0.body.contains("\"order_expired\"")
            })
        // Under a fresh order the pull resumes from the partial file: the source sends less than the whole
        // snapshot (a pull from zero would send all of it and more, with TLS's framing).
        let before = relay.answered.withLock { $0.count }
        #expect(before >= 3)
        let fresh = try order(second, source: ukIdentity, target: euIdentity, endpoint: endpoint)
        let resumed = try eu.pull(order: fresh, migration: second)
        #expect(resumed["content"] == source["content"])
        #expect(resumed["content"] == prepared["content"])
        // Every byte the target received went through the relay, counted as it passed.
        let sent = relay.answered.withLock { Array($0[before...]) }
        #expect(!sent.isEmpty)
        #expect(sent.reduce(0, +) > 0 && sent.reduce(0, +) < snapshotSize)
        #expect(FileManager.default.fileExists(atPath: copy))
        #expect(!FileManager.default.fileExists(atPath: partial))
    }
}

/// The pull's result, handed from its thread.
final class Outcome: Sendable {
    let value = Mutex<Result<JSONValue, RegionNode.Refusal>?>(nil)
}

/// A TCP relay for the test: copies bytes both ways between each accepted connection and a new one to the
/// upstream port; once a connection's answer (upstream to client) passes a threshold, it either holds that
/// direction until `release` is signalled, or cuts the connection. Counts each connection's answer bytes as
/// they pass.
final class HoldingRelay: @unchecked Sendable {
    enum Behaviour: Sendable { case pass, hold(after: Int), cut(after: Int) }

    let port: UInt16
    let behaviour = Mutex<Behaviour>(.pass)
    /// Signalled when a connection is held; signal `release` to let it go on.
    let held = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    /// Each connection's answer bytes so far, in the order the connections were accepted.
    let answered = Mutex<[Int]>([])
    private let listener: Int32
    private let upstreamPort: UInt16

    init(upstreamPort: UInt16) throws {
        self.upstreamPort = upstreamPort
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard listener >= 0, bound == 0, listen(listener, 16) == 0 else {
            throw FixtureError("relay: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        self.listener = listener
        port = UInt16(bigEndian: address.sin_port)
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
    }

    static func loopback(port: UInt16) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else { return }
            let upstream = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: upstreamPort)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(upstream, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            guard connected == 0 else {
                close(client)
                close(upstream)
                continue
            }
            let index = answered.withLock {
                $0.append(0)
                return $0.count - 1
            }
            let done = DispatchGroup()
            done.enter()
            Thread.detachNewThread { [self] in
                copy(from: client, to: upstream, counted: nil)
                done.leave()
            }
            Thread.detachNewThread { [self] in
                copy(from: upstream, to: client, counted: index)
                done.wait()
                close(client)
                close(upstream)
            }
        }
    }

    /// Copies until the reader ends (then ends the writer's side); an answer's bytes are counted at `counted`.
    private func copy(from reader: Int32, to writer: Int32, counted: Int?) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        var total = 0
        var acted = false
        while true {
            let count = buffer.withUnsafeMutableBytes { read(reader, $0.baseAddress, $0.count) }
            if count <= 0 { break }
            // Counted before it is passed on: once the client has a byte, the count includes it.
            if let counted { answered.withLock { $0[counted] += count } }
            var sent = 0
            while sent < count {
                let wrote = buffer.withUnsafeBytes { send(writer, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
                if wrote <= 0 { return }
                sent += wrote
            }
            total += count
            guard counted != nil, !acted else { continue }
            switch behaviour.withLock({ $0 }) {
            case .pass: break
            case .hold(let threshold) where total >= threshold:
                acted = true
                held.signal()
                release.wait()
            case .cut(let threshold) where total >= threshold:
                shutdown(reader, Int32(SHUT_RDWR))
                shutdown(writer, Int32(SHUT_RDWR))
                return
            default: break
            }
        }
        shutdown(writer, Int32(SHUT_WR))
    }
}
