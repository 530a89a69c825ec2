#if canImport(Glibc)
    import Glibc
#endif

/// Every connection holds a file descriptor, and so do SQLite (the database, its WAL, its shared memory, per
/// reader), the log and the lock. Many systems start processes with a soft limit of 1024, which would turn
/// connections past it into accept errors long before `--max-connections`; the soft limit is raised toward the
/// hard one at start-up instead.
package enum DescriptorLimit {
    /// Descriptors kept for everything but connections.
    static let reserve = 256

    /// Raises the soft limit so `connections` fit; answers a warning when the hard limit does not allow it.
    package static func ensure(connections: Int) -> String? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        let wanted = rlim_t(connections + reserve)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = min(wanted, limit.rlim_max)
            _ = setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        }
        guard limit.rlim_cur < wanted else { return nil }
        return
            "the file descriptor limit is \(limit.rlim_cur) (hard limit \(limit.rlim_max)); --max-connections \(connections) needs about \(wanted): raise it with ulimit -n, or lower --max-connections"
    }
}
