import ResidencyCore
import ResidencyStore

/// The application's reads and writes of tenant data. They go through the controller, which finds the
/// tenant's home in the directory and opens its database there — so a migration can freeze writes, and a
/// suspended or deleted tenant's data is refused.
extension DirectoryService {
    /// Where the tenant's data lives now, if the application may use it.
    func dataHome(of id: String) throws -> TenantDatabase {
        guard let dataPlane else {
            throw ControllerError.conflict(code: "no_data_plane", message: "this controller has no data plane")
        }
        guard TenantID.isWellFormed(id), let tenant = try context.read({ try TenantRepository($0).tenant(id: id) })
        else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        switch tenant.status {
        case .active: break
        case .suspended:
            throw ControllerError.conflict(
                code: "tenant_suspended", message: "tenant \(id) is suspended; its data is kept but not served")
        case .closed:
            throw ControllerError.conflict(code: "tenant_closed", message: "tenant \(id) is closed")
        case .deleted:
            let when = (try? deletion(of: id))?.summary ?? "deleted"
            throw ControllerError.conflict(
                code: "tenant_deleted", message: "tenant \(id) was \(when); its data no longer exists")
        }
        do {
            return try dataPlane.open(region: tenant.region, tenant: id)
        } catch TenantDataError.missing {
            // Read the directory again: a cutover may have moved the tenant after the first read.
            if let moved = try context.read({ try TenantRepository($0).tenant(id: id) }), moved.region != tenant.region,
                let database = try? dataPlane.open(region: moved.region, tenant: id)
            {
                return database
            }
            throw ControllerError.storage("tenant \(id)'s data is not available in \(tenant.region)")
        }
    }

    package func putRecord(tenant id: String, _ record: TenantRecord) throws {
        try Self.validate(record)
        if let remote = try remoteData(of: id) { return try remote.put(record) }
        try translatingDataErrors { try dataHome(of: id).put(record) }
    }

    package func deleteRecord(tenant id: String, _ collection: TenantCollection, key: String) throws -> Bool {
        if let remote = try remoteData(of: id) { return try remote.delete(collection, key: key) }
        return try translatingDataErrors { try dataHome(of: id).delete(collection, key: key) }
    }

    package func record(tenant id: String, _ collection: TenantCollection, key: String) throws -> TenantRecord {
        if let remote = try remoteData(of: id) {
            guard let record = try remote.record(collection, key: key) else {
                throw ControllerError.notFound(kind: "\(collection.rawValue) record", id: key)
            }
            return record
        }
        guard let record = try translatingDataErrors({ try dataHome(of: id).record(collection, key: key) })
        else {
            throw ControllerError.notFound(kind: "\(collection.rawValue) record", id: key)
        }
        return record
    }

    package func records(
        tenant id: String, _ collection: TenantCollection, after cursor: String?, limit: Int
    ) throws
        -> [TenantRecord]
    {
        guard (1...1000).contains(limit) else {
            throw ControllerError.invalidField(field: "limit", message: "\(limit) is out of range; accepted: 1...1000")
        }
        if let remote = try remoteData(of: id) { return try remote.records(collection, after: cursor, limit: limit) }
        return try translatingDataErrors {
            try dataHome(of: id).records(collection, after: cursor, limit: limit)
        }
    }

    /// Rows and content hash of the tenant's data where it lives now (operators; the crash tests).
    package func dataDigest(tenant id: String) throws -> TenantContentDigest {
        guard let dataPlane, let tenant = try context.read({ try TenantRepository($0).tenant(id: id) }) else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        return try translatingDataErrors { try dataPlane.open(region: tenant.region, tenant: id).contentDigest() }
    }

    /// Creates the data of every live tenant whose home has none (a crash between a signup's commit and its
    /// provisioning), skipping tenants with a migration under way. Returns the ids provisioned.
    @discardableResult
    package func provisionMissingTenantData() throws -> [String] {
        guard let dataPlane else { return [] }
        var provisioned: [String] = []
        var cursor: String?
        while true {
            let page = try context.read { try TenantRepository($0).tenants(after: cursor, limit: 1000) }
            guard let last = page.last else { break }
            cursor = last.id
            for tenant in page
            where try tenant.status != .deleted && regional?.joinedService(region: tenant.region) == nil
                && !dataPlane.exists(region: tenant.region, tenant: tenant.id)
            {
                if try context.read({ try MigrationRepository($0).active(tenant: tenant.id) }) != nil { continue }
                try dataPlane.provision(region: tenant.region, tenant: tenant.id)
                provisioned.append(tenant.id)
            }
        }
        return provisioned
    }

    static func validate(_ record: TenantRecord) throws {
        guard TenantCollection.isValidKey(record.key) else {
            throw ControllerError.invalidField(
                field: "key", message: "\"\(record.key)\"; accepted: \(TenantCollection.keyRule)")
        }
        for field in record.collection.fields {
            switch (record.values[field.name], field.kind) {
            case (nil, _):
                if field.required { throw ControllerError.invalidField(field: field.name, message: "is required") }
            case (.text(let text), .text):
                if text.utf8.count > field.maximumLength {
                    throw ControllerError.invalidField(
                        field: field.name,
                        message:
                            "is \(text.utf8.count) bytes long; accepted: at most \(field.maximumLength) bytes of UTF-8 (counted in bytes, not characters)"
                    )
                }
            case (.integer, .integer): break
            case (.bytes(let bytes), .bytes):
                if bytes.count > field.maximumLength {
                    throw ControllerError.invalidField(
                        field: field.name, message: "is larger than \(field.maximumLength) bytes")
                }
            default:
                throw ControllerError.invalidField(field: field.name, message: "expected \(field.kind.rawValue)")
            }
        }
    }

    func translatingDataErrors<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch TenantDataError.frozen {
            throw ControllerError.conflict(code: "migration_in_progress", message: TenantDataError.frozen.description)
        } catch let error as TenantDataError {
            throw ControllerError.storage(error.description)
        } catch let error as DatabaseError {
            throw ControllerError.classify(error)!
        }
    }
}
