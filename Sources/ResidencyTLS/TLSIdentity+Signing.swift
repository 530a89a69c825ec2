import CSSL
import Foundation

/// A service's identity key does two jobs: it authenticates the service in mutual TLS, and (the controller's)
/// it signs what regional services act on — tenant assignments. One key, one pin to exchange at enrolment; the
/// signed payloads carry their own context string, so a signature can never be mistaken for a TLS one.
extension TLSIdentity {
    /// The raw 32-byte Ed25519 public key (what a join code carries; the pin is derived from it).
    package var publicKey: [UInt8] {
        var length = 32
        var raw = [UInt8](repeating: 0, count: 32)
        guard EVP_PKEY_get_raw_public_key(key, &raw, &length) == 1, length == 32 else { return [] }
        return raw
    }

    /// An Ed25519 signature over `message` with this identity's key.
    package func signature(for message: [UInt8]) throws(TLSError) -> [UInt8] {
        guard let context = EVP_MD_CTX_new() else { throw TLSError("cannot sign: \(TLSError.queue())") }
        defer { EVP_MD_CTX_free(context) }
        var signature = [UInt8](repeating: 0, count: 64)
        var length = 64
        guard EVP_DigestSignInit(context, nil, nil, nil, key) == 1,
            message.withUnsafeBufferPointer({ EVP_DigestSign(context, &signature, &length, $0.baseAddress, $0.count) })
                == 1, length == 64
        else { throw TLSError("Ed25519 signing with \(name)'s key failed: \(TLSError.queue())") }
        return signature
    }

    /// The pin (base64 SHA-256 of the DER SubjectPublicKeyInfo) of a raw Ed25519 public key — the same value
    /// `pin` gives for the identity holding it. An Ed25519 SPKI is a fixed 12-byte header and the key (RFC 8410).
    package static func pin(ofEd25519 publicKey: [UInt8]) -> String? {
        guard publicKey.count == 32 else { return nil }
        let spki: [UInt8] = [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00] + publicKey
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        guard EVP_Digest(spki, spki.count, &digest, &size, EVP_sha256(), nil) == 1 else { return nil }
        return Data(digest).base64EncodedString()
    }
}
