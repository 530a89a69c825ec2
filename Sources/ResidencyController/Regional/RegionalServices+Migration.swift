import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

/// The controller's side of moving a tenant between regional services: it tells each service its peers' keys,
/// signs one order per step and sends it to the service that acts — never carrying the tenant's bytes itself.
extension RegionalServices {
    /// Time allowed to a service for one migration step (a pull of a large tenant runs for minutes).
    static let migrationCallTimeout = 3600.0

    /// Sends `service` the pins and endpoints of every other joined service (when they changed since this
    /// process last sent them): the keys its handshake accepts for the peer routes.
    func deliverPeers(to service: RegionalServiceRepository.Service) throws {
        let others = try services().filter { $0.pin != nil && $0.region != service.region }
        let body = JSONValue.object([
            (
                "peers",
                .array(
                    others.map {
                        .object([
                            ("endpoint", .string($0.endpoint)), ("pin", .string($0.pin!)),
                            ("region", .string($0.region)),
                        ])
                    })
            )
        ]).encodedBytes()
        if deliveredPeers.withLock({ $0[service.region] }) == body { return }
        let response = try call(service, "PUT", "/internal/v1/peers", body: body)
        guard response.status == 200 else {
            throw ControllerError.storage(
                "region \(service.region) refused its peer list: HTTP \(response.status) \(String(decoding: response.body.prefix(300), as: UTF8.self))"
            )
        }
        deliveredPeers.withLock { $0[service.region] = body }
    }

    /// The external stores' movers a region's service has configured (its `movers.json`), as its health says.
    func commandMovers(region: String) throws -> [String] {
        guard let service = try joinedService(region: region) else { return [] }
        let response = try call(service, "GET", "/internal/v1/health")
        guard response.status == 200, let health = try? JSONParser.parse(response.body) else {
            throw ControllerError.storage("region \(region)'s health answer is HTTP \(response.status)")
        }
        guard case .array(let names)? = health["movers"] else { return [] }
        return names.compactMap { if case .string(let name) = $0 { return name } else { return nil } }
    }

    /// A signed order for one step of `migration` between the two services, valid for `lifetime` ms.
    func order(
        for migration: Migration, lifetime: Int64 = MigrationOrder.lifetime
    ) throws -> (signed: [UInt8], source: RegionalServiceRepository.Service, target: RegionalServiceRepository.Service)
    {
        refreshJoined()
        guard let source = try joinedService(region: migration.fromRegion), let sourcePin = source.pin else {
            throw MoverError(
                mover: "regional", command: "order", message: "region \(migration.fromRegion) has no joined service")
        }
        guard let target = try joinedService(region: migration.toRegion), let targetPin = target.pin else {
            throw MoverError(
                mover: "regional", command: "order", message: "region \(migration.toRegion) has no joined service")
        }
        let now = clock.now()
        let order = MigrationOrder(
            migration: migration.id, tenant: migration.tenant,
            source: .init(region: source.region, site: migration.fromSite, endpoint: source.endpoint, pin: sourcePin),
            target: .init(region: target.region, site: migration.toSite, endpoint: target.endpoint, pin: targetPin),
            issuedAt: now, expiresAt: now + lifetime, nonce: SecureRandom.hex(16))
        let signed = SignedMigrationOrder(order: order, signature: try identity.signature(for: order.signedMessage))
        return (signed.jsonValue.encodedBytes(), source, target)
    }

    /// One migration step at `service`: its JSON answer, or a `MoverError` (the service refused: the runner
    /// rolls back where it may) or a `MoverUnavailable` (it did not answer: the migration waits for a resume).
    func migrationStep(
        _ service: RegionalServiceRepository.Service, migration: String, step: String, order: [UInt8],
        query: String = ""
    ) throws -> JSONValue {
        let response: PeerHTTPClient.Response
        do {
            try deliverPeers(to: service)
            response = try migrationClient(for: service).send(
                "POST", "/internal/v1/migrations/\(migration)/\(step)\(query.isEmpty ? "" : "?" + query)", body: order)
        } catch let error as ControllerError {
            throw MoverUnavailable(message: "region \(service.region)'s service, \(step): \(error)")
        } catch {
            throw MoverUnavailable(message: "region \(service.region)'s service does not answer (\(step)): \(error)")
        }
        let text = String(decoding: response.body.prefix(600), as: UTF8.self)
        if response.status >= 500 {
            throw MoverUnavailable(
                message: "region \(service.region)'s service, \(step): HTTP \(response.status) \(text)")
        }
        guard response.status == 200, let value = try? JSONParser.parse(response.body) else {
            throw MoverError(
                mover: "regional", command: "\(service.region) \(step)", message: "HTTP \(response.status) \(text)")
        }
        return value
    }

    private func migrationClient(for service: RegionalServiceRepository.Service) throws -> PeerConnectionPool {
        guard let pin = service.pin else {
            throw ControllerError.storage("region \(service.region)'s service has not joined yet")
        }
        return try migrationPools.withLock { cache -> PeerConnectionPool in
            if let entry = cache[service.region], entry.pin == pin, entry.pool.endpoint == service.endpoint {
                return entry.pool
            }
            let context = try TLSContext(mutual: identity, pinned: [pin], client: true)
            let pool = try PeerConnectionPool(
                endpoint: service.endpoint, context: context, timeout: Self.migrationCallTimeout, maximumIdle: 2)
            cache[service.region] = (pin, pool)
            return pool
        }
    }
}

/// A migration step's service did not answer (down, restarting, unreachable): nothing was refused, so the
/// migration keeps its state and a resume carries it on.
struct MoverUnavailable: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
