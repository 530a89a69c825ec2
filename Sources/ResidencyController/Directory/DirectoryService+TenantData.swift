import ResidencyCore
import ResidencyStore

/// The application's reads and writes of tenant data. They go through the controller, which finds the
/// tenant's home in the directory and opens its database there — so a migration can freeze writes, and a
/// suspended or deleted tenant's data is refused.
extension DirectoryService {
    /// The region holding the tenant's data now, if the application may use it.
    func dataRegion(of id: String) throws -> String {
        guard TenantID.isWellFormed(id), let tenant = try context.read({ try TenantRepository($0).tenant(id: id) })
        else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        switch tenant.status {
        case .active: return tenant.region
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
    }

    /// Runs one data operation where the directory places the tenant: at its region's service when that
    /// region has joined one, else on the embedded data plane.
    ///
    /// A migration's cutover can move the tenant, and its cleaning purge the old home, between the directory
    /// read and the operation. On the embedded data plane the operation then fails at the home being left
    /// (SQLite answers with an I/O error or finds no file) before anything was applied — the old home is frozen
    /// from the freeze on, so no write commits there — and the directory is read again: when the tenant has
    /// moved, the operation runs at its new home. A regional service answers 421 when its assignment differs
    /// from the directory: a service the directory names but that has not yet received the cutover's assignment
    /// is sent it (the same signed assignment the migration delivers next, idempotent) and asked again; a
    /// service the tenant left sends the request, after the directory is read again, to the new home. Any other
    /// failure of a regional service (a timeout may have applied the write) is reported as it is, never
    /// repeated. A frozen home is `migration_in_progress`, which the caller retries.
    func atDataHome<T>(
        of id: String, remote: (RemoteTenantData) throws -> T, local: (TenantDatabase) throws -> T
    ) throws -> T {
        // Each follow-up (a move followed, an assignment delivered) is one more round; a tenant moved again and
        // again while one request runs gets the last failure rather than being chased.
        var rounds = 0
        while true {
            var tried: String?
            rounds += 1
            do {
                if let service = try remoteData(of: id) {
                    do {
                        return try remote(service)
                    } catch let behind as AssignmentBehind {
                        guard rounds < 4, let regional else { throw ControllerError.storage(behind.description) }
                        // The directory may have moved on instead (the service is the old home): the next round
                        // reads it again and goes there.
                        if try dataRegion(of: id) == service.region { try regional.deliverNow(tenant: id) }
                        continue
                    }
                }
                guard let dataPlane else {
                    throw ControllerError.conflict(code: "no_data_plane", message: "this controller has no data plane")
                }
                let region = try dataRegion(of: id)
                tried = region
                return try translatingDataErrors {
                    let database: TenantDatabase
                    do { database = try dataPlane.open(region: region, tenant: id) } catch TenantDataError.missing {
                        // The file's path is the server's business, not the application's.
                        throw ControllerError.storage("tenant \(id)'s data is not available in \(region)")
                    }
                    return try local(database)
                }
            } catch {
                // Only a storage failure on the embedded data plane can be a home being left.
                guard case ControllerError.storage = error, let tried, rounds < 4, try dataRegion(of: id) != tried
                else {
                    throw error
                }
            }
        }
    }

    package func putRecord(tenant id: String, _ record: TenantRecord) throws {
        try Self.validate(record)
        try atDataHome(of: id, remote: { try $0.put(record) }, local: { try $0.put(record) })
    }

    package func deleteRecord(tenant id: String, _ collection: TenantCollection, key: String) throws -> Bool {
        try atDataHome(
            of: id, remote: { try $0.delete(collection, key: key) }, local: { try $0.delete(collection, key: key) })
    }

    package func record(tenant id: String, _ collection: TenantCollection, key: String) throws -> TenantRecord {
        guard
            let record = try atDataHome(
                of: id, remote: { try $0.record(collection, key: key) }, local: { try $0.record(collection, key: key) })
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
        return try atDataHome(
            of: id, remote: { try $0.records(collection, after: cursor, limit: limit) },
            local: { try $0.records(collection, after: cursor, limit: limit) })
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
                // The page may be older than a migration that finished since: provision where the tenant is now.
                guard let now = try context.read({ try TenantRepository($0).tenant(id: tenant.id) }),
                    now.region == tenant.region, now.status != .deleted
                else { continue }
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
