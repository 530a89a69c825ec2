import CCrypto

#if canImport(Glibc)
    import Glibc
#endif

/// SHA-256 through OpenSSL's libcrypto; the project never implements a hash itself.
package enum SHA256 {
    package static let byteCount = 32

    package static func hash<Bytes: Sequence>(_ bytes: Bytes) -> SHA256Digest where Bytes.Element == UInt8 {
        let contiguous = Array(bytes)
        return contiguous.withUnsafeBytes { hash($0) }
    }

    /// Through OpenSSL's low-level calls (`residency_sha256` in CCrypto's shim), without allocating a context.
    package static func hash(_ buffer: UnsafeRawBufferPointer) -> SHA256Digest {
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.storage) { out in
            residency_sha256(buffer.baseAddress, buffer.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// The SHA-256 implementation, fetched from OpenSSL's providers once. `SHA256()` and `EVP_sha256()` fetch
    /// it on every call in OpenSSL 3, taking provider locks each time (measured: a tenth of the ledger
    /// verification's time). `nonisolated(unsafe)` because an `EVP_MD` is immutable after the fetch and OpenSSL
    /// documents fetched algorithms as shareable between threads.
    nonisolated(unsafe) static let algorithm: OpaquePointer = {
        guard let md = EVP_MD_fetch(nil, "SHA256", nil) else {
            preconditionFailure("OpenSSL has no SHA-256 implementation")
        }
        return md
    }()
}

/// A 32-byte SHA-256 value, stored inline so hashing in a loop does not allocate.
package struct SHA256Digest: Sendable, Hashable, CustomStringConvertible {
    var storage: (UInt64, UInt64, UInt64, UInt64)

    static let zero = SHA256Digest(storage: (0, 0, 0, 0))

    package init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.storage) { $0.copyBytes(from: bytes) }
        self = digest
    }

    /// A copy of 32 raw bytes; nil for any other count.
    package init?(_ bytes: UnsafeRawBufferPointer) {
        guard bytes.count == 32 else { return nil }
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.storage) { $0.copyMemory(from: bytes) }
        self = digest
    }

    private init(storage: (UInt64, UInt64, UInt64, UInt64)) { self.storage = storage }

    package var bytes: [UInt8] { withUnsafeBytes(of: storage) { Array($0) } }

    /// Compares with raw bytes without copying them.
    package func matches(_ other: UnsafeRawBufferPointer) -> Bool {
        other.count == 32 && withUnsafeBytes(of: storage) { memcmp($0.baseAddress!, other.baseAddress!, 32) == 0 }
    }

    package var hex: String { Hex.encode(bytes) }

    package var description: String { hex }

    package static func == (lhs: SHA256Digest, rhs: SHA256Digest) -> Bool {
        lhs.storage.0 == rhs.storage.0 && lhs.storage.1 == rhs.storage.1 && lhs.storage.2 == rhs.storage.2
            && lhs.storage.3 == rhs.storage.3
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(storage.0)
        hasher.combine(storage.1)
        hasher.combine(storage.2)
        hasher.combine(storage.3)
    }
}

/// Comparison whose time does not depend on where two secrets first differ (token hashes, signatures).
package enum ConstantTime {
    package static func equal(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        return lhs.withUnsafeBytes { l in
            rhs.withUnsafeBytes { r in CRYPTO_memcmp(l.baseAddress, r.baseAddress, l.count) == 0 }
        }
    }

    /// `equal` over raw bytes (a secret where it lies in a request head).
    package static func equal(_ lhs: UnsafeRawBufferPointer, _ rhs: UnsafeRawBufferPointer) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard lhs.count > 0 else { return true }
        return CRYPTO_memcmp(lhs.baseAddress, rhs.baseAddress, lhs.count) == 0
    }
}

extension SHA256 {
    /// SHA-256(prefix ‖ message) — the RFC 6962 leaf hash with prefix 0x00 — without allocating, through
    /// OpenSSL's low-level calls (see `residency_sha256_prefixed` in CCrypto's shim for why not EVP).
    package static func hash(prefix: UInt8, _ message: UnsafeRawBufferPointer) -> SHA256Digest {
        var digest = SHA256Digest.zero
        withUnsafeMutableBytes(of: &digest.storage) { out in
            residency_sha256_prefixed(
                prefix, message.baseAddress, message.count, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        return digest
    }

    /// The RFC 6962 node hash SHA-256(0x01 ‖ left ‖ right), without allocating.
    package static func nodeHash(_ left: SHA256Digest, _ right: SHA256Digest) -> SHA256Digest {
        var digest = SHA256Digest.zero
        withUnsafeBytes(of: left.storage) { left in
            withUnsafeBytes(of: right.storage) { right in
                withUnsafeMutableBytes(of: &digest.storage) { out in
                    residency_sha256_node(
                        left.baseAddress, right.baseAddress, out.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        return digest
    }
}

/// Hashes many messages in a loop without allocating per message.
///
/// Not `Sendable`: one owner at a time. (It once held a reusable EVP context; the low-level calls need none.)
package final class SHA256Hasher {
    package init() {}

    /// SHA-256(prefix ‖ message): the RFC 6962 leaf hash with prefix 0x00.
    package func hash(prefix: UInt8, _ message: UnsafeRawBufferPointer) -> SHA256Digest {
        SHA256.hash(prefix: prefix, message)
    }
}
