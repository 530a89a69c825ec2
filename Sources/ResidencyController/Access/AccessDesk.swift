import ResidencyCore
import ResidencyStore

/// Cross-border support access: every step in one write transaction with its ledger entry. Time-driven
/// transitions (a pending request or a grant running out) are applied whenever a request is touched and by
/// `expireAccess()`, which the server runs periodically.
package final class AccessDesk: ControllerService {
    let context: ControllerContext

    init(context: ControllerContext) { self.context = context }

    var lifecycle: AccessLifecycle { AccessLifecycle(policies: policies) }
}

extension AccessDesk {
    /// What a support engineer files (the tenant's region and approval setting come from the directory).
    package struct AccessFiling: Sendable {
        package var tenant: String
        package var staff: StaffMember
        package var physicalCountry: CountryCode
        package var justification: String
        package var detail: String
        package var scope: AccessScope
        package var hours: Int?

        package init(
            tenant: String, staff: StaffMember, physicalCountry: CountryCode, justification: String, detail: String,
            scope: AccessScope, hours: Int?
        ) {
            self.tenant = tenant
            self.staff = staff
            self.physicalCountry = physicalCountry
            self.justification = justification
            self.detail = detail
            self.scope = scope
            self.hours = hours
        }
    }

    /// Files a request (or, with `breakGlass`, opens an emergency grant at once). A refused filing is
    /// recorded in the ledger and thrown as `accessRefused`.
    package func fileAccess(_ filing: AccessFiling, breakGlass: Bool, by caller: String) throws -> AccessRequest {
        try TextLimit.staff("id").check(filing.staff.id)
        try TextLimit.staff("entity").check(filing.staff.entity)
        try TextLimit.staff("role").check(filing.staff.jobRole)
        try TextLimit.staff("office").check(filing.staff.office)
        try TextLimit(field: "justification", maximumBytes: 64, required: true).check(filing.justification)
        try TextLimit.accessDetail.check(filing.detail)
        let outcome: Result<AccessRequest, AccessRefusal> = try context.commit { transaction in
            let database = transaction.database
            let tenants = TenantRepository(database)
            guard let tenant = try tenants.tenant(id: filing.tenant), tenant.status != .deleted else {
                throw ControllerError.notFound(kind: "tenant", id: filing.tenant)
            }
            let now = clock.now()
            let request = AccessLifecycle.Filing(
                tenant: tenant.id, tenantRegion: tenant.region,
                customerApproval: try tenants.customerApproval(id: tenant.id) ?? false,
                staff: filing.staff, physicalCountry: filing.physicalCountry, justification: filing.justification,
                detail: filing.detail, scope: filing.scope, hours: filing.hours, breakGlass: breakGlass,
                filedBy: caller)
            switch lifecycle.file(request, id: TimeOrderedID.make("ar", at: now), at: now) {
            case .failure(let refusal):
                try transaction.append(
                    .accessRefused, time: now, actor: caller, tenant: tenant.id,
                    region: tenant.region,
                    body: .object([
                        ("code", .string(refusal.code)), ("rule", .optional(refusal.rule)),
                        ("staff", .string(filing.staff.id)),
                        ("physical_country", .string(filing.physicalCountry.rawValue)),
                        ("justification", .string(filing.justification)),
                        ("break_glass", .bool(breakGlass)),
                    ]))
                return .failure(refusal)
            case .success(let created):
                try AccessRepository(database).insert(created)
                let kind: LedgerKind =
                    created.isBreakGlass
                    ? .accessBreakGlass
                    : created.state == .autoApproved ? .accessAutoApproved : .accessRequested
                try transaction.append(
                    kind, time: now, actor: caller, tenant: created.tenant, region: created.region,
                    body: Self.ledgerBody(created))
                return .success(created)
            }
        }
        return try outcome.get(orThrow: ControllerError.accessRefused)
    }

    /// A request, with any transition time has brought applied (and recorded).
    package func accessRequest(id: String) throws -> AccessRequest {
        try context.commit { transaction in try current(id: id, in: transaction, at: clock.now()) }
    }

    package func accessRequests(
        tenant: String?, state: AccessState?, region: String?, limit: Int = 1000
    ) throws -> [AccessRequest] {
        try expireAccess()
        return try context.read {
            try AccessRepository($0).requests(tenant: tenant, state: state, region: region, limit: limit)
        }
    }

    /// Decides a pending request. A decision refused for separation of duties is recorded in the ledger as
    /// `access.refused` (stage `decision`): an attempt to approve one's own request is what auditors ask about.
    package func decideAccess(
        id: String, _ decision: AccessLifecycle.Decision, by caller: Caller, reason: String, hours: Int?
    ) throws -> AccessRequest {
        try TextLimit.decisionReason.check(reason)
        return try transition(
            id: id, kind: decision == .approve ? .accessApproved : decision == .deny ? .accessDenied : .accessDismissed,
            by: caller.tokenName,
            recording: { request, refusal in
                guard refusal.kind == .separationOfDuties else { return nil }
                return .object([
                    ("stage", .string("decision")), ("decision", .string(decision.rawValue)),
                    ("code", .string(refusal.code)), ("rule", .optional(refusal.rule)),
                    ("request", .string(request.id)), ("filed_by", .optional(request.filedBy)),
                    ("staff", .string(request.staff.id)),
                    ("physical_country", .string(request.physicalCountry.rawValue)),
                    ("justification", .string(request.justification)), ("break_glass", .bool(request.isBreakGlass)),
                ])
            }
        ) { request, now in
            lifecycle.decide(
                request, decision, by: caller.tokenName, deciderTenant: caller.tenant, reason: reason, hours: hours,
                at: now)
        }
    }

