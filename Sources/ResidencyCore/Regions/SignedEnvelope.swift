import Foundation

/// The shape every controller-signed message to a regional service travels in — `{"<member>": {…}, "signature":
/// "base64 of 64 bytes"}` — read strictly: JSON of bounded size, exactly those two members, the signed object with
/// exactly the expected fields. Assignments, support grants and migration orders each read their own fields
/// from `body` after this.
package struct SignedEnvelope {
    /// The whole message, for reading the signed object's fields (`value[member]?[field]`).
    package let value: JSONValue
    package let signature: [UInt8]

    /// `noun` names the message in errors ("the assignment", "the grant", "the migration order").
    package init(
        parsing bytes: [UInt8], member: String, fields known: [String], noun: String, maximumBytes: Int
    ) throws(RegionEnrolmentError) {
        let shape = "{\"\(member)\": {…}, \"signature\": \"base64 of 64 bytes\"}"
        guard bytes.count <= maximumBytes, let value = try? JSONParser.parse(bytes) else {
            throw RegionEnrolmentError(
                "\(noun) is not JSON of at most \(maximumBytes / 1024) KiB; accepted: \(shape)")
        }
        guard case .object(let outer) = value, outer.count == 2, case .object(let fields)? = value[member],
            case .string(let signatureText)? = value["signature"],
            let signature = Data(base64Encoded: signatureText), signature.count == 64
        else {
            throw RegionEnrolmentError("\(noun) must be \(shape) and nothing else")
        }
        guard fields.count == known.count, Set(fields.map(\.key)) == Set(known) else {
            throw RegionEnrolmentError("\(noun)'s fields are \(fields.map(\.key).sorted()); accepted: exactly \(known)")
        }
        self.value = value
        self.signature = Array(signature)
    }
}
