import Foundation
import ResidencyCore
import ResidencyStore
import ResidencyTLS

/// Tenant data calls for a tenant whose region has its own service: forwarded to that service over mutual TLS,
/// which checks its signed assignment and serves or refuses them itself. The controller keeps none of the bytes.
extension DirectoryService {
    /// The tenant's data at its regional service, or nil when its region is served in process. The directory's
    /// refusals (unknown, suspended, closed, deleted) come first, as for data in process.
    func remoteData(of id: String) throws -> RemoteTenantData? {
        guard let regional, try regional.hasJoinedServices() else { return nil }
        guard TenantID.isWellFormed(id), let tenant = try context.read({ try TenantRepository($0).tenant(id: id) }) else {
            throw ControllerError.notFound(kind: "tenant", id: id)
        }
        guard try regional.joinedService(region: tenant.region) != nil else { return nil }
        switch tenant.status {
        case .active: break
        case .suspended:
            throw ControllerError.conflict(
                code: "tenant_suspended", message: "tenant \(id) is suspended; its data is kept but not served")
        case .closed: throw ControllerError.conflict(code: "tenant_closed", message: "tenant \(id) is closed")
        case .deleted: throw ControllerError.conflict(code: "tenant_deleted", message: "tenant \(id) was deleted")
        }
        return RemoteTenantData(regional: regional, region: tenant.region, tenant: id)
    }
}

/// One tenant's data at its regional service.
struct RemoteTenantData {
    let regional: RegionalServices
    let region: String
    let tenant: String

    private func path(_ collection: TenantCollection, _ key: String? = nil) -> String {
        "/v1/tenants/\(tenant)/data/\(collection.rawValue)" + (key.map { "/\($0)" } ?? "")
    }

    func put(_ record: TenantRecord) throws {
        var members: [(key: String, value: JSONValue)] = []
        for field in record.collection.fields {
            switch record.values[field.name] {
            case .text(let text): members.append((field.name, .string(text)))
            case .integer(let integer): members.append((field.name, .integer(integer)))
            case .bytes(let bytes): members.append((field.name, .string(Data(bytes).base64EncodedString())))
            case nil: break
            }
        }
        let response = try regional.forward(
            region: region, "PUT", path(record.collection, record.key), body: JSONValue.object(members).encodedBytes())
        guard response.status == 200 else { throw refusal(response) }
    }

    func delete(_ collection: TenantCollection, key: String) throws -> Bool {
        let response = try regional.forward(region: region, "DELETE", path(collection, key))
        if response.status == 204 { return true }
        if response.status == 404, code(of: response) == "not_found" { return false }
        throw refusal(response)
    }

    func record(_ collection: TenantCollection, key: String) throws -> TenantRecord? {
        let response = try regional.forward(region: region, "GET", path(collection, key))
        if response.status == 404, code(of: response) == "not_found" { return nil }
        guard response.status == 200, let value = try? JSONParser.parse(response.body), let record = value["record"],
            let parsed = Self.read(record, collection: collection)
        else { throw refusal(response) }
        return parsed
    }

    func records(_ collection: TenantCollection, after cursor: String?, limit: Int) throws -> [TenantRecord] {
        var target = path(collection) + "?limit=\(limit)"
        if let cursor {
            target += "&after=" + (cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor)
        }
        let response = try regional.forward(region: region, "GET", target)
        guard response.status == 200, let value = try? JSONParser.parse(response.body),
            case .array(let items)? = value["records"]
        else { throw refusal(response) }
        var records: [TenantRecord] = []
        for item in items {
            guard let record = Self.read(item, collection: collection) else { throw refusal(response) }
            records.append(record)
        }
        return records
    }

    /// A record as a service shows it (the API's shape: fields, `collection`, `key`, `updated_at`).
    static func read(_ value: JSONValue, collection: TenantCollection) -> TenantRecord? {
        guard case .string(let key)? = value["key"], case .string(let updated)? = value["updated_at"],
            let updatedAt = Timestamp.milliseconds(rfc3339: updated), case .object(let members) = value
        else { return nil }
        let fields = Set(collection.fields.map(\.name))
        let collector = ProblemCollector()
        let reader = JSONReader(
            value: .object(members.filter { fields.contains($0.key) }), file: "region answer", collector: collector)
        guard let object = reader.object(known: collection.fields.map(\.name)) else { return nil }
        return TenantRecord.read(object, collection: collection, key: key, updatedAt: updatedAt)
    }

    private func code(of response: PeerHTTPClient.Response) -> String? {
        guard let value = try? JSONParser.parse(response.body), case .string(let code)? = value["error"]?["code"] else {
            return nil
        }
        return code
    }

    /// The service's refusal as the controller's own error: the same codes the in-process data plane gives.
    /// A 421 is the service holding an older assignment than the directory's (the cutover's has not reached
    /// it yet): `AssignmentBehind`, which the caller can mend by delivering the assignment.
    private func refusal(_ response: PeerHTTPClient.Response) -> any Error {
        let value = try? JSONParser.parse(response.body)
        var message = "HTTP \(response.status)"
        if case .string(let text)? = value?["error"]?["message"] { message = text }
        let code = self.code(of: response) ?? "region_error"
        switch response.status {
        case 400: return ControllerError.invalidField(field: "record", message: "region \(region): \(message)")
        case 404 where code == "not_found": return ControllerError.notFound(kind: "record", id: message)
        case 409: return ControllerError.conflict(code: code, message: message)
        case 421: return AssignmentBehind(region: region, message: message)
        default:
            // 404 unknown tenant: the service has not received the tenant's first assignment yet.
            return ControllerError.storage("region \(region)'s service: \(message)")
        }
    }
}

/// A regional service answered that the tenant lives elsewhere while the directory says it lives there: the
/// service has not yet received the assignment the directory's newest change calls for (between a
/// migration's cutover and the delivery of its assignment).
struct AssignmentBehind: Error, CustomStringConvertible {
    let region: String
    let message: String
    var description: String { "region \(region)'s service: \(message)" }
}
