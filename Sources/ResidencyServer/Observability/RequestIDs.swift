import ResidencyCore
import Synchronization

/// Request ids for requests that bring none: 16 hex digits, a random half drawn once at start-up and a
/// counter. Unique within a run and unlikely to repeat across runs; they only correlate log lines, ledger
/// entries and answers, so they need not be unpredictable. Eight fresh random bytes per request cost more than
/// the rest of a health check (OpenSSL's RAND_bytes calls getpid on every call, for fork safety).
final class RequestIDs: Sendable {
    private let prefix: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        prefix = SecureRandom.bytes(4).reduce(UInt64(0)) { $0 << 8 | UInt64($1) } << 32
    }

    func next() -> String {
        let value = prefix | (counter.add(1, ordering: .relaxed).newValue & 0xFFFF_FFFF)
        return String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789abcdef"
            digits.withUTF8Buffer { digits in
                for index in 0..<16 { buffer[index] = digits[Int(value >> UInt64(60 - index * 4) & 0xF)] }
            }
            return 16
        }
    }
}
