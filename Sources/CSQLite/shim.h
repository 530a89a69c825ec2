#ifndef RESIDENCY_CSQLITE_SHIM_H
#define RESIDENCY_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type residency_sqlite_transient(void) { return SQLITE_TRANSIENT; }

/// sqlite3_config is variadic. Sets how many bytes of a statement journal (what a SAVEPOINT keeps to roll back
/// to) stay in memory before it spills to a temporary file; SQLITE_MISUSE once the library is initialised.
static inline int residency_sqlite_set_statement_journal_spill(int bytes) {
    return sqlite3_config(SQLITE_CONFIG_STMTJRNL_SPILL, bytes);
}
#endif
