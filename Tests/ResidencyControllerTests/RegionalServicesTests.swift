import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS
import Testing

@testable import ResidencyController

/// Enrolment and assignments without sockets: the join code is spent once and binds the key that joined; a
/// regional service's node takes only the controller's signed, newest assignments and serves only its own
/// region's active tenants.
@Suite struct RegionalServicesTests {
    let controller: Controller
    let regional: RegionalServices
    let time = TestClock()
    let identity: TLSIdentity
    let scratch: URL

    init() throws {
        let policies = try PolicySet.load(
            regions: AccessExpiryTests.root.appendingPathComponent("Regions"),
            policies: AccessExpiryTests.root.appendingPathComponent("Policies"))
        identity = try TLSIdentity.generate(name: "residency-controller")
        controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(inMemory: ()), clock: time.clock,
            identity: identity)
        regional = controller.regional!
        scratch = FileManager.default.temporaryDirectory.appendingPathComponent("residency-regional-\(UUID().uuidString)")
    }

    func ledgerKinds() throws -> [String] {
        try controller.ledger.entries(from: 0, to: try controller.ledger.size()).compactMap { entry in
            if case .string(let kind)? = try JSONParser.parse(entry.entry)["kind"] { return kind }
            return nil
        }
    }

    func code(_ region: String = "eu") throws -> JoinCode {
        try regional.enroll(region: region, endpoint: "https://127.0.0.1:9101", site: nil, actor: "op").code
    }

    @Test func aJoinCodeIsSpentOnceAndBindsTheKeyThatJoined() throws {
        let code = try code()
        #expect(code.controllerKey == identity.publicKey)
        // A wrong proof (another code's) is refused and leaves the code open.
        let stranger = JoinCode.generate(controllerKey: identity.publicKey)
        #expect(throws: ControllerError.self) {
            _ = try regional.join(region: "eu", pin: Self.pin("a"), proof: stranger.proof(region: "eu", pin: Self.pin("a")))
        }
        // A proof for another key than the one presented: refused.
        #expect(throws: ControllerError.self) {
            _ = try regional.join(region: "eu", pin: Self.pin("a"), proof: code.proof(region: "eu", pin: Self.pin("b")))
        }
        let joined = try regional.join(region: "eu", pin: Self.pin("a"), proof: code.proof(region: "eu", pin: Self.pin("a")))
        #expect(joined.controllerKey == identity.publicKey && joined.site == "eu-ie-dublin")
        #expect(try regional.joinedService(region: "eu")?.pin == Self.pin("a"))
        // The same code again: spent.
        do {
            _ = try regional.join(region: "eu", pin: Self.pin("a"), proof: code.proof(region: "eu", pin: Self.pin("a")))
            Issue.record("a spent code was accepted")
        } catch let ControllerError.refused(code, message, _) {
            #expect(code == "join_refused" && message.contains("already used"))
        }
        // A new enrolment and a new key: a rotation, with the previous pin on record.
        let again = try self.code()
        _ = try regional.join(region: "eu", pin: Self.pin("b"), proof: again.proof(region: "eu", pin: Self.pin("b")))
        #expect(try regional.joinedService(region: "eu")?.pin == Self.pin("b"))
        let kinds = try ledgerKinds()
        #expect(kinds.filter { $0.hasPrefix("region.") } == [
            "region.enrolment_opened", "region.enrolled", "region.enrolment_opened", "region.key_rotated",
        ])
        #expect(try controller.ledger.verify().isValid)
    }

    /// Placement passes over a region whose service has failed for `unreachableAfter` and comes back to it once
    /// the service answers. With no service failing the placement path looks nothing up (a count of failing
    /// regions says so); this holds that the count follows the failures both ways, so the fast path never hides
    /// an unreachable region.
    @Test func anUnreachableServiceStillChangesPlacement() throws {
        let british = PlacementRequest(declaredCountry: CountryCode("GB"))
        #expect(controller.directory.place(british).region == "uk")
        regional.recordFailure(region: "uk")
        time.advance(hours: 0, milliseconds: RegionalServices.unreachableAfter - 1)
        #expect(regional.unreachableRegions.isEmpty)
        #expect(controller.directory.place(british).region == "uk")
        time.advance(hours: 0, milliseconds: 1)
        // A second failure neither restarts the clock nor counts the region twice.
        regional.recordFailure(region: "uk")
        #expect(regional.unreachableRegions == ["uk"])
        let passedOver = controller.directory.place(british)
        #expect(passedOver.region == "eu")
        #expect(passedOver.reasons.contains(.regionUnavailable(region: "uk", why: .serviceUnreachable)))
        // Another region failing and answering again leaves uk as it was.
        regional.recordFailure(region: "eu")
        regional.recordAnswer(region: "eu")
        #expect(regional.unreachableRegions == ["uk"])
        #expect(controller.directory.place(british).region == "eu")
        regional.recordAnswer(region: "uk")
        #expect(regional.unreachableRegions.isEmpty)
        #expect(controller.directory.place(british).region == "uk")
        // An answer from a region never failing does not take the count below zero: the next failure still counts.
        regional.recordAnswer(region: "us")
        regional.recordFailure(region: "uk")
        time.advance(hours: 0, milliseconds: RegionalServices.unreachableAfter)
        #expect(controller.directory.place(british).region == "eu")
    }

    static func pin(_ seed: String) -> String { Data(SHA256.hash(Array(seed.utf8)).bytes).base64EncodedString() }

    @Test func anExpiredCodeIsRefused() throws {
        let code = try code()
        time.advance(hours: 0, milliseconds: RegionalServices.joinCodeLifetime + 1)
        do {
            _ = try regional.join(region: "eu", pin: Self.pin("a"), proof: code.proof(region: "eu", pin: Self.pin("a")))
            Issue.record("an expired code was accepted")
        } catch let ControllerError.refused(_, message, _) {
            #expect(message.contains("expired"))
        }
        #expect(try regional.joinedService(region: "eu") == nil)
    }

    @Test func enrolmentChecksItsInput() throws {
        for (region, endpoint, site, field) in [
            ("mars", "https://127.0.0.1:1", nil, "region"), ("eu", "http://127.0.0.1:1", nil, "endpoint"),
            ("eu", "https://127.0.0.1", nil, "endpoint"), ("eu", "https://127.0.0.1:1", "us-ashburn", "site"),
        ] as [(String, String, String?, String)] {
            do {
                _ = try regional.enroll(region: region, endpoint: endpoint, site: site, actor: "op")
                Issue.record("\(region) \(endpoint) accepted")
            } catch let ControllerError.invalidField(found, message) {
                #expect(found == field && message.contains("accepted"), "\(message)")
            }
        }
        #expect(try regional.services().isEmpty)
        #expect(throws: ControllerError.self) { try regional.join(region: "eu", pin: "short", proof: []) }
    }

    @Test func removingAServiceThatHoldsTenantsIsRefused() throws {
        let code = try code()
        _ = try regional.join(region: "eu", pin: Self.pin("a"), proof: code.proof(region: "eu", pin: Self.pin("a")))
        _ = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR")))
        do {
            try regional.remove(region: "eu", actor: "op")
            Issue.record("removed a service holding a tenant")
        } catch let ControllerError.conflict(code, _) {
            #expect(code == "region_holds_tenants")
        }
        #expect(throws: ControllerError.self) { try regional.remove(region: "uk", actor: "op") }
    }

    /// A node for `region` that pinned this controller's key.
    func node(_ region: String) throws -> RegionNode {
        let directory = scratch.appendingPathComponent(region)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return try RegionNode(
            configuration: RegionNodeConfiguration(
                region: region, site: region, controllerURL: "http://127.0.0.1:1", controllerKey: identity.publicKey,
                enrolledAt: 0),
            dataDirectory: directory, clock: time.clock)
    }

    func sign(_ assignment: TenantAssignment, by signer: TLSIdentity? = nil) throws -> [UInt8] {
        SignedAssignment(assignment: assignment, signature: try (signer ?? identity).signature(for: assignment.signedMessage))
            .jsonValue.encodedBytes()
    }

    @Test func aNodeServesOnlyWhatItsNewestSignedAssignmentAllows() throws {
        defer { try? FileManager.default.removeItem(at: scratch) }
        let tenant = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))).tenant
        #expect(tenant.region == "eu")
        try regional.assign(tenant: tenant.id)
        let issued = try #require(try controller.pool.read { try RegionalServiceRepository($0).assignment(tenant: tenant.id) })
        #expect(issued.epoch == 1)
        let eu = try node("eu")
        let us = try node("us")
        #expect(try eu.accept(assignment: issued.signed) == .stored)
        #expect(try eu.accept(assignment: issued.signed) == .unchanged)
        #expect(try us.accept(assignment: issued.signed) == .stored)
        let record = TenantRecord(collection: .contacts, key: "c1", values: ["name": .text("Alice")], updatedAt: 1)
        try eu.put(tenant: tenant.id, record)
        #expect(try eu.record(tenant: tenant.id, .contacts, key: "c1")?.values["name"] == .text("Alice"))
        // Another region's node knows where the tenant lives and says so; it holds no data for it.
        #expect(throws: RegionNode.Refusal.elsewhere(tenant: tenant.id, region: "eu", endpoint: "in-process")) {
            try us.put(tenant: tenant.id, record)
        }
        #expect(!FileManager.default.fileExists(atPath: scratch.appendingPathComponent("us/regions").path))
        #expect(throws: RegionNode.Refusal.unknownTenant("tn_0193a2b4c5d6e7f8091a2b")) {
            _ = try eu.record(tenant: "tn_0193a2b4c5d6e7f8091a2b", .contacts, key: "c1")
        }
        // Signed by any other key: refused, and nothing changes.
        let forged = TenantAssignment(
            tenant: tenant.id, region: "us", site: "us-ashburn", endpoint: "https://6.6.6.6:1", status: .active,
            epoch: 9, policyVersion: "x", issuedAt: 2)
        #expect(throws: RegionEnrolmentError.self) {
            _ = try eu.accept(assignment: try sign(forged, by: try TLSIdentity.generate(name: "residency-controller")))
        }
        #expect(try eu.record(tenant: tenant.id, .contacts, key: "c1") != nil)
        // A newer epoch suspends; the older one replayed changes nothing.
        let suspended = TenantAssignment(
            tenant: tenant.id, region: "eu", site: tenant.site, endpoint: "in-process", status: .suspended, epoch: 2,
            policyVersion: "x", issuedAt: 3)
        #expect(try eu.accept(assignment: try sign(suspended)) == .stored)
        #expect(try eu.accept(assignment: issued.signed) == .stale(held: 2))
        #expect(throws: RegionNode.Refusal.notServed(tenant: tenant.id, status: .suspended)) {
            _ = try eu.record(tenant: tenant.id, .contacts, key: "c1")
        }
        // Deleted: the data goes from the region.
        let path = scratch.appendingPathComponent("eu/regions/eu/tenants/\(tenant.id).sqlite3").path
        #expect(FileManager.default.fileExists(atPath: path))
        let deleted = TenantAssignment(
            tenant: tenant.id, region: "eu", site: tenant.site, endpoint: "in-process", status: .deleted, epoch: 3,
            policyVersion: "x", issuedAt: 4)
        #expect(try eu.accept(assignment: try sign(deleted)) == .stored)
        #expect(!FileManager.default.fileExists(atPath: path))
        // The write was queued for the ledger once; acknowledged, it is gone.
        let events = try eu.events(after: 0, limit: 10)
        #expect(events.map(\.kind) == ["region.data_written"])
        try eu.acknowledge(through: events[0].seq)
        #expect(try eu.events(after: 0, limit: 10).isEmpty)
    }
}
