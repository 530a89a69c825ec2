import Foundation

/// The controller's word to a regional service about one support access grant: who (staff member, from which
/// country), to which tenant's data (data classes, read or write), until when — or that it is over (`revoked`
/// covers every way a grant ends early: revoked, completed, expired by the controller). The service checks every
/// support use against it itself, with its own clock, even while the controller is down; an ended grant is never
/// granted again (a new grant is a new request).
package struct SupportGrant: Sendable, Equatable {
    package enum State: String, Sendable, CaseIterable { case granted, revoked }

    package let request: String
    package let tenant: String
    package let region: String
    package let staff: String
    package let physicalCountry: String
    package let dataClasses: [String]
    package let mode: AccessScope.Mode
    package let expiresAt: Int64
    package let state: State
    package let issuedAt: Int64

    package init(
        request: String, tenant: String, region: String, staff: String, physicalCountry: String, dataClasses: [String],
        mode: AccessScope.Mode, expiresAt: Int64, state: State, issuedAt: Int64
    ) {
        self.request = request
        self.tenant = tenant
        self.region = region
        self.staff = staff
        self.physicalCountry = physicalCountry
        self.dataClasses = dataClasses.sorted()
        self.mode = mode
        self.expiresAt = expiresAt
        self.state = state
        self.issuedAt = issuedAt
    }

    package var jsonValue: JSONValue {
        .object([
            ("data_classes", .array(dataClasses.map { .string($0) })),
            ("expires_at", .string(Timestamp.rfc3339(milliseconds: expiresAt))),
            ("issued_at", .string(Timestamp.rfc3339(milliseconds: issuedAt))), ("mode", .string(mode.rawValue)),
            ("physical_country", .string(physicalCountry)), ("region", .string(region)), ("request", .string(request)),
            ("staff", .string(staff)), ("state", .string(state.rawValue)), ("tenant", .string(tenant)),
        ])
    }

    package var signedMessage: [UInt8] {
        Array("residency-grant-v1\n".utf8) + ((try? jsonValue.canonicalBytes()) ?? [])
    }

    /// Whether a use is allowed now, or the refusal's code and sentence (the same codes the controller uses).
    package func check(staff: String, physicalCountry: String, dataClass: String, mode: AccessScope.Mode, at now: Int64)
        -> (code: String, message: String)?
    {
        guard state == .granted else { return ("no_active_grant", "the grant of request \(request) has ended") }
        guard now < expiresAt else { return ("grant_expired", "the grant of request \(request) is over") }
        guard staff == self.staff else { return ("wrong_staff", "the grant belongs to \(self.staff), not \(staff)") }
        guard physicalCountry == self.physicalCountry else {
            return ("wrong_country", "the grant covers access from \(self.physicalCountry), not \(physicalCountry)")
        }
        guard dataClasses.contains(dataClass), self.mode == .write || mode == .read else {
            return (
                "out_of_scope",
                "\(mode.rawValue) access to \(dataClass) is outside the grant (\(self.mode.rawValue): \(dataClasses.joined(separator: ", ")))"
            )
        }
        return nil
    }
}

/// A grant with the controller's Ed25519 signature: `{"grant": {…}, "signature": "…"}`.
package struct SignedSupportGrant: Sendable, Equatable {
    package let grant: SupportGrant
    package let signature: [UInt8]

    package init(grant: SupportGrant, signature: [UInt8]) {
        self.grant = grant
        self.signature = signature
    }

    package var jsonValue: JSONValue {
        .object([("grant", grant.jsonValue), ("signature", .string(Data(signature).base64EncodedString()))])
    }

    package func isSigned(by key: Ed25519PublicKey) -> Bool { key.isValidSignature(signature, for: grant.signedMessage) }

    package init(parsing bytes: [UInt8]) throws(RegionEnrolmentError) {
        let envelope = try SignedEnvelope(
            parsing: bytes, member: "grant",
            fields: [
                "data_classes", "expires_at", "issued_at", "mode", "physical_country", "region", "request", "staff",
                "state", "tenant",
            ], noun: "the grant", maximumBytes: 16 * 1024)
        let value = envelope.value
        let signature = envelope.signature
        func text(_ key: String) throws(RegionEnrolmentError) -> String {
            guard case .string(let text)? = value["grant"]?[key], !text.isEmpty, text.utf8.count <= 256 else {
                throw RegionEnrolmentError("grant.\(key): expected a non-empty string of at most 256 bytes")
            }
            return text
        }
        guard case .array(let classes)? = value["grant"]?["data_classes"], classes.count <= 16 else {
            throw RegionEnrolmentError("grant.data_classes: expected an array of data classes")
        }
        var dataClasses: [String] = []
        for item in classes {
            guard case .string(let name) = item, AccessScope.DataClass(rawValue: name) != nil else {
                throw RegionEnrolmentError(
                    "grant.data_classes: accepted: \(AccessScope.DataClass.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            dataClasses.append(name)
        }
        guard let mode = AccessScope.Mode(rawValue: try text("mode")), let state = SupportGrant.State(rawValue: try text("state")),
            let expiresAt = Timestamp.milliseconds(rfc3339: try text("expires_at")),
            let issuedAt = Timestamp.milliseconds(rfc3339: try text("issued_at"))
        else {
            throw RegionEnrolmentError("grant: mode is read|write, state granted|revoked, times RFC 3339")
        }
        let tenant = try text("tenant")
        guard TenantIDRule.isWellFormed(tenant) else { throw RegionEnrolmentError("grant.tenant: not a tenant id") }
        grant = SupportGrant(
            request: try text("request"), tenant: tenant, region: try text("region"), staff: try text("staff"),
            physicalCountry: try text("physical_country"), dataClasses: dataClasses, mode: mode, expiresAt: expiresAt,
            state: state, issuedAt: issuedAt)
        self.signature = Array(signature)
    }
}
