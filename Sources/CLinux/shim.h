#ifndef RESIDENCY_CLINUX_SHIM_H
#define RESIDENCY_CLINUX_SHIM_H
// Linux interfaces the Glibc module does not export: readiness (epoll), wake-ups (eventfd), glibc's malloc
// tuning (mallopt), early write-back of a file range (sync_file_range), in-kernel file copies (copy_file_range), and atomic operations on memory shared
// between processes (a mapped file), which Swift's Atomic cannot address.
#include <malloc.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

static inline uint64_t residency_atomic_load_u64(const uint64_t *address) {
    return __atomic_load_n(address, __ATOMIC_ACQUIRE);
}

static inline uint64_t residency_atomic_increment_u64(uint64_t *address) {
    return __atomic_add_fetch(address, 1, __ATOMIC_ACQ_REL);
}

// Starts writing back a range of a file's dirty pages without waiting for it: the final fsync of a large file
// written in pieces then finds the disk done with most of it, instead of starting on all of it.
// Declared here because <fcntl.h> declares it only under _GNU_SOURCE, which would give this module other
// definitions of the system's types than the other C modules see; 2 is SYNC_FILE_RANGE_WRITE.
extern int sync_file_range(int fd, int64_t offset, int64_t count, unsigned int flags);
static inline int residency_start_writeback(int descriptor, int64_t offset, int64_t count) {
    return sync_file_range(descriptor, offset, count, 2);
}

// Copies up to `count` bytes from the current offset of one file to the current offset of another inside the
// kernel (no trip through user memory); declared here for the same reason as sync_file_range.
extern long copy_file_range(int in, int64_t *in_offset, int out, int64_t *out_offset, unsigned long count,
                            unsigned int flags);
static inline long residency_copy_file_range(int in, int out, unsigned long count) {
    return copy_file_range(in, 0, out, 0, count, 0);
}
#endif
