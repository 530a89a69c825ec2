import CSSL

/// One connection's TLS state over memory BIOs: the event loop moves bytes between the socket and the BIOs and
/// never blocks in OpenSSL, which sees only memory. Received ciphertext goes in with `receive`, and comes out as
/// plaintext; plaintext to send goes in with `seal`, and comes out as ciphertext to queue on the socket — which
/// also carries what the handshake has to say, as soon as it has something.
///
/// Touched only by its event loop's thread.
package final class TLSSession {
    private let ssl: OpaquePointer
    /// Network to OpenSSL.
    private let incoming: OpaquePointer
    /// OpenSSL to network.
    private let outgoing: OpaquePointer
    package private(set) var closedByPeer = false

    /// A session accepting (`server`) or opening (`client`) a connection under `context`.
    package init(context: TLSContext, client: Bool = false) throws(TLSError) {
        guard let ssl = SSL_new(context.context), let incoming = BIO_new(BIO_s_mem()),
            let outgoing = BIO_new(BIO_s_mem())
        else { throw TLSError("cannot start a TLS session: \(TLSError.queue())") }
        self.ssl = ssl
        self.incoming = incoming
        self.outgoing = outgoing
        // A read of an empty memory BIO means "more data later", not end of file.
        _ = residency_bio_set_mem_eof_return(incoming, -1)
        _ = residency_bio_set_mem_eof_return(outgoing, -1)
        SSL_set_bio(ssl, incoming, outgoing)
        if client {
            SSL_set_connect_state(ssl)
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit { SSL_free(ssl) }

    package enum Outcome: Sendable {
        /// Plaintext that arrived (possibly none: the handshake, or half a record).
        case data
        /// The peer sent close_notify.
        case closed
        /// The peer broke the protocol (or tried another version): the connection is dropped.
        case failed(String)
    }

    /// Feeds received ciphertext; appends decrypted bytes to `plaintext` and handshake replies to `wire`.
    ///
    /// Records are decrypted into `scratch` — the caller's buffer, free again once `bytes` is taken in (an event
    /// loop passes the buffer it read them into) — then appended. Without one, a buffer is made for the call: a
    /// 16 KiB array zero-filled for every read had been the largest allocation of a request over TLS.
    package func receive(
        _ bytes: UnsafeRawBufferPointer, plaintext: inout [UInt8], wire: inout [UInt8],
        scratch: UnsafeMutableRawBufferPointer? = nil
    ) -> Outcome {
        var offset = 0
        while offset < bytes.count {
            let written = BIO_write(incoming, bytes.baseAddress! + offset, Int32(bytes.count - offset))
            guard written > 0 else { return .failed("cannot buffer received bytes") }
            offset += Int(written)
        }
        let owned = scratch == nil ? UnsafeMutableRawBufferPointer.allocate(byteCount: 16 * 1024, alignment: 16) : nil
        defer { owned?.deallocate() }
        let chunk = scratch ?? owned!
        var outcome = Outcome.data
        reading: while true {
            let count = SSL_read(ssl, chunk.baseAddress, Int32(min(chunk.count, Int(Int32.max))))
            if count > 0 {
                plaintext.append(contentsOf: UnsafeRawBufferPointer(rebasing: chunk[0..<Int(count)]))
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE: break reading
            case SSL_ERROR_ZERO_RETURN:
                closedByPeer = true
                outcome = .closed
                break reading
            default:
                outcome = .failed(TLSError.queue())
                break reading
            }
        }
        drain(into: &wire)
        return outcome
    }

    /// Encrypts `plaintext` into TLS records appended to `wire`.
    package func seal(_ plaintext: [UInt8], into wire: inout [UInt8]) {
        var offset = 0
        while offset < plaintext.count {
            let written = plaintext.withUnsafeBytes {
                SSL_write(ssl, $0.baseAddress! + offset, Int32(min($0.count - offset, 1 << 20)))
            }
            // With a memory BIO a write cannot block; a failure means the session is broken and the
            // connection will be dropped when the peer sees garbage or nothing.
            guard written > 0 else { break }
            offset += Int(written)
        }
        drain(into: &wire)
    }

    /// Appends close_notify to `wire` (a clean end the client can tell from a cut connection).
    package func close(into wire: inout [UInt8]) {
        if SSL_is_init_finished(ssl) == 1 { _ = SSL_shutdown(ssl) }
        drain(into: &wire)
    }

    /// For a client: the ClientHello (and later what the handshake has to say) appended to `wire`.
    package func start(into wire: inout [UInt8]) -> Outcome {
        let result = SSL_do_handshake(ssl)
        if result != 1 {
            let error = SSL_get_error(ssl, result)
            if error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE {
                drain(into: &wire)
                return .failed(TLSError.queue())
            }
        }
        drain(into: &wire)
        return .data
    }

    /// The handshake has completed (and, under mutual TLS, the peer's key was one of the pinned).
    package var isEstablished: Bool { SSL_is_init_finished(ssl) == 1 }

    /// The pin (SHA-256 of the SubjectPublicKeyInfo, base64) of the peer's certificate, once presented.
    package var peerPin: String? {
        guard let certificate = SSL_get1_peer_certificate(ssl) else { return nil }
        defer { X509_free(certificate) }
        return TLSIdentity.pin(of: certificate)
    }

    private func drain(into wire: inout [UInt8]) {
        let pending = Int(residency_bio_pending(outgoing))
        guard pending > 0 else { return }
        // Straight from the BIO into uninitialized memory (a streamed answer drains a megabyte at a time: no
        // zero-filling pass before the copy).
        let drained = [UInt8](unsafeUninitializedCapacity: pending) { buffer, initialized in
            initialized = max(0, Int(BIO_read(outgoing, buffer.baseAddress!, Int32(pending))))
        }
        if wire.isEmpty {
            wire = drained
        } else {
            wire.append(contentsOf: drained)
        }
    }
}
