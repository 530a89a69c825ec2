import Foundation

extension TenantRecord {
    /// The record as the API shows it; bytes in base64.
    package var jsonValue: JSONValue {
        var members: [(key: String, value: JSONValue)] = [
            ("collection", .string(collection.rawValue)), ("key", .string(key)),
        ]
        for field in collection.fields {
            switch values[field.name] {
            case .text(let text): members.append((field.name, .string(text)))
            case .integer(let integer): members.append((field.name, .integer(integer)))
            case .bytes(let bytes): members.append((field.name, .string(Data(bytes).base64EncodedString())))
            case nil: members.append((field.name, .null))
            }
        }
        members.append(("updated_at", .string(Timestamp.rfc3339(milliseconds: updatedAt))))
        return .object(members)
    }

    /// Reads a record's fields from a JSON object, reporting unknown fields, wrong types, missing required
    /// fields and oversized values to the reader's collector (nil if anything was wrong).
    package static func read(
        _ reader: JSONReader, collection: TenantCollection, key: String, updatedAt: Int64
    ) -> TenantRecord? {
        guard let object = reader.object(known: collection.fields.map(\.name)) else { return nil }
        return read(object, collection: collection, key: key, updatedAt: updatedAt)
    }

    /// As above, for an object already read (a request body checks its fields once).
    package static func read(
        _ object: JSONObjectReader, collection: TenantCollection, key: String, updatedAt: Int64
    ) -> TenantRecord? {
        var values: [String: TenantFieldValue] = [:]
        var valid = true
        for field in collection.fields {
            let member = field.required ? object.required(field.name) : object.optional(field.name)
            guard let member, member.value != .null || field.required else {
                if field.required { valid = false }
                continue
            }
            switch field.kind {
            case .text:
                guard let text = member.text() else { valid = false; continue }
                if text.utf8.count > field.maximumLength {
                    member.problem(
                        "is \(text.utf8.count) bytes long; accepted: at most \(field.maximumLength) bytes of UTF-8 (counted in bytes, not characters)"
                    )
                    valid = false
                }
                values[field.name] = .text(text)
            case .integer:
                guard let integer = member.integer(in: Int64.min...Int64.max) else { valid = false; continue }
                values[field.name] = .integer(integer)
            case .bytes:
                guard let text = member.string() else { valid = false; continue }
                guard let data = Data(base64Encoded: text) else {
                    member.problem("is not base64")
                    valid = false
                    continue
                }
                if data.count > field.maximumLength {
                    member.problem("is larger than \(field.maximumLength) bytes")
                    valid = false
                }
                values[field.name] = .bytes(Array(data))
            }
        }
        return valid ? TenantRecord(collection: collection, key: key, values: values, updatedAt: updatedAt) : nil
    }
}
