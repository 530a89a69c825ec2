import CCrypto

/// Random bytes from OpenSSL's CSPRNG, for identifiers and secrets nobody should guess.
package enum SecureRandom {
    package static func bytes(_ count: Int) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let status = buffer.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        // RAND_bytes fails only when the OS cannot seed it; continuing with zeros would mint guessable ids.
        precondition(status == 1, "OpenSSL RAND_bytes failed: no entropy available")
        return buffer
    }

    /// Lower-case hex of `count` random bytes.
    package static func hex(_ count: Int) -> String {
        let random = bytes(count)
        return String(unsafeUninitializedCapacity: count * 2) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { digits in
                for (index, byte) in random.enumerated() {
                    buffer[index * 2] = digits[Int(byte >> 4)]
                    buffer[index * 2 + 1] = digits[Int(byte & 0xF)]
                }
            }
            return count * 2
        }
    }
}

/// The libcrypto the process runs with, for `residency version`.
package enum CryptoLibrary {
    package static var version: String { String(cString: OpenSSL_version(OPENSSL_VERSION)) }
}
