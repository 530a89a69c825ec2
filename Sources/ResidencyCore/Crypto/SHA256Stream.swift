import CCrypto

/// SHA-256 over a message fed in pieces (a database's rows, a file read in blocks).
///
/// Not `Sendable`: one owner at a time.
package final class SHA256Stream {
    private let context: OpaquePointer
    private var finished = false

    package init() {
        guard let context = EVP_MD_CTX_new() else { preconditionFailure("OpenSSL could not allocate a digest context") }
        self.context = context
        EVP_DigestInit_ex(context, SHA256.algorithm, nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    package func update(_ bytes: UnsafeRawBufferPointer) {
        precondition(!finished, "a finished SHA-256 stream cannot take more input")
        if bytes.count > 0 { EVP_DigestUpdate(context, bytes.baseAddress, bytes.count) }
    }

    package func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest of everything fed so far; the stream takes no more input after.
    package func finish() -> SHA256Digest {
        finished = true
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.storage) { out in
            var length: UInt32 = 32
            EVP_DigestFinal_ex(context, out.baseAddress!.assumingMemoryBound(to: UInt8.self), &length)
        }
        return digest
    }
}
