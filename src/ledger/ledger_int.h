/* The ledger's private parts, shared by its files. */
#ifndef WP_LEDGER_INT_H
#define WP_LEDGER_INT_H

#include "ledger.h"

#include <sqlite3.h>

struct wp_ledger {
    sqlite3 *db;
    char path[4096];
    bool readonly;
    sqlite3_stmt *st_upsert, *st_insert, *st_tag; /* prepared once: inserts are hot */
};

/* Runs sql; returns 0, or -1 with SQLite's message in err. */
int wp_ledger_exec(struct wp_ledger *l, const char *sql, char *err, size_t cap);

/* A process's start time ("starttime" of /proc/PID/stat) as text. */
int wp_ledger_proc_start(long pid, char *out, size_t cap);

/* The kernel's boot id, "" if unknown. */
void wp_ledger_boot_id(char *out, size_t cap);

/* 0 when path is absent, empty or an SQLite file; else -EINVAL and why. */
int wp_ledger_check_file(const char *path, char *err, size_t cap);

/* 0 unless path's directory is on a network filesystem, where WAL does not
 * work: then -EREMOTE and why, with the fix. */
int wp_ledger_check_local(const char *path, char *err, size_t cap);

#endif
