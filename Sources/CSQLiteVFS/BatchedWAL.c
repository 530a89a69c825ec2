// A SQLite VFS over the default (unix) one that turns SQLite's writes to a WAL file into one write per contiguous
// run (in pieces of at most 124 KiB), issued before anything that depends on them. Everything else passes through.
//
// Why: SQLite writes each WAL frame as two writes, its 24-byte header and then the page, so a commit of a group of
// signups (about 110 frames) made ~220 pwrite calls, each misaligned with the page cache (a frame is 4,120 bytes),
// before its fdatasync. The same bytes written by one pwrite took a quarter of the time, and the fdatasync after
// them was faster too (measured: 128 frames, 664 -> 157 us of writing, 560 -> 361 us of fdatasync).
//
// Durability is unchanged: the same bytes reach the file before the same fsync. Buffered bytes are written
//  - before xSync of the WAL (so a commit is durable exactly when it was before),
//  - before any other call on the WAL file that could observe the file (xRead, xFileSize, xTruncate,
//    xFileControl, xLock and friends, xClose), and before a write that does not continue the run,
//  - before the main database file's shared-memory calls (xShmMap, xShmLock, xShmBarrier, xShmUnmap): a commit is
//    published to other connections through the wal-index, so no reader can be told of a frame still in memory.
// - at the end of a commit frame (the frame whose header names the database's size after the commit): the run is
//   written before SQLite's write of that frame returns, and a failure fails that write, hence the commit —
//   whatever the synchronous level, so no commit is ever published (xShmBarrier cannot report an error) or
//   acknowledged with a frame still in memory.
// With synchronous = FULL or EXTRA an xSync follows, as before. The VFS also refuses `PRAGMA synchronous` below
// FULL on the files it opened: the project's durability is FULL's. A process killed with bytes still buffered
// loses only frames of a commit that had not been written, that is, one nobody was told had committed.
// A failed write is answered to the call that passed the run on (a write, a sync, a read...), which fails the
// transaction. Only where SQLite cannot be told (xShmBarrier) is it remembered (`deferredError`) and answered to
// every later call on the WAL until the connection next takes the WAL's write lock: a new write transaction never
// relies on frames of an earlier one that did not commit. (Remembering every failure that way left a connection
// failing every read after a full disk had been freed: a read transaction does not take the write lock.)
#include "residency_batched_wal.h"
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/// A main database file or a WAL file opened through this VFS: the real file follows this struct in memory.
typedef struct BatchedFile {
    sqlite3_file base;
    sqlite3_file *real;
    /// The main database file: its WAL file while open. A WAL file: its main database file.
    struct BatchedFile *partner;
    int isWAL;
    /// WAL files: the bytes written but not yet passed on, which belong at `start` in the file.
    unsigned char *buffer;
    sqlite3_int64 start;
    int length;
    int capacity;
    /// A failed write nobody could be told of: answered to every later call until the write lock is taken again.
    int deferredError;
    /// Set by a commit frame's header; the frame's page write that follows passes the run on at once.
    int commitFramePending;
    /// Write calls SQLite made to this WAL file, write calls passed on, and commits published unwritten.
    residency_batched_wal_counts counts;
} BatchedFile;

/// A run longer than this is passed on as it goes (a transaction writing megabytes, a rebuilt database).
static const int maximumBuffer = 8 * 1024 * 1024;

static sqlite3_vfs batchedVFS;
static sqlite3_vfs *realVFS;
static sqlite3_io_methods mainMethods;
static sqlite3_io_methods walMethods;
static int registerResult = SQLITE_OK;
static pthread_once_t registerOnce = PTHREAD_ONCE_INIT;


/// The most the unix VFS writes in one call: it masks a write's length to 17 bits (`seekAndWriteFd`), so a longer
/// run is passed on in pieces of this many bytes (31 pages).
static const int maximumWrite = 0x1ffff & ~4095;

