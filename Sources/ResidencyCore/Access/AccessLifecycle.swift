/// The rules of cross-border access, as pure functions of a request, the policy and the time: filing,
/// decisions, expiry, use, revocation, completion and break-glass review. The controller persists what these
/// return and records each transition in the ledger.
package struct AccessLifecycle: Sendable {
    package let policies: PolicySet

    package init(policies: PolicySet) { self.policies = policies }

    static let hour: Int64 = 3_600_000

    /// What a support engineer asks for.
    package struct Filing: Sendable {
        package var tenant: String
        package var tenantRegion: String
        package var customerApproval: Bool
        package var staff: StaffMember
        package var physicalCountry: CountryCode
        package var justification: String
        package var detail: String
        package var scope: AccessScope
        package var hours: Int?
        package var breakGlass: Bool
        /// The token name filing it (kept on the request: its filer may not decide it).
        package var filedBy: String?

        package init(
            tenant: String, tenantRegion: String, customerApproval: Bool, staff: StaffMember,
            physicalCountry: CountryCode,
            justification: String, detail: String, scope: AccessScope, hours: Int?, breakGlass: Bool,
            filedBy: String? = nil
        ) {
            self.filedBy = filedBy
            self.tenant = tenant
            self.tenantRegion = tenantRegion
            self.customerApproval = customerApproval
            self.staff = staff
            self.physicalCountry = physicalCountry
            self.justification = justification
            self.detail = detail
            self.scope = scope
            self.hours = hours
            self.breakGlass = breakGlass
        }
    }

    /// A new request, or why it is refused up front (with the rule when a policy rule refuses it).
    package func file(_ filing: Filing, id: String, at now: Int64) -> Result<AccessRequest, AccessRefusal> {
        let access = policies.access
        guard let office = access.office(id: filing.staff.office) else {
            return .failure(
                .init(
                    code: .unknownOffice, rule: nil,
                    message:
                        "office \"\(filing.staff.office)\" is not a support office of the access policy; accepted: \(access.supportOffices.map(\.id).joined(separator: ", "))"
                ))
        }
        guard let justification = access.justification(code: filing.justification) else {
            return .failure(
                .init(
                    code: .unknownJustification, rule: nil,
                    message:
                        "justification \"\(filing.justification)\" is not a justification of the access policy; accepted: \(access.justifications.map(\.code).joined(separator: ", "))"
                ))
        }
        if justification.requiresReference && filing.detail.trimmingCharacters(in: .whitespaces).isEmpty {
            return .failure(
                .init(
                    code: .referenceRequired, rule: justification.code,
                    message: "justification \(justification.code) needs a ticket or case reference in detail"))
        }
        if filing.scope.dataClasses.isEmpty {
            return .failure(.init(code: .emptyScope, rule: nil, message: "the scope names no data class"))
        }
        if filing.breakGlass && !justification.allowsBreakGlass {
            return .failure(
                .init(
                    code: .breakGlassNotAllowed, rule: justification.code,
                    message:
                        "justification \(justification.code) does not allow break-glass access; allowed: \(access.justifications.filter(\.allowsBreakGlass).map(\.code).joined(separator: ", "))"
                ))
        }
        let maximum = filing.breakGlass ? access.breakGlassMaximumGrantHours : access.maximumGrantHours
        let hours = filing.hours ?? min(access.defaultGrantHours, maximum)
        guard (1...maximum).contains(hours) else {
            return .failure(
                .init(
                    code: .grantTooLong, rule: nil, message: "\(hours) hours is not allowed; accepted: 1-\(maximum)")
            )
        }
        guard let region = policies.catalog.region(id: filing.tenantRegion) else {
            return .failure(
                .init(
                    code: .unknownRegion, rule: nil,
                    message: "the tenant's region \(filing.tenantRegion) is not in the catalog"))
        }
        let basis = policies.transfers.basis(for: region, destination: filing.physicalCountry)
        if case .forbidden(let reason) = basis.mechanism {
            return .failure(
                .init(
                    code: .transferForbidden, rule: basis.rule,
                    message: "access to \(region.id) data from \(filing.physicalCountry) is forbidden: \(reason)"))
        }
        var request = AccessRequest(
            id: id, tenant: filing.tenant, region: region.id, staff: filing.staff, officeCountry: office.country,
            physicalCountry: filing.physicalCountry, justification: justification.code, detail: filing.detail,
            scope: filing.scope,
            requestedHours: hours, isBreakGlass: filing.breakGlass, customerApprovalRequired: filing.customerApproval,
            filedBy: filing.filedBy, basis: basis,
            createdAt: now, pendingUntil: now + Int64(access.pendingExpiryHours) * Self.hour, state: .pending)
        if filing.breakGlass {
            // Active at once, flagged, and due for review after the fact.
            request.state = .active
            request.grantedHours = hours
            request.decidedAt = now
            request.decidedBy = "break-glass"
            request.activatedAt = now
            request.grantExpiresAt = now + Int64(hours) * Self.hour
            request.reviewDueAt = now + Int64(access.breakGlassReviewHours) * Self.hour
        } else if !filing.customerApproval && justification.autoApprove {
            request.state = .autoApproved
            request.grantedHours = hours
            request.decidedAt = now
            request.decidedBy = "policy"
            request.decisionReason =
                "justification \(justification.code) is auto-approved and the transfer basis resolves (\(basis.mechanism.code))"
            request.grantExpiresAt = now + Int64(hours) * Self.hour
        }
        return .success(request)
    }

    /// The state time alone has brought the request to: a pending request past its window, a grant past its end.
    package func expired(_ request: AccessRequest, at now: Int64) -> AccessRequest? {
        var request = request
        if request.state == .pending && now >= request.pendingUntil {
            request.state = .expired
            request.closedAt = request.pendingUntil
            request.closedBy = "policy"
            return request
        }
        if request.state.isGranted, let end = request.grantExpiresAt, now >= end {
            request.state = .expired
            request.closedAt = end
            request.closedBy = "policy"
            return request
        }
        return nil
    }

    package enum Decision: String, Sendable, CaseIterable { case approve, deny, dismiss }

    /// Decides a pending request. Only pending requests can be decided; never by the one who filed it nor by
    /// the staff member it is for (separation of duties — dismissing included, so that nobody settles their
    /// own request in any way); a customer-approval request only by the tenant's own administrator.
    package func decide(
        _ request: AccessRequest, _ decision: Decision, by decider: String, deciderTenant: String?, reason: String,
        hours: Int?, at now: Int64
    ) -> Result<AccessRequest, AccessRefusal> {
        if let expired = expired(request, at: now) {
            return .failure(
                .init(
                    code: .notPending, rule: nil,
                    message:
                        "request \(request.id) expired at \(Timestamp.rfc3339(milliseconds: expired.closedAt ?? now)); only pending requests can be decided",
                    expired: expired))
        }
        guard request.state == .pending else {
            return .failure(
                .init(
                    code: .notPending, rule: nil,
                    message: "request \(request.id) is \(request.state.rawValue); only pending requests can be decided")
            )
        }
        if let refusal = separationOfDuties(request, decision, by: decider) { return .failure(refusal) }
        if request.customerApprovalRequired && deciderTenant != request.tenant && decision != .dismiss {
            return .failure(
                .init(
                    code: .customerApprovalRequired, rule: nil,
                    message:
                        "tenant \(request.tenant) is enrolled in customer approval: only its administrator may \(decision.rawValue)"
                ))
        }
        var request = request
        request.decidedAt = now
        request.decidedBy = decider
        request.decisionReason = reason
        switch decision {
        case .approve:
            let granted = min(hours ?? request.requestedHours, request.requestedHours)
            guard granted >= 1 else {
                return .failure(.init(code: .invalidHours, rule: nil, message: "hours must be at least 1"))
            }
            request.state = .approved
            request.grantedHours = granted
            request.grantExpiresAt = now + Int64(granted) * Self.hour
        case .deny:
            request.state = .denied
            request.closedAt = now
            request.closedBy = decider
        case .dismiss:
            request.state = .dismissed
            request.closedAt = now
            request.closedBy = decider
        }
        return .success(request)
    }

    /// Refuses a decider who filed the request or is the staff member it is for, by token name.
    func separationOfDuties(_ request: AccessRequest, _ decision: Decision, by decider: String) -> AccessRefusal? {
        let role: String
        if let filer = request.filedBy, filer == decider {
            role = "filed it"
        } else if decider == request.staff.id {
            role = "is the staff member it is for"
        } else {
            return nil
        }
        return AccessRefusal(
            code: .separationOfDuties, rule: nil,
            message:
                "\(decider) may not \(decision.rawValue) request \(request.id): \(decider) \(role), and the one who files a request or will use it never decides it; accepted: a decision by another compliance officer, or by the tenant's administrator"
        )
    }

    package enum Closing: String, Sendable { case revoke, complete }

    package func close(
        _ request: AccessRequest, _ closing: Closing, by who: String, reason: String, at now: Int64
    ) -> Result<AccessRequest, AccessRefusal> {
        if let expired = expired(request, at: now) {
            return .failure(
                .init(code: .notGranted, rule: nil, message: "request \(request.id) has expired", expired: expired))
        }
        guard request.state.isGranted else {
            return .failure(
                .init(
                    code: .notGranted, rule: nil,
                    message:
                        "request \(request.id) is \(request.state.rawValue); only approved or active grants can be \(closing == .revoke ? "revoked" : "completed")"
                ))
        }
        var request = request
        request.state = closing == .revoke ? .revoked : .completed
        request.closedAt = now
        request.closedBy = who
        request.decisionReason = reason.isEmpty ? request.decisionReason : reason
        return .success(request)
    }

    package func review(
        _ request: AccessRequest, by who: String, note: String, at now: Int64
    ) -> Result<AccessRequest, AccessRefusal> {
        guard request.isBreakGlass else {
            return .failure(
                .init(code: .notBreakGlass, rule: nil, message: "request \(request.id) is not a break-glass grant"))
        }
        guard request.reviewedAt == nil else {
            return .failure(
                .init(code: .alreadyReviewed, rule: nil, message: "request \(request.id) was reviewed already"))
        }
        var request = request
        request.reviewedAt = now
        request.reviewedBy = who
        request.reviewNote = note
        return .success(request)
    }

    /// One use of a grant.
    package struct Use: Sendable {
        package var staffID: String
        package var physicalCountry: CountryCode
        package var method: String
        package var resource: String
        package var dataClass: AccessScope.DataClass
        package var mode: AccessScope.Mode

        package init(
            staffID: String, physicalCountry: CountryCode, method: String, resource: String,
            dataClass: AccessScope.DataClass, mode: AccessScope.Mode
        ) {
            self.staffID = staffID
            self.physicalCountry = physicalCountry
            self.method = method
            self.resource = resource
            self.dataClass = dataClass
            self.mode = mode
        }
    }

    /// Checks a use against the grant: allowed (the request, activated on first use) or refused with why.
    /// Either way the caller records the event.
    package func use(_ request: AccessRequest, _ use: Use, at now: Int64) -> Result<AccessRequest, AccessRefusal> {
        if let expired = expired(request, at: now) {
            return .failure(
                .init(
                    code: .grantExpired, rule: nil, message: "the grant of request \(request.id) is over",
                    expired: expired))
        }
        guard request.state.isGranted else {
            return .failure(
                .init(
                    code: .noActiveGrant, rule: nil,
                    message: "request \(request.id) is \(request.state.rawValue), not an active grant"))
        }
        guard use.staffID == request.staff.id else {
            return .failure(
                .init(
                    code: .wrongStaff, rule: nil,
                    message: "the grant belongs to \(request.staff.id), not \(use.staffID)"))
        }
        guard use.physicalCountry == request.physicalCountry else {
            return .failure(
                .init(
                    code: .wrongCountry, rule: request.basis.rule,
                    message: "the grant covers access from \(request.physicalCountry), not \(use.physicalCountry)"))
        }
        guard request.scope.permits(use.dataClass, use.mode) else {
            return .failure(
                .init(
                    code: .outOfScope, rule: nil,
                    message:
                        "\(use.mode.rawValue) access to \(use.dataClass.rawValue) is outside the grant (\(request.scope.mode.rawValue): \(request.scope.dataClasses.map(\.rawValue).sorted().joined(separator: ", ")))"
                ))
        }
        var request = request
        if request.state != .active {
            request.state = .active
            request.activatedAt = now
        }
        return .success(request)
    }
}

