import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS
import Testing

@testable import ResidencyController

/// A regional service acts on a migration order only when it is the controller's, unaltered, unexpired, names
/// this region in the role it is used for, comes from the order's target (for the data) and its migration has
/// not ended here; each refusal is queued for the ledger.
extension RegionalServicesTests {
    func order(
        source: String = "eu", target: String = "uk", expiresIn: Int64 = 60_000, signer: TLSIdentity? = nil,
        migration: String = "mg_0193a2b4c5d6e7f8091a2b"
    ) throws -> (order: MigrationOrder, bytes: [UInt8]) {
        let now = time.clock.now()
        let order = MigrationOrder(
            migration: migration, tenant: "tn_0193a2b4c5d6e7f8091a2b",
            source: .init(region: source, site: source, endpoint: "https://127.0.0.1:9101", pin: Self.pin("source")),
            target: .init(region: target, site: target, endpoint: "https://127.0.0.1:9102", pin: Self.pin("target")),
            issuedAt: now, expiresAt: now + expiresIn, nonce: SecureRandom.hex(16))
        let signed = SignedMigrationOrder(
            order: order, signature: try (signer ?? identity).signature(for: order.signedMessage))
        return (order, signed.jsonValue.encodedBytes())
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

    @Test func aMigrationOrderIsReadStrictly() throws {
        let (order, bytes) = try self.order()
        let parsed = try SignedMigrationOrder(parsing: bytes)
        #expect(parsed.order == order)
        #expect(parsed.isSigned(by: Ed25519PublicKey(rawValue: identity.publicKey)))
        // One more field, a missing one, a bad tenant id, too many bytes: each refused with what is accepted.
        let text = String(decoding: bytes, as: UTF8.self)
        for bad in [
            text.replacingOccurrences(of: "\"nonce\":", with: "\"extra\":1,\"nonce\":"),
            text.replacingOccurrences(of: ",\"tenant\":\"tn_0193a2b4c5d6e7f8091a2b\"", with: ""),
            text.replacingOccurrences(of: "tn_0193a2b4c5d6e7f8091a2b", with: "../../etc"),
            text + String(repeating: " ", count: 9000),
        ] {
            #expect(bad != text)
            #expect(throws: RegionEnrolmentError.self) { _ = try SignedMigrationOrder(parsing: Array(bad.utf8)) }
        }
        // Altered after signing: it parses, but the signature no longer holds.
        let altered = try SignedMigrationOrder(
            parsing: Array(text.replacingOccurrences(of: "\"region\":\"uk\"", with: "\"region\":\"us\"").utf8))
        #expect(altered.order.target.region == "us")
        #expect(!altered.isSigned(by: Ed25519PublicKey(rawValue: identity.publicKey)))
    }

    /// A pull's order outlives the transfer of its bytes at 1 MiB/s; small ones keep the usual 30 minutes.
    @Test func anOrderForALargePullLastsAsLongAsTheBytesNeed() {
        #expect(MigrationOrder.lifetime(forBytes: 0) == MigrationOrder.lifetime)
        #expect(MigrationOrder.lifetime(forBytes: 1 << 30) == MigrationOrder.lifetime)
        #expect(MigrationOrder.lifetime(forBytes: 100 << 30) == 102_400 * 1000)
        #expect(MigrationOrder.lifetime(forBytes: -5) == MigrationOrder.lifetime)
    }

    @Test func aServiceRefusesAndRecordsEveryOrderItWasNotGiven() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let eu = try node("eu")
        let id = "mg_0193a2b4c5d6e7f8091a2b"
        // Expired.
        let expired = try order(expiresIn: -1)
        #expect(refusedCode { try eu.freeze(order: expired.bytes, migration: id) } == "order_expired")
        // Signed by another key (a forgery, or an order altered and signed again by someone else).
        let forged = try order(signer: try TLSIdentity.generate(name: "residency-controller"))
        #expect(refusedCode { try eu.prepareSnapshot(order: forged.bytes, migration: id) } == "order_not_signed")
        // For another migration than the route names.
        let valid = try order()
        #expect(
            refusedCode { try eu.prepareSnapshot(order: valid.bytes, migration: "mg_0193a2b4c5d6e7f8091a2c") }
                == "order_mismatch")
        // eu is the source here: as a target it refuses (an order not naming it for that role).
        #expect(refusedCode { try eu.pull(order: valid.bytes, migration: id) } == "order_not_for_this_region")
        // The data goes to the order's target only: a caller with another key is refused.
        #expect(
            refusedCode {
                try eu.snapshotDescription(order: valid.bytes, migration: id, caller: Self.pin("another region"))
            } == "order_wrong_peer")
        // Garbage: refused, bounded.
        #expect(
            refusedCode { try eu.freeze(order: Array(repeating: 65, count: 100_000), migration: id) }
                == "order_malformed")
        // Once the migration ended here (a release after a rollback), a replay is refused; the release repeats.
        _ = try eu.release(order: valid.bytes, migration: id)
        _ = try eu.release(order: valid.bytes, migration: id)
        #expect(refusedCode { try eu.prepareSnapshot(order: valid.bytes, migration: id) } == "order_ended")
        let events = try eu.events(after: 0, limit: 100).filter {
            $0.kind == LedgerKind.regionMigrationOrderRefused.rawValue
        }
        #expect(events.count == 7)
        for code in [
            "order_expired", "order_not_signed", "order_mismatch", "order_not_for_this_region", "order_wrong_peer",
            "order_malformed", "order_ended",
        ] {
            #expect(events.contains { $0.body.contains("\"code\":\"\(code)\"") }, "\(code)")
        }
    }

    /// A peer presenting bad orders in a loop cannot fill the outbox (and so the ledger): past its budget its
    /// refusals are counted in a durable tally, shown by the health call, and queued as one event per code once
    /// the window ends — every refusal counted, none lost. Another presenter keeps its own budget.
    @Test func refusalsPastAPresentersBudgetAreTalliedThenRecordedAsOne() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let eu = try node("eu")
        let id = "mg_0193a2b4c5d6e7f8091a2b"
        let valid = try order()
        let budget = RegionNode.orderRefusalBudget
        let hostile = Self.pin("another region")
        for _ in 0..<(budget.events + 30) {
            #expect(
                refusedCode { try eu.snapshotDescription(order: valid.bytes, migration: id, caller: hostile) }
                    == "order_wrong_peer")
        }
        #expect(refusedCode { try eu.freeze(order: try order(expiresIn: -1).bytes, migration: id) } == "order_expired")
        func refusals() throws -> [RegionStore.Event] {
            try eu.events(after: 0, limit: 1000).filter { $0.kind == LedgerKind.regionMigrationOrderRefused.rawValue }
        }
        #expect(try refusals().count == budget.events + 1)
        #expect(eu.health(version: "test")["order_refusals_tallied"] == .integer(30))
        // Still inside the window: the tally waits.
        time.advance(hours: 0, milliseconds: budget.window - 1)
        #expect(try refusals().count == budget.events + 1)
        time.advance(hours: 0, milliseconds: 1)
        let recorded = try refusals()
        #expect(recorded.count == budget.events + 2)
        let summary = try #require(recorded.last)
        #expect(summary.body.contains("\"coalesced\":30"))
        #expect(summary.body.contains("\"code\":\"order_wrong_peer\""))
        #expect(summary.body.contains("\"presented_by\":\"\(hostile)\""))
        #expect(eu.health(version: "test")["order_refusals_tallied"] == .integer(0))
        // A new window: the presenter's refusals are queued one by one again.
        _ = refusedCode { try eu.snapshotDescription(order: valid.bytes, migration: id, caller: hostile) }
        #expect(try refusals().count == budget.events + 3)
    }
}
