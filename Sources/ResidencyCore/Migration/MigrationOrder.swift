import Foundation

/// The controller's order to two regional services to move one tenant's data between them: which migration,
/// which tenant, from which region and site (and that service's endpoint and key pin) to which, until when.
///
/// Both services check it: the source serves the tenant's snapshot and changes only to the service presenting
/// the target's pin, and only while the order is signed by the controller it enrolled with, unexpired, unaltered
/// and for a migration it has not seen end; the target acts only on an order naming its own region. The nonce
/// makes every order issued unique, so two orders for one step are never the same bytes.
package struct MigrationOrder: Sendable, Equatable {
    /// One side of the move.
    package struct Party: Sendable, Equatable {
        package let region: String
        package let site: String
        package let endpoint: String
        package let pin: String

        package init(region: String, site: String, endpoint: String, pin: String) {
            self.region = region
            self.site = site
            self.endpoint = endpoint
            self.pin = pin
        }

        var jsonValue: JSONValue {
            .object([
                ("endpoint", .string(endpoint)), ("pin", .string(pin)), ("region", .string(region)),
                ("site", .string(site)),
            ])
        }
    }

    package let migration: String
    package let tenant: String
    package let source: Party
    package let target: Party
    package let issuedAt: Int64
    package let expiresAt: Int64
    package let nonce: String

    /// How long an order stays valid: long enough for one step; the controller issues a fresh order for every
    /// step, so a resumed migration never needs an old one.
    package static let lifetime: Int64 = 30 * 60 * 1000

    /// The slowest transfer an order for moving `bytes` allows for: 1 MiB/s.
    package static let slowestTransferBytesPerSecond: Int64 = 1 << 20

    /// The lifetime of an order for a step that moves `bytes` (the pull of a large tenant): the usual lifetime,
    /// or longer if the bytes at the slowest transfer rate would need longer — so a pull is never cut off by its
    /// own order's expiry.
    package static func lifetime(forBytes bytes: Int64) -> Int64 {
        max(lifetime, max(0, bytes) / slowestTransferBytesPerSecond * 1000)
    }

    package init(
        migration: String, tenant: String, source: Party, target: Party, issuedAt: Int64, expiresAt: Int64,
        nonce: String
    ) {
        self.migration = migration
        self.tenant = tenant
        self.source = source
        self.target = target
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.nonce = nonce
    }

    package var jsonValue: JSONValue {
        .object([
            ("expires_at", .string(Timestamp.rfc3339(milliseconds: expiresAt))),
            ("issued_at", .string(Timestamp.rfc3339(milliseconds: issuedAt))), ("migration", .string(migration)),
            ("nonce", .string(nonce)), ("source", source.jsonValue), ("target", target.jsonValue),
            ("tenant", .string(tenant)),
        ])
    }

    /// A context string, then the canonical JSON: these bytes read as no other signed message of the project.
    package var signedMessage: [UInt8] {
        Array("residency-migration-order-v1\n".utf8) + ((try? jsonValue.canonicalBytes()) ?? [])
    }
}

/// An order with the controller's Ed25519 signature, as it travels: `{"order": {…}, "signature": "…"}`.
package struct SignedMigrationOrder: Sendable, Equatable {
    package let order: MigrationOrder
    package let signature: [UInt8]

    package init(order: MigrationOrder, signature: [UInt8]) {
        self.order = order
        self.signature = signature
    }

    package var jsonValue: JSONValue {
        .object([("order", order.jsonValue), ("signature", .string(Data(signature).base64EncodedString()))])
    }

    package func isSigned(by key: Ed25519PublicKey) -> Bool {
        key.isValidSignature(signature, for: order.signedMessage)
    }

    /// Reads an order strictly: every field present, of its type and shape; nothing else. At most 8 KiB.
    package init(parsing bytes: [UInt8]) throws(RegionEnrolmentError) {
        let envelope = try SignedEnvelope(
            parsing: bytes, member: "order",
            fields: ["expires_at", "issued_at", "migration", "nonce", "source", "target", "tenant"],
            noun: "the migration order", maximumBytes: 8 * 1024)
        let value = envelope.value
        let signature = envelope.signature
        func text(_ value: JSONValue?, _ name: String) throws(RegionEnrolmentError) -> String {
            guard case .string(let text)? = value, !text.isEmpty, text.utf8.count <= 256 else {
                throw RegionEnrolmentError("order.\(name): expected a non-empty string of at most 256 bytes")
            }
            return text
        }
        func time(_ name: String) throws(RegionEnrolmentError) -> Int64 {
            guard let time = Timestamp.milliseconds(rfc3339: try text(value["order"]?[name], name)) else {
                throw RegionEnrolmentError("order.\(name): expected an RFC 3339 time")
            }
            return time
        }
        func party(_ name: String) throws(RegionEnrolmentError) -> MigrationOrder.Party {
            guard case .object(let members)? = value["order"]?[name], members.count == 4 else {
                throw RegionEnrolmentError("order.\(name): expected {region, site, endpoint, pin}")
            }
            let party = value["order"]?[name]
            let region = try text(party?["region"], "\(name).region")
            guard region.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 45 || $0 == 95 })
            else {
                throw RegionEnrolmentError("order.\(name).region: \"\(region)\" is not a region id")
            }
            return MigrationOrder.Party(
                region: region, site: try text(party?["site"], "\(name).site"),
                endpoint: try text(party?["endpoint"], "\(name).endpoint"), pin: try text(party?["pin"], "\(name).pin"))
        }
        let tenant = try text(value["order"]?["tenant"], "tenant")
        guard TenantIDRule.isWellFormed(tenant) else {
            throw RegionEnrolmentError(
                "order.tenant: \"\(tenant)\" is not a tenant id; accepted: tn_ and 22 hex digits")
        }
        let migration = try text(value["order"]?["migration"], "migration")
        guard migration.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }) else {
            throw RegionEnrolmentError("order.migration: \"\(migration)\" is not a migration id")
        }
        self.order = MigrationOrder(
            migration: migration, tenant: tenant, source: try party("source"), target: try party("target"),
            issuedAt: try time("issued_at"), expiresAt: try time("expires_at"),
            nonce: try text(value["order"]?["nonce"], "nonce"))
        self.signature = Array(signature)
    }
}