/// Passes `length` bytes on at `offset` in pieces the unix VFS takes whole; answers the first failure.
static int writePieces(BatchedFile *file, const unsigned char *bytes, int length, sqlite3_int64 offset) {
    for (int done = 0; done < length; done += maximumWrite) {
        int amount = length - done < maximumWrite ? length - done : maximumWrite;
        file->counts.walFlushes += 1;
        int code = file->real->pMethods->xWrite(file->real, bytes + done, amount, offset + done);
        if (code != SQLITE_OK) return code;
    }
    return SQLITE_OK;
}

/// Writes the buffered run and empties the buffer, whatever the outcome; answers the first failed write's result.
static int flush(BatchedFile *file) {
    if (file->length == 0) return SQLITE_OK;
    int length = file->length;
    file->length = 0;
    return writePieces(file, file->buffer, length, file->start);
}

/// Flushes before a call that depends on the file's contents; answers the deferred error or the flush's.
static int settle(BatchedFile *file) {
    if (file->deferredError != SQLITE_OK) return file->deferredError;
    return flush(file);
}

// MARK: WAL files

static int walClose(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    int flushed = settle(file);
    if (file->partner) file->partner->partner = NULL;
    file->partner = NULL;
    int closed = file->real->pMethods->xClose(file->real);
    free(file->buffer);
    file->buffer = NULL;
    return flushed != SQLITE_OK ? flushed : closed;
}

static int walRead(sqlite3_file *handle, void *data, int amount, sqlite3_int64 offset) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xRead(file->real, data, amount, offset);
}

static int walWrite(sqlite3_file *handle, const void *data, int amount, sqlite3_int64 offset) {
    BatchedFile *file = (BatchedFile *)handle;
    if (file->deferredError != SQLITE_OK) return file->deferredError;
    file->counts.walWrites += 1;
    // A frame header is 24 bytes; bytes 4-7 hold the database's size in pages after the commit for a commit frame,
    // zero for any other. The page written next ends the commit's frames.
    int endsCommit = file->commitFramePending;
    file->commitFramePending = 0;
    if (amount == 24) {
        const unsigned char *header = data;
        file->commitFramePending = (header[4] | header[5] | header[6] | header[7]) != 0;
    }
    int continues = file->length > 0 && offset == file->start + file->length;
    if (!continues || file->length + amount > maximumBuffer) {
        int code = flush(file);
        if (code != SQLITE_OK) return code;
    }
    if (file->length == 0) {
        if (amount > maximumWrite) return writePieces(file, data, amount, offset);
        file->start = offset;
    }
    if (file->length + amount > file->capacity) {
        int capacity = file->capacity == 0 ? 256 * 1024 : file->capacity;
        while (capacity < file->length + amount) capacity *= 2;
        unsigned char *grown = realloc(file->buffer, (size_t)capacity);
        if (grown == NULL) {
            // No memory for a longer run: what is buffered goes now and this write as it came.
            int code = flush(file);
            if (code != SQLITE_OK) return code;
            return file->real->pMethods->xWrite(file->real, data, amount, offset);
        }
        file->buffer = grown;
        file->capacity = capacity;
    }
    memcpy(file->buffer + file->length, data, (size_t)amount);
    file->length += amount;
    return endsCommit ? flush(file) : SQLITE_OK;
}

static int walTruncate(sqlite3_file *handle, sqlite3_int64 size) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int walSync(sqlite3_file *handle, int flags) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xSync(file->real, flags);
}

static int walFileSize(sqlite3_file *handle, sqlite3_int64 *size) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int walLock(sqlite3_file *handle, int level) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xLock(file->real, level);
}

static int walUnlock(sqlite3_file *handle, int level) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int walCheckReservedLock(sqlite3_file *handle, int *reserved) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xCheckReservedLock(file->real, reserved);
}

