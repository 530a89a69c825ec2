import CSSL
import Foundation

/// A server's TLS configuration: OpenSSL's `SSL_CTX` with a certificate chain and its private key, TLS 1.3 only.
///
/// `@unchecked Sendable`: an `SSL_CTX` is safe to share between threads once configured (OpenSSL locks its
/// reference counts and session cache internally); it is configured entirely in `init` and never changed after.
public final class TLSContext: @unchecked Sendable {
    let context: OpaquePointer

    /// Loads `certificate` (PEM, the server's certificate first, then any intermediates) and `privateKey` (PEM)
    /// and checks that they belong together. Every problem names the file and what is accepted.
    public init(certificate: String, privateKey: String) throws(TLSError) {
        for (path, what) in [(certificate, "certificate"), (privateKey, "private key")] {
            guard FileManager.default.isReadableFile(atPath: path) else {
                throw TLSError(
                    "the TLS \(what) file \(path) \(FileManager.default.fileExists(atPath: path) ? "cannot be read" : "does not exist"); accepted: a readable PEM file"
                )
            }
        }
        guard let context = SSL_CTX_new(TLS_server_method()) else { throw TLSError("cannot create a TLS context: \(TLSError.queue())") }
        self.context = context
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

    deinit { SSL_CTX_free(context) }
}

/// A TLS failure: what went wrong, with OpenSSL's own words.
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public let description: String
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
