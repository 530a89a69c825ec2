import Foundation
import Testing

@testable import ResidencyCore

@Suite struct AccessLifecycleTests {
    let lifecycle: AccessLifecycle
    static let hour: Int64 = 3_600_000
    static let t0: Int64 = 1_800_000_000_000

    init() throws {
        lifecycle = AccessLifecycle(
            policies: try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies))
    }

    static func filing(
        region: String = "eu", from country: String = "US", office: String = "austin",
        justification: String = "customer_support",
        customerApproval: Bool = false, breakGlass: Bool = false, hours: Int? = nil, detail: String = "TICKET-1",
        scope: AccessScope = AccessScope(dataClasses: [.customerData], mode: .read)
    ) -> AccessLifecycle.Filing {
        AccessLifecycle.Filing(
            tenant: "tn_1", tenantRegion: region, customerApproval: customerApproval,
            staff: StaffMember(id: "s-42", entity: "Residency Inc.", jobRole: "support engineer", office: office),
            physicalCountry: CountryCode(country)!, justification: justification, detail: detail, scope: scope,
            hours: hours,
            breakGlass: breakGlass)
    }

    func file(_ filing: AccessLifecycle.Filing, at time: Int64 = t0) throws -> AccessRequest {
        try lifecycle.file(filing, id: "ar_1", at: time).get()
    }

    func refusal(_ filing: AccessLifecycle.Filing) -> AccessRefusal? {
        if case .failure(let refusal) = lifecycle.file(filing, id: "ar_1", at: Self.t0) { return refusal }
        return nil
    }

    @Test func autoApprovalWhenPolicyAllowsIt() throws {
        let request = try file(Self.filing())
        #expect(request.state == .autoApproved)
        #expect(request.basis.mechanism.code == "eu_scc")
        #expect(request.basis.rule == "eu-us-scc")
        #expect(request.grantedHours == 4)  // the default grant
        #expect(request.grantExpiresAt == Self.t0 + 4 * Self.hour)
        #expect(request.officeCountry == CountryCode("US"))
    }

    @Test func pendingWhenTheJustificationNeedsAPersonOrTheCustomerApproves() throws {
        #expect(try file(Self.filing(justification: "security_incident")).state == .pending)
        #expect(try file(Self.filing(customerApproval: true)).state == .pending)
        #expect(try file(Self.filing(justification: "legal_request")).state == .pending)
    }

    @Test(
        arguments: [
            (filing(from: "RU"), "transfer_forbidden", "eu-sanctioned"),
            (filing(from: "BR"), "transfer_forbidden", "eu-no-mechanism"),
            (filing(justification: "curiosity"), "unknown_justification", nil),
            (filing(office: "moon-base"), "unknown_office", nil),
            (filing(detail: "  "), "reference_required", "customer_support"),
            (filing(hours: 25), "grant_too_long", nil),
            (filing(breakGlass: true), "break_glass_not_allowed", "customer_support"),
            (filing(justification: "security_incident", breakGlass: true, hours: 5), "grant_too_long", nil),
            (filing(scope: AccessScope(dataClasses: [], mode: .read)), "empty_scope", nil),
        ] as [(AccessLifecycle.Filing, String, String?)])
    func refusedUpFront(filing: AccessLifecycle.Filing, code: String, rule: String?) {
        let refused = refusal(filing)
        #expect(refused?.code == code)
        #expect(refused?.rule == rule)
    }

    @Test func pendingExpiresAtItsExactBoundary() throws {
        let request = try file(Self.filing(justification: "security_incident"))
        let deadline = Self.t0 + 24 * Self.hour
        #expect(lifecycle.expired(request, at: deadline - 1) == nil)
        #expect(lifecycle.expired(request, at: deadline)?.state == .expired)
        // A decision one millisecond late is refused, and says why.
        guard
            case .failure(let late) = lifecycle.decide(
                request, .approve, by: "c", deciderTenant: nil, reason: "ok", hours: nil, at: deadline)
        else {
            Issue.record("a late approval must be refused")
            return
        }
        #expect(late.code == "not_pending")
        #expect(late.expired?.state == .expired)
        let inTime = try lifecycle.decide(
            request, .approve, by: "c", deciderTenant: nil, reason: "ok", hours: 2, at: deadline - 1
        ).get()
        #expect(inTime.state == .approved)
        #expect(inTime.grantedHours == 2)
        #expect(inTime.grantExpiresAt == deadline - 1 + 2 * Self.hour)
    }

    @Test func grantExpiresAtItsExactBoundary() throws {
        let request = try file(Self.filing())  // auto-approved for 4 hours
        let end = Self.t0 + 4 * Self.hour
        let use = AccessLifecycle.Use(
            staffID: "s-42", physicalCountry: CountryCode("US")!, method: "ssh", resource: "db/customers",
            dataClass: .customerData, mode: .read)
        let active = try lifecycle.use(request, use, at: end - 1).get()
        #expect(active.state == .active)
        #expect(active.activatedAt == end - 1)
        guard case .failure(let over) = lifecycle.use(active, use, at: end) else {
            Issue.record("use at the end of the grant must be refused")
            return
        }
        #expect(over.code == "grant_expired")
        #expect(over.expired?.state == .expired)
        #expect(over.expired?.closedAt == end)
    }

    @Test func onlyPendingRequestsCanBeDecidedAndTerminalStatesNeverChange() throws {
        let pending = try file(Self.filing(justification: "security_incident"))
        let denied = try lifecycle.decide(
            pending, .deny, by: "c", deciderTenant: nil, reason: "no", hours: nil, at: Self.t0 + 1
        ).get()
        #expect(denied.state == .denied)
        for decision in AccessLifecycle.Decision.allCases {
            guard
                case .failure(let refusal) = lifecycle.decide(
                    denied, decision, by: "c", deciderTenant: nil, reason: "x", hours: nil, at: Self.t0 + 2)
            else {
                Issue.record("a denied request cannot be decided again")
                continue
            }
            #expect(refusal.code == "not_pending")
        }
        guard case .failure(let closing) = lifecycle.close(denied, .revoke, by: "c", reason: "", at: Self.t0 + 2) else {
            Issue.record("a denied request cannot be revoked")
            return
        }
        #expect(closing.code == "not_granted")
        let dismissed = try lifecycle.decide(
            pending, .dismiss, by: "c", deciderTenant: nil, reason: "dup", hours: nil, at: Self.t0 + 1
        ).get()
        #expect(dismissed.state == .dismissed)
        #expect(lifecycle.expired(dismissed, at: Self.t0 + 100 * Self.hour) == nil)
    }

    @Test func revokeAndCompleteEndGrants() throws {
        let granted = try file(Self.filing())
        #expect(try lifecycle.close(granted, .revoke, by: "c", reason: "done", at: Self.t0 + 1).get().state == .revoked)
        #expect(try lifecycle.close(granted, .complete, by: "s", reason: "", at: Self.t0 + 1).get().state == .completed)
        let revoked = try lifecycle.close(granted, .revoke, by: "c", reason: "done", at: Self.t0 + 1).get()
        let use = AccessLifecycle.Use(
            staffID: "s-42", physicalCountry: CountryCode("US")!, method: "ssh", resource: "r",
            dataClass: .customerData, mode: .read)
        if case .failure(let refusal) = lifecycle.use(revoked, use, at: Self.t0 + 2) {
            #expect(refusal.code == "no_active_grant")
        } else {
            Issue.record("revoked grant used")
        }
    }

    /// Separation of duties: neither the token that filed a request nor the staff member it is for decides it,
    /// in any of the three ways; anyone else may.
    @Test(arguments: AccessLifecycle.Decision.allCases)
    func theOneWhoFiledNeverDecides(decision: AccessLifecycle.Decision) throws {
        var filing = Self.filing(justification: "security_incident")
        filing.filedBy = "desk"
        let request = try file(filing)
        #expect(request.filedBy == "desk")
        for decider in ["desk", "s-42"] {
            guard
                case .failure(let refusal) = lifecycle.decide(
                    request, decision, by: decider, deciderTenant: nil, reason: "mine", hours: nil, at: Self.t0 + 1)
            else {
                Issue.record("\(decider) decided its own request")
                continue
            }
            #expect(refusal.code == "separation_of_duties")
            #expect(refusal.message.contains("accepted: a decision by another compliance officer"))
        }
        let other = lifecycle.decide(
            request, decision, by: "lead", deciderTenant: nil, reason: "ok", hours: nil, at: Self.t0 + 1)
        #expect((try? other.get())?.decidedBy == "lead")
    }

    @Test func customerApprovalOnlyByTheTenantsAdministrator() throws {
        let request = try file(Self.filing(customerApproval: true))
        guard
            case .failure(let refusal) = lifecycle.decide(
                request, .approve, by: "staff-compliance", deciderTenant: nil, reason: "ok", hours: nil, at: Self.t0 + 1
            )
        else {
            Issue.record("internal compliance must not approve a customer-approval request")
            return
        }
        #expect(refusal.code == "customer_approval_required")
        #expect(
            try lifecycle.decide(
                request, .approve, by: "acme-admin", deciderTenant: "tn_1", reason: "ok", hours: nil, at: Self.t0 + 1
            ).get().state == .approved)
        #expect(throws: AccessRefusal.self) {
            try lifecycle.decide(
                request, .approve, by: "other-admin", deciderTenant: "tn_2", reason: "ok", hours: nil, at: Self.t0 + 1
            ).get()
        }
    }

    @Test func usesOutsideTheGrantAreRefused() throws {
        let request = try file(Self.filing(scope: AccessScope(dataClasses: [.customerData, .logs], mode: .read)))
        func use(
            from country: String = "US", staff: String = "s-42", _ dataClass: AccessScope.DataClass = .customerData,
            _ mode: AccessScope.Mode = .read
        ) -> String? {
            let attempt = AccessLifecycle.Use(
                staffID: staff, physicalCountry: CountryCode(country)!, method: "ssh", resource: "r",
                dataClass: dataClass, mode: mode)
            if case .failure(let refusal) = lifecycle.use(request, attempt, at: Self.t0 + 1) { return refusal.code }
            return nil
        }
        #expect(use() == nil)
        #expect(use(.logs) == nil)
        #expect(use(from: "IN") == "wrong_country")
        #expect(use(staff: "s-43") == "wrong_staff")
        #expect(use(.backups) == "out_of_scope")
        #expect(use(.customerData, .write) == "out_of_scope")
    }

    @Test func breakGlassIsActiveAtOnceAndMustBeReviewed() throws {
        let request = try file(Self.filing(justification: "security_incident", breakGlass: true, hours: 2))
        #expect(request.state == .active)
        #expect(request.isBreakGlass)
        let due = Self.t0 + 72 * Self.hour
        #expect(request.reviewDueAt == due)
        #expect(!request.isReviewOverdue(at: due - 1))
        #expect(request.isReviewOverdue(at: due))
        let reviewed = try lifecycle.review(request, by: "c", note: "justified: INC-7", at: due + 5).get()
        #expect(!reviewed.isReviewOverdue(at: due + 10))
        #expect(throws: AccessRefusal.self) {
            try lifecycle.review(reviewed, by: "c", note: "again", at: due + 6).get()
        }
        #expect(throws: AccessRefusal.self) {
            try lifecycle.review(try file(Self.filing()), by: "c", note: "x", at: due).get()
        }
    }

    @Test func recordsRoundTripThroughJSON() throws {
        let request = try lifecycle.decide(
            try file(Self.filing(justification: "security_incident")), .approve, by: "c", deciderTenant: nil,
            reason: "ok", hours: 1, at: Self.t0 + 9
        ).get()
        #expect(AccessRequest(json: try JSONParser.parse(request.jsonValue().encoded())) == request)
        let breakGlass = try file(
            Self.filing(
                region: "uk", from: "IN", office: "bengaluru", justification: "production_alert", breakGlass: true))
        #expect(AccessRequest(json: try JSONParser.parse(breakGlass.jsonValue().encoded())) == breakGlass)
    }
}

