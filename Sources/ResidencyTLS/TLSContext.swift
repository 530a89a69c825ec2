import CSSL
import Foundation

/// A server's TLS configuration: OpenSSL's `SSL_CTX` with a certificate chain and its private key, TLS 1.3 only.
///
/// `@unchecked Sendable`: an `SSL_CTX` is safe to share between threads once configured (OpenSSL locks its
/// reference counts and session cache internally); it is configured entirely in `init` and never changed after —
/// only the pin set its verify callback reads may be replaced, and that set is behind its own lock.
package final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer
    /// The pins a mutual-TLS context accepts; kept alive for the verify callback, which reads it through the
    /// context's app data.
    private let pins: PinSet?

    /// Loads `certificate` (PEM, the server's certificate first, then any intermediates) and `privateKey` (PEM)
    /// and checks that they belong together. Every problem names the file and what is accepted.
    package init(certificate: String, privateKey: String) throws(TLSError) {
        for (path, what) in [(certificate, "certificate"), (privateKey, "private key")] {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw TLSError(
                    "the TLS \(what) file \(path) \(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"); accepted: a readable PEM file"
                )
            }
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("cannot create a TLS context: \(TLSError.queue())") }
        self.context = context
        self.pins = nil
        guard residency_ssl_ctx_set_min_tls13(context) == 1 else {
            throw TLSError("cannot require TLS 1.3: \(TLSError.queue())")
        }
        _ = residency_ssl_ctx_set_mode_release_buffers(context)
        guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
            throw TLSError("\(certificate) is not a PEM certificate (chain): \(TLSError.queue())")
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKey, SSL_FILETYPE_PEM) == 1 else {
            let detail = TLSError.queue()
            if detail.contains("key values mismatch") {
                throw TLSError("the private key \(privateKey) does not belong to the certificate \(certificate)")
            }
            throw TLSError("\(privateKey) is not a PEM private key: \(detail)")
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError("the private key \(privateKey) does not belong to the certificate \(certificate)")
        }
    }

    init(identity: TLSIdentity, pins: PinSet, client: Bool) throws(TLSError) {
        guard let context = SSL_CTX_new(client ? TLS_client_method() : TLS_server_method()) else {
            throw TLSError("cannot create a TLS context: \(TLSError.queue())")
        }
        self.context = context
        self.pins = pins
        guard residency_ssl_ctx_set_min_tls13(context) == 1, SSL_CTX_use_certificate(context, identity.certificate) == 1,
            SSL_CTX_use_PrivateKey(context, identity.key) == 1, SSL_CTX_check_private_key(context) == 1
        else {
            throw TLSError("cannot set up mutual TLS with \(identity.name)'s identity: \(TLSError.queue())")
        }
        _ = residency_ssl_ctx_set_app_data(context, Unmanaged.passUnretained(pins).toOpaque())
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) { _, store in
            // Only the peer's own certificate (depth 0) decides; a self-signed chain is expected.
            guard let store, X509_STORE_CTX_get_error_depth(store) == 0,
                let certificate = X509_STORE_CTX_get_current_cert(store),
                let ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()),
                let data = residency_ssl_ctx_get_app_data(SSL_get_SSL_CTX(OpaquePointer(ssl)))
            else {
                if let store, X509_STORE_CTX_get_error_depth(store) > 0 { return 1 }
                return 0
            }
            let pins = Unmanaged<PinSet>.fromOpaque(data).takeUnretainedValue()
            guard let pin = TLSIdentity.pin(of: certificate), pins.contains(pin) else { return 0 }
            X509_STORE_CTX_set_error(store, X509_V_OK)
            return 1
        }
    }

    deinit { SSL_CTX_free(context) }
}

/// A TLS failure: what went wrong, with OpenSSL's own words.
package struct TLSError: Error, Sendable, CustomStringConvertible {
    package let description: String
    init(_ description: String) { self.description = description }

    /// Empties OpenSSL's error queue of this thread into one line.
    static func queue() -> String {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            let bytes = buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            messages.append(String(decoding: bytes, as: UTF8.self))
        }
        return messages.isEmpty ? "no detail from OpenSSL" : messages.joined(separator: "; ")
    }
}

extension TLSContext {
    /// Mutual TLS 1.3 between services: this side presents `identity`, and the peer must present a certificate
    /// whose key is one of `pinned` — checked in OpenSSL's verify callback, so an unpinned peer fails the
    /// handshake with an alert, before a byte of application data. CA chains and dates play no part: trust is
    /// the pin, exchanged at enrolment.
    package convenience init(mutual identity: TLSIdentity, pinned: Set<String>, client: Bool) throws(TLSError) {
        try self.init(identity: identity, pins: PinSet(pinned), client: client)
    }

    /// Replaces the pins a mutual-TLS context accepts from its next handshake on (connections already made keep
    /// going). A regional service calls it when the controller tells it its peer services' keys.
    package func replacePins(_ pinned: Set<String>) {
        pins?.replace(pinned)
    }

    /// The pins accepted now (empty for a context without pinning).
    package var pinned: Set<String> { pins?.pins ?? [] }
}
