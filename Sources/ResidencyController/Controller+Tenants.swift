import ResidencyCore
import ResidencyStore

extension Controller {
    /// Creates a tenant where placement puts it, in one transaction with its idempotency key.
    ///
    /// The decision is taken inside the write transaction, against occupancy no other writer can change
    /// meanwhile, so two signups cannot both take a region's last place. With a key: the same key and body
    /// replay the first answer; the same key with another body is a conflict.
    public func signUp(
        _ signup: Signup, idempotency: IdempotencyKey? = nil, actor: String = "system"
    ) throws -> SignupResult {
        let name = signup.name.trimmingCharacters(in: .whitespaces)
        try TextLimit.tenantName.check(name)
        let outcome: SignupOutcome
        do {
            outcome = try pool.write { database -> SignupOutcome in
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
                let decision = placer.place(signup.placementRequest, occupancy: occupancy.withLock { $0 })
                let now = clock.now()
                guard case .placed(let region, let site, _) = decision.outcome else {
                    // A refusal is a residency check refused: on record, though nothing else changes.
                    try Ledger.append(
                        in: database, time: now, kind: "signup.refused", actor: actor, region: signup.requestedRegion,
                        body: Self.ledgerBody(of: decision, plan: signup.plan))
                    return .refused(decision)
                }
                let tenant = Tenant(
                    id: TenantID.make(at: now), name: name, plan: signup.plan, country: decision.country,
                    region: region,
                    site: site, status: .active, createdAt: now, policyVersion: decision.policyVersion.hex)
                let placement = decision.jsonValue
                try tenants.insert(tenant, placement: placement.encoded())
                if let idempotency {
                    try keys.insert(
                        scope: idempotency.scope, key: idempotency.key, requestHash: idempotency.requestHash,
                        tenantID: tenant.id, createdAt: now)
                }
                try Ledger.append(
                    in: database, time: now, kind: "tenant.created", actor: actor, tenant: tenant.id, region: region,
                    body: Self.ledgerBody(of: decision, plan: signup.plan).adding([("site", .string(site))]))
                occupancy.withLock { $0[region, default: 0] += 1 }
                database.onRollback { self.occupancy.withLock { $0[region, default: 0] -= 1 } }
                return .created(SignupResult(tenant: tenant, placement: placement, replayed: false))
            }
        } catch let error as ControllerError {
            throw error
        } catch {
            throw ControllerError.classify(error) ?? ControllerError.storage(String(describing: error))
        }
        _ = try? ledger.signCheckpoint()
        switch outcome {
        case .created(let result):
            // The data is created after the directory entry commits; a crash in between is repaired at start-up
            // by `provisionMissingTenantData`.
            if let dataPlane, !result.replayed {
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
        case .refused(let decision): throw ControllerError.placementRefused(decision)
        }
    }

    enum SignupOutcome: Sendable {
        case created(SignupResult)
        case refused(PlacementDecision)
    }

    /// What the ledger keeps of a decision: identifiers, countries, codes and the policy version — never the
    /// customer's name or IP address, which the reasons' messages quote.
    static func ledgerBody(of decision: PlacementDecision, plan: Plan) -> JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("plan", .string(plan.rawValue)),
            ("country", .optional(decision.country?.rawValue)),
            ("declared_country", .optional(decision.declaredCountry?.rawValue)),
            ("geolocated_country", .optional(decision.geolocatedCountry?.rawValue)),
            ("reasons", .array(decision.reasons.map { .string($0.code) })),
            ("policy_version", .string(decision.policyVersion.hex)),
        ]
        if let refusal = decision.refusal {
            members.append(
                ("refusal", .object([("code", .string(refusal.code.rawValue)), ("rule", .optional(refusal.rule))])))
        }
        return .object(members)
    }

    public func tenant(id: String) throws -> (tenant: Tenant, placement: JSONValue) {
        let found = try pool.read { database -> (Tenant, String?)? in
            let tenants = TenantRepository(database)
            guard let tenant = try tenants.tenant(id: id) else { return nil }
            return (tenant, try tenants.placement(id: id))
        }
        guard let found else { throw ControllerError.notFound(kind: "tenant", id: id) }
        return (found.0, found.1.flatMap { try? JSONParser.parse($0) } ?? .null)
    }

    /// A page of the directory, in id order; `next` is the cursor of the following page, nil at the end.
    public func tenants(
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
        let page = try pool.read {
            try TenantRepository($0).tenants(region: region, status: status, after: cursor, limit: limit + 1)
        }
        let next = page.count > limit ? page[limit - 1].id : nil
        return (Array(page.prefix(limit)), next)
    }
}

/// Identifiers of records the controller creates: a prefix, 12 hex digits of creation time in milliseconds
/// and 10 random hex digits — so ids sort by creation (listings page in id order) and cannot be guessed.
enum TimeOrderedID {
    static func make(_ prefix: String, at milliseconds: Int64) -> String {
        let time = String(UInt64(max(0, milliseconds)), radix: 16)
        return prefix + "_" + String(repeating: "0", count: max(0, 12 - time.count)) + time + SecureRandom.hex(5)
    }
}

/// Tenant identifiers: `tn_` and a time-ordered id.
public enum TenantID {
    public static func make(at milliseconds: Int64) -> String { TimeOrderedID.make("tn", at: milliseconds) }

    public static func isWellFormed(_ id: String) -> Bool {
        id.utf8.count == 25 && id.hasPrefix("tn_")
            && id.utf8.dropFirst(3).allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }
}
