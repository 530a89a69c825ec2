#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Spreads threads over `count` shards of some locked state.
///
/// Thread descriptors sit a stack apart in memory, so their low bits are equal; a multiplicative hash
/// (Fibonacci hashing) mixes the high bits down.
package enum ThreadShard {
    package static func index(count: Int) -> Int {
        let identity = UInt64(UInt(pthread_self()))
        return Int(((identity &* 0x9E37_79B9_7F4A_7C15) >> 32) % UInt64(count))
    }
}
