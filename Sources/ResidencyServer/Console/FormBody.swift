import Foundation

/// An `application/x-www-form-urlencoded` body (a console form), strictly: only the fields the form has, each
/// once, at most 8 KiB in all; anything else is refused with what is accepted.
struct FormBody {
    let values: [String: String]

    init(_ request: HTTPRequest, fields: [String]) throws(APIError) {
        guard request.hasMediaType("application/x-www-form-urlencoded") else {
            throw APIError(
                status: 415, code: "unsupported_media_type",
                message: "send the form as application/x-www-form-urlencoded")
        }
        guard request.body.count <= 8192 else {
            throw APIError.badRequest("the form is larger than 8 KiB")
        }
        var values: [String: String] = [:]
        for pair in request.body.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let parts = pair.split(separator: UInt8(ascii: "="), maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]), let value = Self.decode(parts.count > 1 ? parts[1] : []) else {
                throw APIError.badRequest("the form is not valid URL encoding")
            }
            guard fields.contains(name) else {
                throw APIError.badRequest(
                    "unknown form field \"\(name.prefix(40))\"; accepted: \(fields.joined(separator: ", "))")
            }
            guard values[name] == nil else { throw APIError.badRequest("form field \"\(name)\" given twice") }
            values[name] = value
        }
        self.values = values
    }

    static func decode(_ bytes: ArraySlice<UInt8>) -> String? {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            if byte == UInt8(ascii: "+") {
                output.append(0x20)
            } else if byte == UInt8(ascii: "%") {
                guard index + 2 < bytes.endIndex + 0, bytes.endIndex - index >= 3,
                    let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2])
                else { return nil }
                output.append(high << 4 | low)
                index += 2
            } else {
                output.append(byte)
            }
            index += 1
        }
        return String(validating: output, as: UTF8.self)
    }

    static func hex(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 48...57: return byte - 48
        case 65...70: return byte - 55
        case 97...102: return byte - 87
        default: return nil
        }
    }
}