static int walFileControl(sqlite3_file *handle, int op, void *argument) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settle(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int walSectorSize(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xSectorSize(file->real);
}

static int walDeviceCharacteristics(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

// MARK: Main database files

/// Before the wal-index is touched: the WAL's buffered frames are written, so that no frame is published (or a
/// checkpoint or recovery started) while only this process's memory holds it.
static int settlePartner(BatchedFile *file) {
    return file->partner ? settle(file->partner) : SQLITE_OK;
}

static int mainClose(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    if (file->partner) file->partner->partner = NULL;
    file->partner = NULL;
    return file->real->pMethods->xClose(file->real);
}

static int mainRead(sqlite3_file *handle, void *data, int amount, sqlite3_int64 offset) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xRead(file->real, data, amount, offset);
}

static int mainWrite(sqlite3_file *handle, const void *data, int amount, sqlite3_int64 offset) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xWrite(file->real, data, amount, offset);
}

static int mainTruncate(sqlite3_file *handle, sqlite3_int64 size) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xTruncate(file->real, size);
}

static int mainSync(sqlite3_file *handle, int flags) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xSync(file->real, flags);
}

static int mainFileSize(sqlite3_file *handle, sqlite3_int64 *size) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xFileSize(file->real, size);
}

static int mainLock(sqlite3_file *handle, int level) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xLock(file->real, level);
}

static int mainUnlock(sqlite3_file *handle, int level) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xUnlock(file->real, level);
}

static int mainCheckReservedLock(sqlite3_file *handle, int *reserved) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xCheckReservedLock(file->real, reserved);
}

/// Whether `value` (PRAGMA synchronous's argument) is anything but FULL or EXTRA. Only those four spellings are
/// let through: SQLite reads every word it does not know as NORMAL and wraps numbers (7 is OFF), so a list of
/// the spellings below FULL could never be complete.
static int isBelowFull(const char *value) {
    return !(sqlite3_stricmp(value, "full") == 0 || sqlite3_stricmp(value, "extra") == 0 || strcmp(value, "2") == 0
        || strcmp(value, "3") == 0);
}

static int mainFileControl(sqlite3_file *handle, int op, void *argument) {
    BatchedFile *file = (BatchedFile *)handle;
    if (op == SQLITE_FCNTL_PRAGMA) {
        char **arguments = (char **)argument;
        if (arguments[1] && sqlite3_stricmp(arguments[1], "synchronous") == 0 && arguments[2]
            && isBelowFull(arguments[2]))
        {
            arguments[0] = sqlite3_mprintf(
                "synchronous = %s is refused: the " RESIDENCY_BATCHED_WAL_VFS " VFS needs FULL or EXTRA, so that "
                "every commit's WAL writes are made and checked before the commit is published",
                arguments[2]);
            return SQLITE_ERROR;
        }
    }
    return file->real->pMethods->xFileControl(file->real, op, argument);
}

static int mainSectorSize(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xSectorSize(file->real);
}

static int mainDeviceCharacteristics(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xDeviceCharacteristics(file->real);
}

static int mainShmMap(sqlite3_file *handle, int region, int size, int extend, void volatile **memory) {
    BatchedFile *file = (BatchedFile *)handle;
    int code = settlePartner(file);
    if (code != SQLITE_OK) return code;
    return file->real->pMethods->xShmMap(file->real, region, size, extend, memory);
}

/// The wal-index's write lock (WAL_WRITE_LOCK in SQLite's wal.c): taken at the start of every write transaction.
static const int walWriteLock = 0;

static int mainShmLock(sqlite3_file *handle, int offset, int count, int flags) {
    BatchedFile *file = (BatchedFile *)handle;
    if (flags & SQLITE_SHM_UNLOCK) {
        // SQLite ignores an unlock's result, so the lock is always released. Bytes still buffered here belong to
        // no commit (a commit's frames went with its commit frame): what a failed write loses was never
        // acknowledged, and SQLite reads no frame past the last commit.
        if (file->partner) (void)flush(file->partner);
        return file->real->pMethods->xShmLock(file->real, offset, count, flags);
    }
    int code = settlePartner(file);
    if (code != SQLITE_OK) return code;
    code = file->real->pMethods->xShmLock(file->real, offset, count, flags);
    if (code == SQLITE_OK && file->partner && offset == walWriteLock && (flags & SQLITE_SHM_EXCLUSIVE)) {
        // A new write transaction: it never relies on frames of an earlier one that did not commit.
        file->partner->deferredError = SQLITE_OK;
    }
    return code;
}