    package func closeAccess(
        id: String, _ closing: AccessLifecycle.Closing, by caller: Caller, reason: String
    ) throws -> AccessRequest {
        try TextLimit.decisionReason.check(reason)
        return try transition(
            id: id, kind: closing == .revoke ? .accessRevoked : .accessCompleted, by: caller.tokenName
        ) {
            request, now in
            lifecycle.close(request, closing, by: caller.tokenName, reason: reason, at: now)
        }
    }

    package func reviewAccess(id: String, by caller: Caller, note: String) throws -> AccessRequest {
        try TextLimit.reviewNote.check(note)
        return try transition(id: id, kind: .accessReviewed, by: caller.tokenName) { request, now in
            lifecycle.review(request, by: caller.tokenName, note: note, at: now)
        }
    }

    /// Records one use of a grant: allowed (activating the grant on first use) or refused — the event and
    /// its ledger entry are written either way; a refusal is then thrown.
    package func recordAccessEvent(
        requestID: String, _ use: AccessLifecycle.Use, by caller: String
    ) throws -> (request: AccessRequest, event: Int) {
        let outcome: Result<(AccessRequest, Int), AccessRefusal> = try context.commit { transaction in
            let database = transaction.database
            let now = clock.now()
            let repository = AccessRepository(database)
            guard let stored = try repository.request(id: requestID) else {
                throw ControllerError.notFound(kind: "access request", id: requestID)
            }
            let result = lifecycle.use(stored, use, at: now)
            var record: [(key: String, value: JSONValue)] = [
                ("request", .string(requestID)), ("staff", .string(use.staffID)),
                ("physical_country", .string(use.physicalCountry.rawValue)),
                ("method", .string(use.method)), ("resource", .string(use.resource)),
                ("data_class", .string(use.dataClass.rawValue)),
                ("mode", .string(use.mode.rawValue)), ("time", .string(Timestamp.rfc3339(milliseconds: now))),
            ]
            switch result {
            case .success(let updated):
                if updated.state != stored.state {
                    try repository.update(updated)
                    try transaction.append(
                        .accessActivated, time: now, actor: caller, tenant: updated.tenant,
                        region: updated.region, body: Self.ledgerBody(updated))
                }
                record.append(("outcome", .string("allowed")))
                let event = try repository.insertEvent(
                    requestID: requestID, tenant: stored.tenant, allowed: true, at: now, record: .object(record))
                try transaction.append(
                    .accessUsed, time: now, actor: caller, tenant: stored.tenant,
                    region: stored.region, body: .object(record + [("event", .integer(event))]))
                return .success((updated, event))
            case .failure(let refusal):
                if let expired = refusal.expired {
                    try repository.update(expired)
                    try transaction.append(
                        .accessExpired, time: now, actor: "policy", tenant: expired.tenant,
                        region: expired.region, body: Self.ledgerBody(expired))
                }
                record += [("outcome", .string("refused")), ("refusal", .string(refusal.code))]
                // The rule and the sentence the caller was given, so a report of refused uses can show them.
                let why: [(key: String, value: JSONValue)] = [
                    ("rule", .optional(refusal.rule)), ("message", .string(refusal.message)),
                ]
                let event = try repository.insertEvent(
                    requestID: requestID, tenant: stored.tenant, allowed: false, at: now, record: .object(record))
                try transaction.append(
                    .accessUseRefused, time: now, actor: caller, tenant: stored.tenant,
                    region: stored.region, body: .object(record + why + [("event", .integer(event))]))
                return .failure(refusal)
            }
        }
        let (request, event) = try outcome.get(orThrow: ControllerError.accessRefused)
        return (request, event)
    }

    /// Moves every request time has ended to `expired`, each with its ledger entry. Idempotent.
    @discardableResult
    package func expireAccess() throws -> Int {
        let expired = try context.commit { transaction in
            let database = transaction.database
            let now = clock.now()
            var count = 0
            let repository = AccessRepository(database)
            for request in try repository.openRequests() {
                if let expired = lifecycle.expired(request, at: now) {
                    try repository.update(expired)
                    try transaction.append(
                        .accessExpired, time: now, actor: "policy", tenant: expired.tenant,
                        region: expired.region, body: Self.ledgerBody(expired))
                    count += 1
                }
            }
            return count
        }
        if expired > 0 { context.counters.increment(.accessExpiries, by: expired) }
        return expired
    }

