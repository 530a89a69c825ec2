/// The kinds of application data a tenant keeps in its region: enough of a real schema (people, money,
/// files) that moving and deleting it is tested on the shapes real services hold.
package enum TenantCollection: String, Sendable, Hashable, CaseIterable {
    case contacts, accounts, documents

    package enum Kind: String, Sendable, Hashable {
        case text, integer
        /// Raw bytes; base64 in JSON.
        case bytes
    }

    package struct Field: Sendable, Hashable {
        package let name: String
        package let kind: Kind
        package let required: Bool
        /// The most characters (text) or bytes a value may hold.
        package let maximumLength: Int
    }

    /// The fields after the record's key, in column order.
    package var fields: [Field] {
        switch self {
        case .contacts:
            return [
                Field(name: "name", kind: .text, required: true, maximumLength: 200),
                Field(name: "email", kind: .text, required: false, maximumLength: 320),
                Field(name: "phone", kind: .text, required: false, maximumLength: 40),
            ]
        case .accounts:
            return [
                Field(name: "name", kind: .text, required: true, maximumLength: 200),
                Field(name: "owner", kind: .text, required: false, maximumLength: 200),
                Field(name: "balance_cents", kind: .integer, required: true, maximumLength: 0),
                Field(name: "currency", kind: .text, required: true, maximumLength: 3),
            ]
        case .documents:
            return [
                Field(name: "name", kind: .text, required: true, maximumLength: 500),
                Field(name: "content_type", kind: .text, required: true, maximumLength: 200),
                Field(name: "body", kind: .bytes, required: true, maximumLength: 64 << 20),
            ]
        }
    }

    /// Record keys are chosen by the application: short, printable, no path or SQL metacharacters needed.
    package static func isValidKey(_ key: String) -> Bool {
        // The first character is a letter or digit, so "." and ".." — path segments to any tool downstream —
        // are never keys.
        guard let first = key.utf8.first,
            (0x30...0x39).contains(first) || (0x41...0x5A).contains(first) || (0x61...0x7A).contains(first)
        else { return false }
        return key.utf8.count <= 200
            && key.utf8.allSatisfy {
                (0x30...0x39).contains($0) || (0x41...0x5A).contains($0)
                    || (0x61...0x7A).contains($0) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E || $0 == 0x40
            }
    }
    package static let keyRule = "1-200 characters of A-Z a-z 0-9 - _ . @, starting with a letter or digit"
}

/// One value of a tenant record.
package enum TenantFieldValue: Sendable, Hashable {
    case text(String)
    case integer(Int64)
    case bytes([UInt8])
}

/// One record of a collection: its key and its fields (absent optional fields are missing).
package struct TenantRecord: Sendable, Hashable {
    package let collection: TenantCollection
    package let key: String
    package var values: [String: TenantFieldValue]
    /// Milliseconds since the Unix epoch.
    package var updatedAt: Int64

    package init(collection: TenantCollection, key: String, values: [String: TenantFieldValue], updatedAt: Int64) {
        self.collection = collection
        self.key = key
        self.values = values
        self.updatedAt = updatedAt
    }
}
