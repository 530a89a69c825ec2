import CLinux
import Foundation

/// glibc gives threads their own malloc arenas, up to eight per core. With dozens of handler threads each
/// building and dropping large reports, freed memory stays scattered over many arenas and the resident size
/// climbs: in a soak run (Scripts/soak) it reached 290 MiB with the default and levelled off near 100 MiB with
/// one arena, at the same throughput. One arena per core keeps that bound without making every thread share
/// one lock.
package enum MallocArenas {
    /// Call before the server starts its threads. `MALLOC_ARENA_MAX` in the environment still wins.
    package static func limitToCores() {
        guard ProcessInfo.processInfo.environment["MALLOC_ARENA_MAX"] == nil else { return }
        _ = mallopt(M_ARENA_MAX, Int32(max(1, ProcessInfo.processInfo.activeProcessorCount)))
    }
}
