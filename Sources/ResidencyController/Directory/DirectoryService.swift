import ResidencyCore
import ResidencyStore

/// The directory of tenants: signup and placement, the directory's views, residency checks and the application's
/// reads and writes of tenant data.
package final class DirectoryService: ControllerService {
    let context: ControllerContext

    /// The placements counter's cells for each region's placements, resolved once (see `PlacementTally`).
    let placementTally: PlacementTally

    init(context: ControllerContext) {
        self.context = context
        placementTally = PlacementTally(regions: context.placer.policies.catalog.regionIDs, counters: context.counters)
    }

    package var placer: SignupPlacer { context.placer }

    /// The number of live tenants per region, as placement sees it (see `TenantOccupancy`).
    package var tenantCounts: [String: Int] { context.occupancy.counts }

    /// Where a signup would go; nothing is stored. Counted by region and outcome.
    package func place(_ request: PlacementRequest) -> PlacementDecision {
        let decision = placer.place(request, occupancy: tenantCounts, unreachable: regional?.unreachableRegions ?? [])
        countPlacement(region: decision.region, refusal: decision.refusal?.code.rawValue)
        return decision
    }

    /// Counts a placement decision (`residency_placements_total`): the region is a catalog id (empty for a
    /// refusal) and the outcome `placed` or a refusal code — both closed sets.
    func countPlacement(region: String?, refusal: String?) {
        if refusal == nil, let region, let cell = placementTally.placed(in: region) {
            cell.add()
            return
        }
        context.counters.increment(.placements, [("region", region ?? ""), ("outcome", refusal ?? "placed")])
    }
}

extension DirectoryService {
    /// Creates a tenant where placement puts it, in one transaction with its idempotency key.
    ///
    /// The decision is taken inside the write transaction, against occupancy no other writer can change
    /// meanwhile, so two signups cannot both take a region's last place. With a key: the same key and body
    /// replay the first answer; the same key with another body is a conflict.
    package func signUp(
        _ signup: Signup, idempotency: IdempotencyKey? = nil, actor: String = "system"
    ) throws -> SignupResult {
        let name = signup.name.trimmingSpaces()
        try TextLimit.tenantName.check(name)
        // Work done before the write, off the commit path where signups wait for one another: the decision as
        // occupancy was last known (not read again: see `TenantOccupancy.lastKnown`), with its JSON, and the tenant
        // id's random part. The write takes the decision again against its own occupancy and uses the JSON only
        // if the decision came out the same.
        let preview = Self.PreparedPlacement(
            placer.place(
                signup.placementRequest, occupancy: context.occupancy.lastKnown,
                unreachable: regional?.unreachableRegions ?? []))
        let idRandom = TimeOrderedID.randomPart()
        let outcome: SignupOutcome
        do {
            outcome = try context.commit { transaction -> SignupOutcome in
                let database = transaction.database
                let tenants = TenantRepository(database)
                let keys = IdempotencyRepository(database)
                if let idempotency, let existing = try keys.find(scope: idempotency.scope, key: idempotency.key) {
                    guard ConstantTime.equal(existing.requestHash, idempotency.requestHash) else {
                        throw ControllerError.idempotencyConflict(key: idempotency.key)
                    }
                    guard let tenant = try tenants.tenant(id: existing.tenantID) else {
                        throw ControllerError.storage("idempotency key refers to missing tenant \(existing.tenantID)")
                    }
                    let placement = try tenants.placement(id: tenant.id).flatMap { try? JSONParser.parse($0) } ?? .null
                    return .created(SignupResult(tenant: tenant, placement: placement, replayed: true))
                }
                let decision = placer.place(
                    signup.placementRequest, occupancy: try transaction.occupancy(),
                    unreachable: regional?.unreachableRegions ?? [])
                let now = clock.now()
                guard case .placed(let region, let site, _) = decision.outcome else {
                    // A refusal is a residency check refused: on record, though nothing else changes.
                    try transaction.append(
                        .signupRefused, time: now, actor: actor, region: signup.requestedRegion,
                        body: Self.ledgerBody(of: decision, plan: signup.plan))
                    return .refused(decision)
                }
                let tenant = Tenant(
                    id: TenantID.make(at: now, random: idRandom), name: name, plan: signup.plan,
                    country: decision.country, region: region,
                    site: site, status: .active, createdAt: now, policyVersion: decision.policyVersion.hex)
                let prepared = preview.decision == decision ? preview : Self.PreparedPlacement(decision)
                let placement = prepared.json
                try tenants.insert(tenant, placement: prepared.encoded)
                var trialExpiresAt: Int64?
                if signup.plan == .trial {
                    // The trial clock starts at signup, from the policy; billing's trial_started may move it.
                    var lifecycle = TenantLifecycle(plan: .trial, status: .active, createdAt: now)
                    lifecycle.trialExpiresAt = now + Int64(policies.retention.trialDays) * RetentionSchedule.day
                    trialExpiresAt = lifecycle.trialExpiresAt
                    try tenants.updateLifecycle(id: tenant.id, lifecycle)
                }
                if let idempotency {
                    try keys.insert(
                        scope: idempotency.scope, key: idempotency.key, requestHash: idempotency.requestHash,
                        tenantID: tenant.id, createdAt: now)
                }
                try transaction.append(
                    .tenantCreated, time: now, actor: actor, tenant: tenant.id, region: region,
                    body: Self.ledgerBody(
                        of: decision, plan: signup.plan, site: site, trialExpiresAt: trialExpiresAt))
                try transaction.changeOccupancy { $0[region, default: 0] += 1 }
                return .created(SignupResult(tenant: tenant, placement: placement, replayed: false))
            }
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.classify(error) ?? ControllerError.storage(String(describing: error))
        }
        switch outcome {
        case .created(let result):
            if !result.replayed {
                countPlacement(region: result.tenant.region, refusal: nil)
                context.counters.increment(.signups, [("region", result.tenant.region)])
            }
            // The data is created after the directory entry commits; a crash in between is repaired at start-up
            // by `provisionMissingTenantData`.
            if let regional, !result.replayed, try regional.joinedService(region: result.tenant.region) != nil {
                // The region's own service holds the data: it provisions it on the signed assignment.
                do {
                    try regional.assign(tenant: result.tenant.id)
                } catch {
                    context.report(failure: "assigning tenant \(result.tenant.id) to region \(result.tenant.region)'s service", error)
                }
            } else if let dataPlane, !result.replayed {
                do {
                    try dataPlane.provision(region: result.tenant.region, tenant: result.tenant.id)
                } catch {
                    let context =
                        "tenant \(result.tenant.id) was created but its data could not be provisioned (the server provisions it at its next start)"
                    throw ControllerError.classify(error, context: context)
                        ?? ControllerError.storage("\(context): \(error)")
                }
            }
            return result
        case .refused(let decision):
            countPlacement(region: nil, refusal: decision.refusal?.code.rawValue)
            throw ControllerError.placementRefused(decision)
        }
    }

