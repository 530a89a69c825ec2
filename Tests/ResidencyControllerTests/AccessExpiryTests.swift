import Foundation
import ResidencyCore
import ResidencyStore
import Synchronization
import Testing

@testable import ResidencyController

/// A clock the test moves by hand.
final class TestClock: Sendable {
    let time = Mutex<Int64>(1_800_000_000_000)
    var clock: Clock { Clock { self.time.withLock { $0 } } }
    func advance(hours: Int64, milliseconds: Int64 = 0) { time.withLock { $0 += hours * 3_600_000 + milliseconds } }
}

@Suite struct AccessExpiryTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    let controller: Controller
    let time = TestClock()
    let tenant: String

    init() throws {
        let policies = try PolicySet.load(
            regions: Self.root.appendingPathComponent("Regions"), policies: Self.root.appendingPathComponent("Policies")
        )
        controller = try Controller(
            policies: policies, locator: nil, pool: try DatabasePool(inMemory: ()), clock: time.clock)
        tenant = try controller.directory.signUp(Signup(name: "Acme", plan: .paid, declaredCountry: CountryCode("FR"))).tenant.id
    }

    func file(_ justification: String) throws -> AccessRequest {
        try controller.access.fileAccess(
            AccessDesk.AccessFiling(
                tenant: tenant,
                staff: StaffMember(id: "s-1", entity: "Residency UK Ltd", jobRole: "sre", office: "london"),
                physicalCountry: CountryCode("GB")!, justification: justification, detail: "T-1",
                scope: AccessScope(dataClasses: [.logs], mode: .read), hours: 3),
            breakGlass: false, by: "desk")
    }

    func kinds() throws -> [String] {
        try controller.ledger.entries(from: 0, to: nil).compactMap { row in
            if case .string(let kind) = (try JSONParser.parse(row.entry))["kind"] ?? .null { return kind }
            return nil
        }
    }

    @Test func pendingRequestsExpireAtTheBoundaryAndTheSweepRecordsIt() throws {
        let request = try file("security_incident")
        #expect(request.state == .pending)
        #expect(request.basis.mechanism.code == "adequacy")  // EU data reached from the UK
        time.advance(hours: 24, milliseconds: -1)
        #expect(try controller.access.expireAccess() == 0)
        #expect(try controller.access.accessRequest(id: request.id).state == .pending)
        time.advance(hours: 0, milliseconds: 1)
        #expect(try controller.access.expireAccess() == 1)
        #expect(try controller.access.expireAccess() == 0)  // idempotent
        #expect(try controller.access.accessRequest(id: request.id).state == .expired)
        #expect(try kinds().filter { $0 == "access.expired" }.count == 1)
        #expect(throws: ControllerError.self) {
            try controller.access.decideAccess(
                id: request.id, .approve, by: Caller(tokenName: "dpo", role: .compliance), reason: "late", hours: nil)
        }
    }

    @Test func grantsExpireWhenTheirHoursAreOver() throws {
        let request = try file("service_maintenance")
        #expect(request.state == .autoApproved)
        let use = AccessLifecycle.Use(
            staffID: "s-1", physicalCountry: CountryCode("GB")!, method: "ssh", resource: "logs/app", dataClass: .logs,
            mode: .read)
        time.advance(hours: 3, milliseconds: -1)
        #expect(try controller.access.recordAccessEvent(requestID: request.id, use, by: "desk").request.state == .active)
        time.advance(hours: 0, milliseconds: 1)
        #expect(throws: ControllerError.self) {
            try controller.access.recordAccessEvent(requestID: request.id, use, by: "desk")
        }
        #expect(try controller.access.accessRequest(id: request.id).state == .expired)
        let recorded = try kinds()
        #expect(recorded.contains("access.expired"))
        #expect(recorded.last == "access.use_refused")
        #expect(try controller.ledger.verify().isValid)
    }
}
