import CCrypto
import Synchronization

/// Random bytes for identifiers (a tenant id's random part), from OpenSSL's CSPRNG a block at a time: each call of
/// `RAND_bytes` in OpenSSL 3 sets up its DRBG's cipher again, and for the five bytes of a tenant id that was 3.5 %
/// of a concurrent signup's CPU. Every byte of a block is handed out once, in order, and the block is drawn again
/// when it runs out. Secrets (tokens) keep drawing from `SecureRandom`, so no secret ever sits in this buffer.
package enum IdentifierRandom {
    /// Bytes drawn per call of `RAND_bytes`.
    static let blockSize = 4_096

    private static let pool = Mutex(Pool())

    private struct Pool {
        var bytes = [UInt8](repeating: 0, count: IdentifierRandom.blockSize)
        /// The next byte not handed out; `blockSize` when every one has been.
        var next = IdentifierRandom.blockSize
    }

    /// `count` random bytes.
    package static func bytes(_ count: Int) -> [UInt8] {
        guard count <= blockSize / 4 else { return SecureRandom.bytes(count) }
        return pool.withLock { pool in
            if pool.next + count > blockSize {
                let status = pool.bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(blockSize)) }
                // As in `SecureRandom`: continuing with old or zero bytes would mint guessable ids.
                precondition(status == 1, "OpenSSL RAND_bytes failed: no entropy available")
                pool.next = 0
            }
            defer { pool.next += count }
            return Array(pool.bytes[pool.next..<(pool.next + count)])
        }
    }

    /// Lower-case hex of `count` random bytes.
    package static func hex(_ count: Int) -> String { Hex.encode(bytes(count)) }
}