/// Why an access step is refused; `expired` carries the request's expired state when time is the reason, so
/// the caller can persist that transition too.
package struct AccessRefusal: Error, Sendable, Hashable, CustomStringConvertible {
    /// Why, from a closed set; `code` is its stable spelling in answers and in the ledger.
    package let kind: Kind
    package let rule: String?
    package let message: String
    package var expired: AccessRequest?

    package init(code kind: Kind, rule: String?, message: String, expired: AccessRequest? = nil) {
        self.kind = kind
        self.rule = rule
        self.message = message
        self.expired = expired
    }

    package var code: String { kind.rawValue }

    package var description: String { message }

    /// Every reason an access step is refused.
    package enum Kind: String, Sendable, Hashable, CaseIterable {
        // Filing a request.
        case unknownOffice = "unknown_office"
        case unknownJustification = "unknown_justification"
        case referenceRequired = "reference_required"
        case emptyScope = "empty_scope"
        case breakGlassNotAllowed = "break_glass_not_allowed"
        case grantTooLong = "grant_too_long"
        case unknownRegion = "unknown_region"
        case transferForbidden = "transfer_forbidden"
        // Deciding it.
        case notPending = "not_pending"
        case separationOfDuties = "separation_of_duties"
        case customerApprovalRequired = "customer_approval_required"
        case customerApprovalSetByTenant = "customer_approval_set_by_tenant"
        case invalidHours = "invalid_hours"
        // Closing and reviewing a grant.
        case notGranted = "not_granted"
        case notBreakGlass = "not_break_glass"
        case alreadyReviewed = "already_reviewed"
        // Using it.
        case grantExpired = "grant_expired"
        case noActiveGrant = "no_active_grant"
        case wrongStaff = "wrong_staff"
        case wrongCountry = "wrong_country"
        case outOfScope = "out_of_scope"

        /// The category each front end answers by (HTTP: `AccessRefusal.Category.httpStatus`). Exhaustive, so a
        /// new reason cannot be added without saying which it is.
        package var category: Category {
            switch self {
            case .notPending, .notGranted, .notBreakGlass, .alreadyReviewed, .grantExpired, .noActiveGrant:
                .stateConflict
            case .separationOfDuties, .customerApprovalRequired, .customerApprovalSetByTenant:
                .notPermitted
            case .unknownOffice, .unknownJustification, .referenceRequired, .emptyScope, .breakGlassNotAllowed,
                .grantTooLong, .unknownRegion, .transferForbidden, .invalidHours, .wrongStaff, .wrongCountry,
                .outOfScope:
                .policy
            }
        }
    }

    /// What kind of "no" a refusal is.
    package enum Category: Sendable, Hashable, CaseIterable {
        /// The request is not in a state that allows the step (already decided, not granted, expired).
        case stateConflict
        /// The caller is not the one who may take the step: separation of duties, the tenant's own approval.
        case notPermitted
        /// Policy refuses a well-formed step, usually naming the rule.
        case policy
    }
}
