#ifndef RESIDENCY_BATCHED_WAL_H
#define RESIDENCY_BATCHED_WAL_H
#include <sqlite3.h>

/// The name the VFS is registered under (not as the default): pass it to sqlite3_open_v2.
#define RESIDENCY_BATCHED_WAL_VFS "residency-batched-wal"

/// Registers the batched-WAL VFS over the default one (once; later calls answer the first call's result).
/// Answers SQLITE_OK or SQLite's error.
int residency_batched_wal_register(void);

/// Counts since a WAL file was opened: write calls SQLite made to it, write calls the VFS passed on (each a
/// contiguous run of those, or a piece of one), and times the wal-index was published to with bytes of the WAL
/// still buffered (a commit's frames are passed on by its commit frame's write: always 0 unless that broke).
typedef struct {
    sqlite3_int64 walWrites;
    sqlite3_int64 walFlushes;
    sqlite3_int64 publishedUnwritten;
} residency_batched_wal_counts;

/// The counts of the open WAL file of `connection`'s main database (for tests): SQLITE_OK, or SQLITE_NOTFOUND when
/// no WAL file is open or it was not opened through this VFS.
int residency_batched_wal_statistics(sqlite3 *connection, residency_batched_wal_counts *counts);
#endif