    /// A placement decision with its JSON value and text, as a tenant's row stores it.
    struct PreparedPlacement {
        let decision: PlacementDecision
        let json: JSONValue
        let encoded: String

        init(_ decision: PlacementDecision) {
            self.decision = decision
            json = decision.jsonValue
            encoded = json.encoded()
        }
    }

    enum SignupOutcome: Sendable {
        case created(SignupResult)
        case refused(PlacementDecision)
    }

    /// What the ledger keeps of a decision: identifiers, countries, codes and the policy version — never the
    /// customer's name or IP address, which the reasons' messages quote — with the site and the trial's end of a
    /// tenant created. Built in key order, the canonical order, so the entry is encoded without sorting a copy of
    /// it in the commit every signup waits for.
    static func ledgerBody(
        of decision: PlacementDecision, plan: Plan, site: String? = nil, trialExpiresAt: Int64? = nil
    ) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("country", .optional(decision.country?.rawValue)),
            ("declared_country", .optional(decision.declaredCountry?.rawValue)),
            ("geolocated_country", .optional(decision.geolocatedCountry?.rawValue)),
            ("plan", .string(plan.rawValue)),
            ("policy_version", .string(decision.policyVersion.hex)),
            ("reasons", .array(decision.reasons.map { .string($0.code) })),
        ]
        if let refusal = decision.refusal {
            members.append(
                ("refusal", .object([("code", .string(refusal.code.rawValue)), ("rule", .optional(refusal.rule))])))
        }
        if let site { members.append(("site", .string(site))) }
        if let trialExpiresAt {
            members.append(("trial_expires_at", .string(Timestamp.rfc3339(milliseconds: trialExpiresAt))))
        }
        return .object(members)
    }

    package func tenant(id: String) throws -> (tenant: Tenant, placement: JSONValue) {
        let found = try context.read { database -> (Tenant, String?)? in
            let tenants = TenantRepository(database)
            guard let tenant = try tenants.tenant(id: id) else { return nil }
            return (tenant, try tenants.placement(id: id))
        }
        guard let found else { throw ControllerError.notFound(kind: "tenant", id: id) }
        return (found.0, found.1.flatMap { try? JSONParser.parse($0) } ?? .null)
    }

    /// A tenant as every view shows it: the directory entry, the placement decision when asked for, its clocks,
    /// why it is not active and the next action the retention schedule has for it. A deleted tenant's reason is
    /// its `lifecycle.deleted` ledger entry (rule and index), the record of what happened — unless `inList`, where
    /// a page of deleted tenants would scan the ledger once each: the rule is then read from the policy.
    package func tenantView(_ tenant: Tenant, placement: JSONValue? = nil, inList: Bool = false) throws -> JSONValue {
        guard let lifecycle = try context.read({ try TenantRepository($0).lifecycle(id: tenant.id) }) else {
            return tenant.jsonValue(placement: placement)
        }
        var members = context.schedule.members(for: lifecycle)
        if tenant.status == .deleted, !inList, let tombstone = try deletion(of: tenant.id) {
            members = members.map { $0.key == "status_reason" ? ("status_reason", tombstone.jsonValue) : $0 }
        }
        return tenant.jsonValue(placement: placement).adding(members)
    }

    /// What the ledger recorded of a tenant's deletion.
    package struct Deletion: Sendable {
        package let at: Int64
        package let rule: String?
        package let ledgerIndex: Int

        package var jsonValue: JSONValue {
            .object([
                ("status", .string("deleted")), ("since", .string(Timestamp.rfc3339(milliseconds: at))),
                ("rule", .optional(rule)), ("ledger_index", .integer(ledgerIndex)),
            ])
        }

        /// "deleted on 2026-12-01T00:00:00Z (rule trial-expired, ledger entry 42)".
        package var summary: String {
            "deleted on \(Timestamp.rfc3339(milliseconds: at)) ("
                + (rule.map { "rule \($0), " } ?? "") + "ledger entry \(ledgerIndex))"
        }
    }

    package func deletion(of id: String) throws -> Deletion? {
        let found = try context.read {
            try LedgerRepository($0).latestEntry(kind: LedgerKind.lifecycleDeleted.rawValue, tenant: id)
        }
        guard let found, let entry = try? JSONParser.parse(found.entry) else { return nil }
        var rule: String?
        if case .string(let text)? = entry["body"]?["rule"] { rule = text }
        var at: Int64 = 0
        if case .string(let text)? = entry["body"]?["due_at"] { at = Timestamp.milliseconds(rfc3339: text) ?? 0 }
        return Deletion(at: at, rule: rule, ledgerIndex: found.index)
    }

    /// A page of the directory, in id order; `next` is the cursor of the following page, nil at the end.
    package func tenants(
        region: String?, status: TenantStatus?, limit: Int, after cursor: String?
    ) throws
        -> (tenants: [Tenant], next: String?)
    {
        if let region, policies.catalog.region(id: region) == nil {
            throw ControllerError.invalidField(
                field: "region",
                message: "unknown region \"\(region)\"; accepted: \(policies.catalog.regionIDs.joined(separator: ", "))"
            )
        }
        guard (1...1000).contains(limit) else {
            throw ControllerError.invalidField(field: "limit", message: "\(limit) is out of range; accepted: 1...1000")
        }
        // One extra row tells whether another page follows.
        let page = try context.read {
            try TenantRepository($0).tenants(region: region, status: status, after: cursor, limit: limit + 1)
        }
        let next = page.count > limit ? page[limit - 1].id : nil
        return (Array(page.prefix(limit)), next)
    }
}

/// Identifiers of records the controller creates: a prefix, 12 hex digits of creation time in milliseconds
/// and 10 random hex digits — so ids sort by creation (listings page in id order) and cannot be guessed.
enum TimeOrderedID {
    static func make(_ prefix: String, at milliseconds: Int64, random: String = randomPart()) -> String {
        let time = String(UInt64(max(0, milliseconds)), radix: 16)
        return prefix + "_" + String(repeating: "0", count: max(0, 12 - time.count)) + time + random
    }

    /// The random part of an id (five random bytes in hex): drawn apart from `make` where the id is made inside
    /// a write, so that the CSPRNG call stays off the commit path.
    static func randomPart() -> String { SecureRandom.hex(5) }
}

/// Tenant identifiers: `tn_` and a time-ordered id.
package enum TenantID {
    /// A new id for a tenant created at `milliseconds`; `random` is a part drawn beforehand (`randomPart`).
    package static func make(at milliseconds: Int64, random: String? = nil) -> String {
        TimeOrderedID.make("tn", at: milliseconds, random: random ?? TimeOrderedID.randomPart())
    }

    package static func isWellFormed(_ id: String) -> Bool { TenantIDRule.isWellFormed(id) }
}
