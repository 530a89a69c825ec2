import Foundation

/// The controller's word to the regional services about one tenant: where it lives (region, site, and the
/// endpoint of that region's service), in which state, under which policy version — and its epoch, which grows
/// with every change, so an older assignment never overrides a newer one.
///
/// A regional service stores and serves a tenant's data only under a current assignment naming its own region,
/// signed by the controller key it pinned at enrolment; assignments naming other regions tell it where to send
/// a misdirected caller (421).
package struct TenantAssignment: Sendable, Equatable {
    package let tenant: String
    package let region: String
    package let site: String
    package let endpoint: String
    package let status: TenantStatus
    package let epoch: Int64
    package let policyVersion: String
    package let issuedAt: Int64

    package init(
        tenant: String, region: String, site: String, endpoint: String, status: TenantStatus, epoch: Int64,
        policyVersion: String, issuedAt: Int64
    ) {
        self.tenant = tenant
        self.region = region
        self.site = site
        self.endpoint = endpoint
        self.status = status
        self.epoch = epoch
        self.policyVersion = policyVersion
        self.issuedAt = issuedAt
    }

    package var jsonValue: JSONValue {
        .object([
            ("endpoint", .string(endpoint)), ("epoch", .integer(epoch)),
            ("issued_at", .string(Timestamp.rfc3339(milliseconds: issuedAt))), ("policy_version", .string(policyVersion)),
            ("region", .string(region)), ("site", .string(site)), ("status", .string(status.rawValue)),
            ("tenant", .string(tenant)),
        ])
    }

    /// What is signed: a context string, then the canonical JSON — so the bytes cannot be read as any other
    /// signed message of the project (checkpoints, cosignatures, TLS).
    package var signedMessage: [UInt8] {
        Array("residency-assignment-v1\n".utf8) + ((try? jsonValue.canonicalBytes()) ?? [])
    }
}

/// An assignment with the controller's Ed25519 signature, as it travels: `{"assignment": {…}, "signature": "…"}`.
package struct SignedAssignment: Sendable, Equatable {
    package let assignment: TenantAssignment
    package let signature: [UInt8]

    package init(assignment: TenantAssignment, signature: [UInt8]) {
        self.assignment = assignment
        self.signature = signature
    }

    package var jsonValue: JSONValue {
        .object([("assignment", assignment.jsonValue), ("signature", .string(Data(signature).base64EncodedString()))])
    }

    package func isSigned(by key: Ed25519PublicKey) -> Bool {
        key.isValidSignature(signature, for: assignment.signedMessage)
    }

    /// Reads an assignment strictly: every field present, of its type and shape; nothing else.
    package init(parsing bytes: [UInt8]) throws(RegionEnrolmentError) {
        let envelope = try SignedEnvelope(
            parsing: bytes, member: "assignment",
            fields: ["endpoint", "epoch", "issued_at", "policy_version", "region", "site", "status", "tenant"],
            noun: "the assignment", maximumBytes: 16 * 1024)
        let value = envelope.value
        let signature = envelope.signature
        func text(_ key: String) throws(RegionEnrolmentError) -> String {
            guard case .string(let text)? = value["assignment"]?[key], !text.isEmpty, text.utf8.count <= 256 else {
                throw RegionEnrolmentError("assignment.\(key): expected a non-empty string of at most 256 bytes")
            }
            return text
        }
        let tenant = try text("tenant")
        guard TenantIDRule.isWellFormed(tenant) else {
            throw RegionEnrolmentError("assignment.tenant: \"\(tenant)\" is not a tenant id; accepted: tn_ and 22 hex digits")
        }
        guard let status = TenantStatus(rawValue: try text("status")) else {
            throw RegionEnrolmentError("assignment.status: accepted: \(TenantStatus.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard case .number(let number)? = value["assignment"]?["epoch"], let epoch = number.int64Value, epoch >= 1 else {
            throw RegionEnrolmentError("assignment.epoch: expected an integer of at least 1")
        }
        guard let issuedAt = Timestamp.milliseconds(rfc3339: try text("issued_at")) else {
            throw RegionEnrolmentError("assignment.issued_at: expected an RFC 3339 time")
        }
        let region = try text("region")
        guard region.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 }) else {
            throw RegionEnrolmentError("assignment.region: \"\(region)\" is not a region id")
        }
        self.assignment = TenantAssignment(
            tenant: tenant, region: region, site: try text("site"), endpoint: try text("endpoint"), status: status,
            epoch: epoch, policyVersion: try text("policy_version"), issuedAt: issuedAt)
        self.signature = Array(signature)
    }
}