static void mainShmBarrier(sqlite3_file *handle) {
    BatchedFile *file = (BatchedFile *)handle;
    if (file->partner && file->partner->length > 0) {
        // A commit frame's write already passed its run on, so this is never a commit published unwritten; it
        // is counted for the tests all the same. Cannot answer an error: it is remembered.
        file->partner->counts.publishedUnwritten += 1;
        int code = flush(file->partner);
        if (code != SQLITE_OK && file->partner->deferredError == SQLITE_OK) file->partner->deferredError = code;
    }
    file->real->pMethods->xShmBarrier(file->real);
}

static int mainShmUnmap(sqlite3_file *handle, int deleteFlag) {
    BatchedFile *file = (BatchedFile *)handle;
    // SQLite ignores an unmap's result: the shared memory is always let go (as at an unlock, nothing buffered
    // here belongs to a commit).
    if (file->partner) (void)flush(file->partner);
    return file->real->pMethods->xShmUnmap(file->real, deleteFlag);
}

static int mainFetch(sqlite3_file *handle, sqlite3_int64 offset, int amount, void **pointer) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xFetch(file->real, offset, amount, pointer);
}

static int mainUnfetch(sqlite3_file *handle, sqlite3_int64 offset, void *pointer) {
    BatchedFile *file = (BatchedFile *)handle;
    return file->real->pMethods->xUnfetch(file->real, offset, pointer);
}

// MARK: The VFS

static int batchedOpen(sqlite3_vfs *vfs, const char *name, sqlite3_file *handle, int flags, int *outFlags) {
    (void)vfs;
    if (!(flags & (SQLITE_OPEN_MAIN_DB | SQLITE_OPEN_WAL))) {
        // Journals, temporary files: the real file in place, untouched (the handle is large enough for it).
        return realVFS->xOpen(realVFS, name, handle, flags, outFlags);
    }
    BatchedFile *file = (BatchedFile *)handle;
    memset(file, 0, sizeof(BatchedFile));
    file->real = (sqlite3_file *)(file + 1);
    int code = realVFS->xOpen(realVFS, name, file->real, flags, outFlags);
    if (code != SQLITE_OK) {
        // SQLite calls xClose only if pMethods is set; the real file closes itself on failure.
        file->base.pMethods = NULL;
        return code;
    }
    if (file->real->pMethods->iVersion < 3) {
        // This VFS forwards version-3 methods (shared memory, memory maps): a real file without them is not wrapped.
        file->real->pMethods->xClose(file->real);
        return SQLITE_CANTOPEN;
    }
    if (flags & SQLITE_OPEN_WAL) {
        file->isWAL = 1;
        file->base.pMethods = &walMethods;
        // SQLite opens a WAL with the name it derived from its main database file's, which this function maps back.
        sqlite3_file *main = sqlite3_database_file_object(name);
        if (main && main->pMethods == &mainMethods) {
            BatchedFile *partner = (BatchedFile *)main;
            partner->partner = file;
            file->partner = partner;
        }
    } else {
        file->base.pMethods = &mainMethods;
    }
    return SQLITE_OK;
}

static int batchedDelete(sqlite3_vfs *vfs, const char *name, int syncDirectory) {
    (void)vfs;
    return realVFS->xDelete(realVFS, name, syncDirectory);
}

static int batchedAccess(sqlite3_vfs *vfs, const char *name, int flags, int *result) {
    (void)vfs;
    return realVFS->xAccess(realVFS, name, flags, result);
}

static int batchedFullPathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    (void)vfs;
    return realVFS->xFullPathname(realVFS, name, size, out);
}

static void *batchedDlOpen(sqlite3_vfs *vfs, const char *name) {
    (void)vfs;
    return realVFS->xDlOpen(realVFS, name);
}

static void batchedDlError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    realVFS->xDlError(realVFS, size, out);
}

static void (*batchedDlSym(sqlite3_vfs *vfs, void *library, const char *symbol))(void) {
    (void)vfs;
    return realVFS->xDlSym(realVFS, library, symbol);
}

