import CCrypto

/// HMAC-SHA256 through libcrypto (RFC 2104), and a comparison that takes the same time however many bytes match.
package enum HMACSHA256 {
    package static func authenticationCode(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var code = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let made = key.withUnsafeBufferPointer { key in
            message.withUnsafeBufferPointer { message in
                HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), message.baseAddress, message.count, &code, &length)
            }
        }
        // HMAC fails only when libcrypto cannot allocate; a zero code would match nothing real.
        precondition(made != nil && length == 32, "OpenSSL HMAC-SHA256 failed")
        return code
    }

    package static func constantTimeEqual(_ left: [UInt8], _ right: [UInt8]) -> Bool {
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices { difference |= left[index] ^ right[index] }
        return difference == 0
    }
}
