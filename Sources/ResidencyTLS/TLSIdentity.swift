import CSSL
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// A service's TLS identity: an Ed25519 key pair and a self-signed certificate naming the service, made at
/// first start and kept in its data directory (the private key 0600). Peers do not trust it through a CA: they
/// pin its key — the SHA-256 of its SubjectPublicKeyInfo, `pin` — at enrolment.
///
/// `@unchecked Sendable`: the key and certificate are immutable after `init` and OpenSSL reference-counts them.
package final class TLSIdentity: @unchecked Sendable {
    let key: OpaquePointer
    let certificate: OpaquePointer
    package let name: String

    package static let keyFileName = "tls-key.pem"
    package static let certificateFileName = "tls-cert.pem"

    private init(key: OpaquePointer, certificate: OpaquePointer, name: String) {
        self.key = key
        self.certificate = certificate
        self.name = name
    }

    deinit {
        EVP_PKEY_free(key)
        X509_free(certificate)
    }

    /// The identity in `directory`, made there (key 0600, certificate 0644) when absent. A key without its
    /// certificate (or the reverse), or files that do not belong together, are errors — never replaced.
    package static func loadOrCreate(in directory: URL, name: String) throws(TLSError) -> TLSIdentity {
        let keyURL = directory.appendingPathComponent(keyFileName)
        let certificateURL = directory.appendingPathComponent(certificateFileName)
        let hasKey = FileManager.default.fileExists(atPath: keyURL.path)
        let hasCertificate = FileManager.default.fileExists(atPath: certificateURL.path)
        if hasKey || hasCertificate {
            guard hasKey && hasCertificate else {
                throw TLSError(
                    "\(directory.path) holds \(hasKey ? keyFileName : certificateFileName) without \(hasKey ? certificateFileName : keyFileName); restore it, or remove both to make a new identity (peers must then pin the new key)"
                )
            }
            return try load(key: keyURL.path, certificate: certificateURL.path)
        }
        let identity = try generate(name: name)
        try write(identity.privateKeyPEM(), to: keyURL, mode: 0o600)
        try write(identity.certificatePEM(), to: certificateURL, mode: 0o644)
        return identity
    }

    /// A new identity, in memory.
    package static func generate(name: String) throws(TLSError) -> TLSIdentity {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else {
            throw TLSError("cannot make an Ed25519 key: \(TLSError.queue())")
        }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer?
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_keygen(context, &key) == 1, let key else {
            throw TLSError("cannot make an Ed25519 key: \(TLSError.queue())")
        }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw TLSError("cannot make a certificate: \(TLSError.queue())")
        }
        var serial = [UInt8](repeating: 0, count: 16)
        _ = RAND_bytes(&serial, Int32(serial.count))
        serial[0] &= 0x7F
        let number = BN_bin2bn(serial, Int32(serial.count), nil)
        defer { BN_free(number) }
        let made =
            X509_set_version(certificate, 2) == 1 && BN_to_ASN1_INTEGER(number, X509_get_serialNumber(certificate)) != nil
            && X509_gmtime_adj(X509_getm_notBefore(certificate), -3600) != nil
            // Ten years: the certificate carries the key, and trust is in the pin, not in its dates.
            && X509_gmtime_adj(X509_getm_notAfter(certificate), 10 * 365 * 86_400) != nil
            && X509_NAME_add_entry_by_txt(
                X509_get_subject_name(certificate), "CN", MBSTRING_UTF8, name, -1, -1, 0) == 1
            && X509_set_issuer_name(certificate, X509_get_subject_name(certificate)) == 1
            && X509_set_pubkey(certificate, key) == 1 && X509_sign(certificate, key, nil) > 0
        guard made else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw TLSError("cannot make a self-signed certificate: \(TLSError.queue())")
        }
        return TLSIdentity(key: key, certificate: certificate, name: name)
    }

    /// Reads a PEM key and certificate and checks that they belong together.
    package static func load(key keyPath: String, certificate certificatePath: String) throws(TLSError) -> TLSIdentity {
        /// Parses a file's PEM with `read`, from a memory BIO over bytes that stay alive while it runs
        /// (`BIO_new_mem_buf` does not copy).
        func parse(_ path: String, _ what: String, _ read: (OpaquePointer) -> OpaquePointer?) throws(TLSError)
            -> OpaquePointer
        {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw TLSError("cannot read \(what) \(path)")
            }
            let parsed = data.withUnsafeBytes { bytes -> OpaquePointer? in
                guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
                defer { BIO_free(bio) }
                return read(bio)
            }
            guard let parsed else { throw TLSError("\(path) is not a PEM \(what): \(TLSError.queue())") }
            return parsed
        }
        let key = try parse(keyPath, "private key") { PEM_read_bio_PrivateKey($0, nil, nil, nil) }
        let certificate: OpaquePointer
        do {
            certificate = try parse(certificatePath, "certificate") { PEM_read_bio_X509($0, nil, nil, nil) }
        } catch {
            EVP_PKEY_free(key)
            throw error
        }
        guard X509_check_private_key(certificate, key) == 1 else {
            X509_free(certificate)
            EVP_PKEY_free(key)
            throw TLSError("the private key \(keyPath) does not belong to the certificate \(certificatePath)")
        }
        let name = commonName(of: certificate) ?? "unnamed"
        return TLSIdentity(key: key, certificate: certificate, name: name)
    }

    /// This identity's pin: base64 of SHA-256 over its DER SubjectPublicKeyInfo.
    package var pin: String { Self.pin(of: certificate)! }

    static func pin(of certificate: OpaquePointer) -> String? {
        guard let publicKey = X509_get0_pubkey(certificate) else { return nil }
        var der: UnsafeMutablePointer<UInt8>?
        let length = i2d_PUBKEY(publicKey, &der)
        guard length > 0, let der else { return nil }
        defer { CRYPTO_free(der, #fileID, #line) }
        var digest = [UInt8](repeating: 0, count: 32)
        var size: UInt32 = 0
        guard EVP_Digest(der, Int(length), &digest, &size, EVP_sha256(), nil) == 1 else { return nil }
        return Data(digest).base64EncodedString()
    }

    static func commonName(of certificate: OpaquePointer) -> String? {
        var buffer = [CChar](repeating: 0, count: 256)
        let length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName, &buffer, 256)
        guard length > 0 else { return nil }
        return String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    func privateKeyPEM() throws(TLSError) -> [UInt8] {
        try Self.pem { PEM_write_bio_PrivateKey($0, key, nil, nil, 0, nil, nil) }
    }

    package func certificatePEM() throws(TLSError) -> [UInt8] {
        try Self.pem { PEM_write_bio_X509($0, certificate) }
    }

    private static func pem(_ write: (OpaquePointer) -> Int32) throws(TLSError) -> [UInt8] {
        guard let bio = BIO_new(BIO_s_mem()) else { throw TLSError("cannot encode PEM: \(TLSError.queue())") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw TLSError("cannot encode PEM: \(TLSError.queue())") }
        var bytes = [UInt8](repeating: 0, count: Int(residency_bio_pending(bio)))
        let read = BIO_read(bio, &bytes, Int32(bytes.count))
        return Array(bytes.prefix(max(0, Int(read))))
    }

    private static func write(_ bytes: [UInt8], to url: URL, mode: mode_t) throws(TLSError) {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard descriptor >= 0 else { throw TLSError("cannot create \(url.path): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
        let synced = fsync(descriptor) == 0
        close(descriptor)
        guard written == bytes.count, synced else { throw TLSError("cannot write \(url.path)") }
    }
}

/// The pins a mutual-TLS context accepts, reached from OpenSSL's verify callback through the context's app data.
///
/// A regional service learns its peer services' pins from the controller while it runs, so the set can be
/// replaced: the verify callback reads it under the lock, and a handshake sees either the old or the new set.
final class PinSet: Sendable {
    private let current: Mutex<Set<String>>
    init(_ pins: Set<String>) { current = Mutex(pins) }

    var pins: Set<String> { current.withLock { $0 } }
    func contains(_ pin: String) -> Bool { current.withLock { $0.contains(pin) } }
    func replace(_ pins: Set<String>) { current.withLock { $0 = pins } }
}