static void batchedDlClose(sqlite3_vfs *vfs, void *library) {
    (void)vfs;
    realVFS->xDlClose(realVFS, library);
}

static int batchedRandomness(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return realVFS->xRandomness(realVFS, size, out);
}

static int batchedSleep(sqlite3_vfs *vfs, int microseconds) {
    (void)vfs;
    return realVFS->xSleep(realVFS, microseconds);
}

static int batchedCurrentTime(sqlite3_vfs *vfs, double *now) {
    (void)vfs;
    return realVFS->xCurrentTime(realVFS, now);
}

static int batchedGetLastError(sqlite3_vfs *vfs, int size, char *out) {
    (void)vfs;
    return realVFS->xGetLastError ? realVFS->xGetLastError(realVFS, size, out) : 0;
}

static int batchedCurrentTimeInt64(sqlite3_vfs *vfs, sqlite3_int64 *now) {
    (void)vfs;
    return realVFS->xCurrentTimeInt64(realVFS, now);
}

static void registerVFS(void) {
    realVFS = sqlite3_vfs_find(NULL);
    if (realVFS == NULL || realVFS->iVersion < 2 || realVFS->xCurrentTimeInt64 == NULL) {
        registerResult = SQLITE_ERROR;
        return;
    }
    mainMethods = (sqlite3_io_methods){
        .iVersion = 3, .xClose = mainClose, .xRead = mainRead, .xWrite = mainWrite, .xTruncate = mainTruncate,
        .xSync = mainSync, .xFileSize = mainFileSize, .xLock = mainLock, .xUnlock = mainUnlock,
        .xCheckReservedLock = mainCheckReservedLock, .xFileControl = mainFileControl,
        .xSectorSize = mainSectorSize, .xDeviceCharacteristics = mainDeviceCharacteristics,
        .xShmMap = mainShmMap, .xShmLock = mainShmLock, .xShmBarrier = mainShmBarrier,
        .xShmUnmap = mainShmUnmap, .xFetch = mainFetch, .xUnfetch = mainUnfetch,
    };
    // A WAL file has no shared memory or memory map of its own: SQLite asks the main database file for those.
    walMethods = (sqlite3_io_methods){
        .iVersion = 1, .xClose = walClose, .xRead = walRead, .xWrite = walWrite, .xTruncate = walTruncate,
        .xSync = walSync, .xFileSize = walFileSize, .xLock = walLock, .xUnlock = walUnlock,
        .xCheckReservedLock = walCheckReservedLock, .xFileControl = walFileControl,
        .xSectorSize = walSectorSize, .xDeviceCharacteristics = walDeviceCharacteristics,
    };
    batchedVFS = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(BatchedFile) + realVFS->szOsFile,
        .mxPathname = realVFS->mxPathname,
        .zName = RESIDENCY_BATCHED_WAL_VFS,
        .xOpen = batchedOpen, .xDelete = batchedDelete, .xAccess = batchedAccess,
        .xFullPathname = batchedFullPathname, .xDlOpen = batchedDlOpen, .xDlError = batchedDlError,
        .xDlSym = batchedDlSym, .xDlClose = batchedDlClose, .xRandomness = batchedRandomness,
        .xSleep = batchedSleep, .xCurrentTime = batchedCurrentTime, .xGetLastError = batchedGetLastError,
        .xCurrentTimeInt64 = batchedCurrentTimeInt64,
    };
    registerResult = sqlite3_vfs_register(&batchedVFS, 0);
}

int residency_batched_wal_register(void) {
    pthread_once(&registerOnce, registerVFS);
    return registerResult;
}

int residency_batched_wal_statistics(sqlite3 *connection, residency_batched_wal_counts *counts) {
    sqlite3_file *journal = NULL;
    int code = sqlite3_file_control(connection, "main", SQLITE_FCNTL_JOURNAL_POINTER, &journal);
    if (code != SQLITE_OK) return code;
    if (journal == NULL || journal->pMethods != &walMethods) return SQLITE_NOTFOUND;
    *counts = ((BatchedFile *)journal)->counts;
    return SQLITE_OK;
}
