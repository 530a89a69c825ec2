import CCrypto

/// Ed25519 signatures through OpenSSL's libcrypto (RFC 8032); the project implements no curve arithmetic.
package struct Ed25519PrivateKey: Sendable {
    /// The 32-byte seed.
    package let seed: [UInt8]
    package let publicKey: Ed25519PublicKey

    package init(seed: [UInt8]) throws(CryptoError) {
        guard seed.count == 32 else { throw CryptoError("an Ed25519 seed is 32 bytes, got \(seed.count)") }
        guard
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            })
        else {
            throw CryptoError("libcrypto refused the Ed25519 seed")
        }
        defer { EVP_PKEY_free(key) }
        var length = 32
        var raw = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else {
            throw CryptoError("libcrypto could not derive the Ed25519 public key")
        }
        self.seed = seed
        self.publicKey = Ed25519PublicKey(rawValue: raw)
    }

    /// A fresh key from the CSPRNG.
    package static func generate() throws(CryptoError) -> Ed25519PrivateKey {
        try Ed25519PrivateKey(seed: SecureRandom.bytes(32))
    }

    package func signature(for message: [UInt8]) throws(CryptoError) -> [UInt8] {
        guard
            let key = seed.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            }),
            let context = EVP_MD_CTX_new()
        else { throw CryptoError("libcrypto could not set up Ed25519 signing") }
        defer {
            EVP_MD_CTX_free(context)
            EVP_PKEY_free(key)
        }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
            message.withUnsafeBufferPointer({ EVP_DigestSign(context, &signature, &length, $0.baseAddress, $0.count) })
                == 1,
            length == 64
        else { throw CryptoError("Ed25519 signing failed") }
        return signature
    }
}

package struct Ed25519PublicKey: Sendable, Hashable {
    package let rawValue: [UInt8]

    package init(rawValue: [UInt8]) { self.rawValue = rawValue }

    package func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        guard rawValue.count == 32, signature.count == 64,
            let key = rawValue.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, 32)
            }),
            let context = EVP_MD_CTX_new()
        else { return false }
        defer {
            EVP_MD_CTX_free(context)
            EVP_PKEY_free(key)
        }
        guard EVP_DigestVerifyInit(context, nil, nil, nil, key) == 1 else { return false }
        return message.withUnsafeBufferPointer { m in
            signature.withUnsafeBufferPointer { s in
                EVP_DigestVerify(context, s.baseAddress, 64, m.baseAddress, m.count)
            }
        } == 1
    }
}

package struct CryptoError: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }
}
