import CLinux
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A 64-bit counter in a small file that every process opening it maps into memory: one process's increment is
/// seen by the others at their next read, with no system call on either side. A change signal between a
/// server and the commands run beside it (a token revoked by `residency tokens revoke` must fail at the
/// server's next request). Its value means nothing across restarts; only changes matter.
package final class SharedCounter: @unchecked Sendable {
    // Sendable: the mapping is only read and written with atomic operations, from any thread or process.
    private let page: UnsafeMutableRawPointer
    private static let size = 4096
    /// Set for a store other machines write to (PostgreSQL): no signal reaches this process from theirs, so
    /// every read answers a new value and no cache keyed on it is ever taken for current.
    private let movesAtEveryRead: Bool

    /// Maps the counter file at `path`, creating it (zero, owner-only) if missing.
    package init(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw StoreError.cannotMap(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw StoreError.cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        // Growing with ftruncate zero-fills; two processes doing it at once agree on the result.
        if status.st_size < Self.size, ftruncate(descriptor, off_t(Self.size)) != 0 {
            throw StoreError.cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        let mapped = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED, descriptor, 0)
        guard let mapped, mapped != MAP_FAILED else {
            throw StoreError.cannotMap(path: path, reason: String(cString: strerror(errno)))
        }
        page = mapped
        movesAtEveryRead = false
    }

    /// A counter in this process only (in-memory stores), or with `movingAtEveryRead` one that answers a new
    /// value at every read: for a store that controllers on other machines change (PostgreSQL), where the
    /// counts and tokens cached against it must be read from the database every time.
    package init(movingAtEveryRead: Bool = false) {
        page = mmap(nil, Self.size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0)
        movesAtEveryRead = movingAtEveryRead
    }

    deinit { munmap(page, Self.size) }

    private var address: UnsafeMutablePointer<UInt64> { page.assumingMemoryBound(to: UInt64.self) }

    package func load() -> UInt64 {
        if movesAtEveryRead { return residency_atomic_increment_u64(address) }
        return residency_atomic_load_u64(address)
    }

    @discardableResult
    package func increment() -> UInt64 { residency_atomic_increment_u64(address) }
}
