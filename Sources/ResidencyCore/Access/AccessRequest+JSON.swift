extension TransferMechanism {
    package var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = [("mechanism", .string(code)), ("summary", .string(summary))]
        switch self {
        case .notATransfer: break
        case .adequacy(let reference): members.append(("reference", .string(reference)))
        case .euSCC(let module, let contract, let tia):
            members += [("module", .integer(module)), ("contract", .string(contract)), ("tia", .optional(tia))]
        case .ukIDTA(let contract, let tia), .ukAddendum(let contract, let tia):
            members += [("contract", .string(contract)), ("tia", .optional(tia))]
        case .localLaw(let law, let provision, let tia):
            members += [("law", .string(law)), ("provision", .string(provision)), ("tia", .optional(tia))]
        case .forbidden(let reason): members.append(("reason", .string(reason)))
        }
        return .object(members)
    }

    init?(json: JSONValue) {
        func text(_ key: String) -> String? { if case .string(let s) = json[key] { return s } else { return nil } }
        switch text("mechanism") {
        case "not_a_transfer": self = .notATransfer
        case "adequacy": guard let r = text("reference") else { return nil }; self = .adequacy(reference: r)
        case "eu_scc":
            guard case .number(let m) = json["module"], let module = m.int64Value, let c = text("contract") else {
                return nil
            }
            self = .euSCC(module: Int(module), contract: c, impactAssessment: text("tia"))
        case "uk_idta":
            guard let c = text("contract") else { return nil };
            self = .ukIDTA(contract: c, impactAssessment: text("tia"))
        case "uk_addendum":
            guard let c = text("contract") else { return nil };
            self = .ukAddendum(contract: c, impactAssessment: text("tia"))
        case "local_law":
            guard let l = text("law"), let p = text("provision") else { return nil }
            self = .localLaw(law: l, provision: p, impactAssessment: text("tia"))
        case "forbidden": guard let r = text("reason") else { return nil }; self = .forbidden(reason: r)
        default: return nil
        }
    }
}

extension AccessRequest {
    /// The full record, as stored and as the API shows it (times in RFC 3339).
    package func jsonValue(at now: Int64? = nil) -> JSONValue {
        func time(_ value: Int64?) -> JSONValue { value.map { .string(Timestamp.rfc3339(milliseconds: $0)) } ?? .null }
        var members: [(key: String, value: JSONValue)] = [
            ("id", .string(id)), ("tenant", .string(tenant)), ("region", .string(region)),
            ("state", .string(state.rawValue)),
            ("break_glass", .bool(isBreakGlass)), ("customer_approval_required", .bool(customerApprovalRequired)),
            ("filed_by", .optional(filedBy)),
            (
                "staff",
                .object([
                    ("id", .string(staff.id)), ("entity", .string(staff.entity)), ("role", .string(staff.jobRole)),
                    ("office", .string(staff.office)),
                ])
            ),
            ("office_country", .string(officeCountry.rawValue)),
            ("physical_country", .string(physicalCountry.rawValue)),
            ("justification", .string(justification)), ("detail", .string(detail)),
            (
                "scope",
                .object([
                    ("data_classes", .array(scope.dataClasses.map(\.rawValue).sorted().map { .string($0) })),
                    ("mode", .string(scope.mode.rawValue)),
                ])
            ),
            ("requested_hours", .integer(requestedHours)),
            ("granted_hours", grantedHours.map { .integer($0) } ?? .null),
            (
                "transfer_basis",
                .object(
                    [("rule", .string(basis.rule)), ("destination", .string(basis.destination.rawValue))]
                        + {
                            if case .object(let m) = basis.mechanism.jsonValue { return m } else { return [] }
                        }())
            ),
            ("created_at", time(createdAt)), ("pending_until", time(pendingUntil)), ("decided_at", time(decidedAt)),
            ("decided_by", .optional(decidedBy)), ("decision_reason", .optional(decisionReason)),
            ("activated_at", time(activatedAt)),
            ("grant_expires_at", time(grantExpiresAt)), ("closed_at", time(closedAt)),
            ("closed_by", .optional(closedBy)),
            ("review_due_at", time(reviewDueAt)), ("reviewed_at", time(reviewedAt)),
            ("reviewed_by", .optional(reviewedBy)),
            ("review_note", .optional(reviewNote)),
        ]
        if let now { members.append(("review_overdue", .bool(isReviewOverdue(at: now)))) }
        return .object(members)
    }

    /// Reads a stored record back; nil when it is not one.
    package init?(json: JSONValue) {
        func text(_ key: String, in value: JSONValue? = nil) -> String? {
            if case .string(let s) = (value ?? json)[key] { return s } else { return nil }
        }
        func time(_ key: String) -> Int64? { text(key).flatMap(Timestamp.milliseconds(rfc3339:)) }
        func integer(_ key: String) -> Int? {
            if case .number(let n) = json[key], let v = n.int64Value { return Int(v) } else { return nil }
        }
        func bool(_ key: String) -> Bool? { if case .bool(let b) = json[key] { return b } else { return nil } }
        guard let id = text("id"), let tenant = text("tenant"), let region = text("region"),
            let state = text("state").flatMap(AccessState.init(rawValue:)), let breakGlass = bool("break_glass"),
            let customerApproval = bool("customer_approval_required"), let staffJSON = json["staff"],
            let staffID = text("id", in: staffJSON), let entity = text("entity", in: staffJSON),
            let role = text("role", in: staffJSON),
            let office = text("office", in: staffJSON),
            let officeCountry = text("office_country").flatMap(CountryCode.init),
            let physical = text("physical_country").flatMap(CountryCode.init),
            let justification = text("justification"),
            let detail = text("detail"), let scopeJSON = json["scope"],
            let mode = text("mode", in: scopeJSON).flatMap(AccessScope.Mode.init),
            case .array(let classes) = scopeJSON["data_classes"], let requestedHours = integer("requested_hours"),
            let basisJSON = json["transfer_basis"], let rule = text("rule", in: basisJSON),
            let destination = text("destination", in: basisJSON).flatMap(CountryCode.init),
            let mechanism = TransferMechanism(json: basisJSON), let createdAt = time("created_at"),
            let pendingUntil = time("pending_until")
        else { return nil }
        let dataClasses = Set(
            classes.compactMap { value -> AccessScope.DataClass? in
                if case .string(let s) = value { return AccessScope.DataClass(rawValue: s) } else { return nil }
            })
        self.init(
            id: id, tenant: tenant, region: region,
            staff: StaffMember(id: staffID, entity: entity, jobRole: role, office: office),
            officeCountry: officeCountry, physicalCountry: physical, justification: justification, detail: detail,
            scope: AccessScope(dataClasses: dataClasses, mode: mode), requestedHours: requestedHours,
            isBreakGlass: breakGlass,
            customerApprovalRequired: customerApproval, filedBy: text("filed_by"),
            basis: TransferBasis(region: region, destination: destination, mechanism: mechanism, rule: rule),
            createdAt: createdAt, pendingUntil: pendingUntil, state: state)
        grantedHours = integer("granted_hours")
        decidedAt = time("decided_at")
        decidedBy = text("decided_by")
        decisionReason = text("decision_reason")
        activatedAt = time("activated_at")
        grantExpiresAt = time("grant_expires_at")
        closedAt = time("closed_at")
        closedBy = text("closed_by")
        reviewDueAt = time("review_due_at")
        reviewedAt = time("reviewed_at")
        reviewedBy = text("reviewed_by")
        reviewNote = text("review_note")
    }
}
