#ifndef RESIDENCY_CLINUX_SHIM_H
#define RESIDENCY_CLINUX_SHIM_H
// Linux interfaces the Glibc module does not export: readiness (epoll), wake-ups (eventfd), glibc's malloc
// tuning (mallopt), and atomic operations on memory shared between processes (a mapped file), which Swift's
// Atomic cannot address.
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
#endif