    /// Enrols a tenant in (or out of) customer approval. Once the tenant's own administrator (a token scoped to
    /// the tenant) has switched it on, only such a token may switch it off: otherwise staff could lift it,
    /// approve their own way in and switch it back, and the customer would never be asked. Such a refusal is
    /// recorded in the ledger (`tenant.customer_approval_refused`) and thrown.
    package func setCustomerApproval(tenant id: String, enabled: Bool, by caller: Caller) throws {
        let byTenant = caller.tenant == id
        let outcome: Result<Void, AccessRefusal> = try context.commit { transaction in
            let database = transaction.database
            let tenants = TenantRepository(database)
            guard let tenant = try tenants.tenant(id: id) else {
                throw ControllerError.notFound(kind: "tenant", id: id)
            }
            let now = clock.now()
            let current = try tenants.customerApprovalSetting(id: id)
            if !enabled, current.enabled, current.byTenant, !byTenant {
                let refusal = AccessRefusal(
                    code: .customerApprovalSetByTenant, rule: nil,
                    message:
                        "tenant \(id)'s administrator requires customer approval; only the tenant's administrator (a token scoped to tenant \(id)) may switch it off, not \(caller.tokenName)"
                )
                try transaction.append(
                    .customerApprovalRefused, time: now, actor: caller.tokenName,
                    tenant: id, region: tenant.region,
                    body: .object([("enabled", .bool(enabled)), ("code", .string(refusal.code))]))
                return .failure(refusal)
            }
            // Switched on by the tenant, it stays the tenant's to lift even if staff switch it on again too.
            let setByTenant = enabled && (byTenant || (current.enabled && current.byTenant))
            try tenants.setCustomerApproval(id: id, enabled: enabled, byTenant: setByTenant)
            try transaction.append(
                .customerApproval, time: now, actor: caller.tokenName, tenant: id,
                region: tenant.region,
                body: .object([("enabled", .bool(enabled)), ("by_tenant", .bool(setByTenant))]))
            return .success(())
        }
        try outcome.get(orThrow: ControllerError.accessRefused)
    }

    private func current(id: String, in transaction: LedgerTransaction, at now: Int64) throws -> AccessRequest {
        let repository = AccessRepository(transaction.database)
        guard let stored = try repository.request(id: id) else {
            throw ControllerError.notFound(kind: "access request", id: id)
        }
        if let expired = lifecycle.expired(stored, at: now) {
            try repository.update(expired)
            try transaction.append(
                .accessExpired, time: now, actor: "policy", tenant: expired.tenant,
                region: expired.region, body: Self.ledgerBody(expired))
            return expired
        }
        return stored
    }

    /// One decision or closing: applied and recorded together, or refused (recording any expiry found, and
    /// the refusal as `access.refused` when `recording` gives a body for it).
    private func transition(
        id: String, kind: LedgerKind, by caller: String,
        recording: (AccessRequest, AccessRefusal) -> JSONValue? = { _, _ in nil },
        _ step: (AccessRequest, Int64) -> Result<AccessRequest, AccessRefusal>
    ) throws -> AccessRequest {
        let outcome: Result<AccessRequest, AccessRefusal> = try context.commit { transaction in
            let database = transaction.database
            let now = clock.now()
            let current = try current(id: id, in: transaction, at: now)
            switch step(current, now) {
            case .success(let updated):
                try AccessRepository(database).update(updated)
                try transaction.append(
                    kind, time: now, actor: caller, tenant: updated.tenant, region: updated.region,
                    body: Self.ledgerBody(updated))
                return .success(updated)
            case .failure(let refusal):
                if let body = recording(current, refusal) {
                    try transaction.append(
                        .accessRefused, time: now, actor: caller, tenant: current.tenant,
                        region: current.region, body: body)
                }
                return .failure(refusal)
            }
        }
        return try outcome.get(orThrow: ControllerError.accessRefused)
    }

    /// What the ledger keeps of a request: identifiers, countries, codes, the basis and the state.
    static func ledgerBody(_ request: AccessRequest) -> JSONValue {
        .object([
            ("request", .string(request.id)), ("state", .string(request.state.rawValue)),
            ("staff", .string(request.staff.id)),
            ("entity", .string(request.staff.entity)), ("office", .string(request.staff.office)),
            ("office_country", .string(request.officeCountry.rawValue)),
            ("physical_country", .string(request.physicalCountry.rawValue)),
            ("justification", .string(request.justification)), ("detail", .string(request.detail)),
            ("scope", .array(request.scope.dataClasses.map(\.rawValue).sorted().map { .string($0) })),
            ("mode", .string(request.scope.mode.rawValue)),
            ("requested_hours", .integer(request.requestedHours)),
            ("granted_hours", request.grantedHours.map { .integer($0) } ?? .null),
            ("break_glass", .bool(request.isBreakGlass)), ("basis", .string(request.basis.mechanism.code)),
            ("basis_rule", .string(request.basis.rule)),
        ])
    }
}

extension Result {
    /// The success value, or the failure mapped to an error.
    func get<E: Error>(orThrow transform: (Failure) -> E) throws -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let failure): throw transform(failure)
        }
    }
}