/// Transfer-basis resolution for every region × a representative set of staff countries, checked against
/// `Policies/transfers.json` read independently of the loader.
@Suite struct TransferBasisTableTests {
    static let staffCountries = [
        "IE", "DE", "FR", "GB", "US", "IN", "SG", "PH", "AU", "ZA", "AE", "JP", "CH", "BR", "RU", "CN",
    ]

    @Test func everyRegionAgainstEveryStaffCountry() throws {
        let policies = try PolicySet.load(regions: Fixtures.regions, policies: Fixtures.policies)
        let raw = try JSONParser.parse(
            Array(try Data(contentsOf: Fixtures.policies.appendingPathComponent("transfers.json"))))
        for region in policies.catalog.regions {
            guard case .object(let table) = raw["regions"]?[region.id] ?? .null,
                case .array(let destinations) = raw["regions"]?[region.id]?["destinations"] ?? .null
            else {
                Issue.record("no table for \(region.id)")
                continue
            }
            _ = table
            for country in Self.staffCountries {
                let code = CountryCode(country)!
                let basis = policies.transfers.basis(for: region, destination: code)
                let expected: (mechanism: String, rule: String)
                if region.jurisdiction.contains(code) {
                    expected = ("not_a_transfer", "jurisdiction")
                } else if let rule = destinations.first(where: { rule in
                    if case .array(let countries) = rule["countries"] ?? .null {
                        return countries.contains(.string(country))
                    }
                    return false
                }) {
                    guard case .string(let mechanism) = rule["mechanism"] ?? .null,
                        case .string(let id) = rule["rule"] ?? .null
                    else { continue }
                    expected = (mechanism, id)
                } else {
                    guard case .string(let mechanism) = raw["regions"]?[region.id]?["default"]?["mechanism"] ?? .null,
                        case .string(let id) = raw["regions"]?[region.id]?["default"]?["rule"] ?? .null
                    else { continue }
                    expected = (mechanism, id)
                }
                #expect(basis.mechanism.code == expected.mechanism, "\(region.id) ← \(country)")
                #expect(basis.rule == expected.rule, "\(region.id) ← \(country)")
            }
        }
    }
}
