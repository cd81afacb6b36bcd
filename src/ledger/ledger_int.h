/* The ledger's private parts, shared by its files. */
#ifndef WP_LEDGER_INT_H
#define WP_LEDGER_INT_H

#include "ledger.h"

#include <sqlite3.h>
#include <sys/types.h>

/* A backend: what a ledger command asks of the store (ledger.h's functions,
 * which dispatch here). */
struct wp_ledger_ops {
    const char *name;
    void (*close)(struct wp_ledger *l);
    int (*begin)(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
    int (*checkpoint)(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
    int (*finish)(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
    int (*insert_row)(struct wp_ledger *l, const struct wp_ledger_row *row, const char *run_json,
                      char *err, size_t cap);
    int (*begin_batch)(struct wp_ledger *l);
    int (*end_batch)(struct wp_ledger *l);
    void (*abort_batch)(struct wp_ledger *l);
    /* NULL: every insert answers at once (nothing is queued) */
    void (*batch_counts)(struct wp_ledger *l, long *added, long *skipped, long *replaced);
    json_t *(*list)(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                    size_t cap);
    json_t *(*get)(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap);
    int (*each)(struct wp_ledger *l, const struct wp_query *q, unsigned flags, wp_ledger_each_fn fn,
                void *arg, char *err, size_t cap);
    /* NULL: wp_ledger_each_values reads whole stored runs */
    int (*each_values)(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                       const char *const *paths, int n, wp_ledger_values_fn fn, void *arg,
                       char *err, size_t cap);
    json_t *(*summary)(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                       size_t cap);
    int (*remove)(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap);
};

struct wp_ledger {
    const struct wp_ledger_ops *ops;
    char path[4096]; /* a file, or a URI with its password left out */
    bool readonly;
    bool whole_runs; /* an older ledger read where it cannot be migrated: values walks read
                        whole runs */
    sqlite3 *db;     /* SQLite */
    sqlite3_stmt *st_upsert, *st_insert, *st_tag, *st_exists; /* prepared once: inserts are hot */
    struct wp_pg *pg;                                         /* PostgreSQL */
    long sent, replaced;  /* spooled runs sent when it was opened; of them, replacing a row */
    char send_err[512];   /* why the spool could not be sent ("" if it was, or was empty) */
    bool gave_up_waiting; /* SQLite: a write found it locked past WP_LEDGER_BUSY_S, or was
                             asked to end while it waited */
    dev_t wal_dev;        /* SQLite: the WAL file this connection writes (0: unknown) */
    ino_t wal_ino;
};

/* An ON CONFLICT condition: the incoming row (excluded) is a later state of
 * the run than the stored one (runs). Running < interrupted < completed or
 * failed; within running or interrupted, the later checkpoint. A final
 * result spooled while the server kept a checkpoint (or its reaper marked
 * that checkpoint interrupted) replaces it; a completed row is never
 * downgraded. Standard SQL: SQLite and PostgreSQL alike. */
#define WP_LEDGER_STATE_RANK(t)                                                                    \
    "(CASE " t ".status WHEN 'running' THEN 0 WHEN 'interrupted' THEN 1 ELSE 2 END)"
#define WP_LEDGER_NEWER                                                                            \
    "(" WP_LEDGER_STATE_RANK("excluded") " > " WP_LEDGER_STATE_RANK(                               \
        "runs") " OR (runs.status "                                                                \
                "IN ('running', 'interrupted') AND excluded.status = runs.status AND "             \
                "excluded.checkpoint_s > "                                                         \
                "runs.checkpoint_s))"

extern const struct wp_ledger_ops wp_ledger_sqlite_ops;
extern const struct wp_ledger_ops wp_ledger_pg_ops;

/* The columns of a run being recorded, and its JSON text as stored (without
 * what wp_run_json_derive recomputes; the caller frees it). */
void wp_ledger_row_of_run(const struct wp_run *run, struct wp_ledger_row *r);
char *wp_ledger_run_text(const struct wp_run *run);

/* The GPUs' columns (schema 5) of the rows that lack them, from their
 * documents' channels as wp_ledger_row_export computes them (the GPUs
 * counted, the last one's name, a process's share), in one pass of SQLite's
 * JSON over each unpacked document, never parsed by jansson; a document
 * that cannot be read leaves them NULL. */
#define WP_LEDGER_FILL_GPUS                                                                        \
    "UPDATE runs SET (gpus, gpu_model, shared) = (SELECT count(*) FILTER (WHERE g),"               \
    " substr(max(iif(g, printf('%08d', k) || ifnull(name, ''), NULL)), 9),"                        \
    " ifnull(max(length(share_of) > 0), 0) FROM (SELECT c.key AS k,"                               \
    " c.value ->> 'component' = 'gpu' AND c.value ->> 'counted' AS g, c.value ->> 'name' AS name," \
    " c.value ->> 'share_of' AS share_of FROM json_each(wp_doc_or_null(runs.result, runs.doc,"     \
    " runs.id), '$.channels') c)) WHERE gpus IS NULL AND"                                          \
    " wp_doc_or_null(runs.result, runs.doc, runs.id) IS NOT NULL;"

/* The columns of struct wp_ledger_export, in its order (columns.c). */
#define WP_LEDGER_X_COLUMNS                                                                        \
    "exit_code, cpu_j, dram_j, gpu_j, psys_j, pue, intensity_g_per_kwh, method, region,"           \
    " start_text, end_text, command_line, gpus, gpu_model, shared"
/* row->x from the run (an object), after row's status, start_s and
 * duration_s; its texts point into run. */
void wp_ledger_row_export(json_t *run, struct wp_ledger_row *row);
/* Binds x to the 12 parameters from first on. */
void wp_ledger_bind_export(sqlite3_stmt *st, int first, const struct wp_ledger_export *x);
/* Fills the columns of the rows that lack them from their documents. */
int wp_ledger_fill_export(struct wp_ledger *l, char *err, size_t cap);
/* A member by its path ("carbon.region"); NULL where absent. */
json_t *wp_ledger_member(json_t *run, const char *path);
#define WP_VALUES_MAX 64 /* members a values walk may ask for */
/* A values walk's column for path ("r.cpu_j"; NULL: none), and its kind. */
const char *wp_ledger_values_sql(const char *path);
/* 'n' number, 't' text, 'j' JSON text, 'd' a number of the row's own; 0:
 * not a member a walk reads. */
char wp_ledger_values_kind(const char *path);

/* 0 when id can name runs (4 to 36 of a run id's hex digits and dashes: no
 * GLOB or LIKE character), else -EINVAL with the reason in err. "last" is
 * the caller's to handle first. */
int wp_ledger_id_check(const char *id, char *err, size_t cap);

/* A stored run read back: its text parsed, checked against the run
 * document's schema (run/run_doc.h) and its derived parts recomputed. Returns
 * a new object, or NULL with the reason in err (a run that is not JSON, a
 * member missing or of the wrong type): never a run that reads as zeros. */
json_t *wp_ledger_run_of_text(const char *text, const char *id, char *err, size_t cap);
/* The same without the derived parts (WP_EACH_STORED). */
json_t *wp_ledger_stored_run_of_text(const char *text, const char *id, char *err, size_t cap);

/* The samples a ledger keeps of a run: at most WP_LEDGER_SAMPLES, every
 * stride-th of the run's and always its last (the energies are cumulative,
 * so totals stay exact and only the power curve is coarser): a day's run
 * costs its ledger tens of kB, not its every reading. */
#define WP_LEDGER_SAMPLES 1024
/* The stride for n samples, and how many are kept. */
int wp_ledger_sample_stride(int n, int *kept);
/* The index of the k-th kept sample. */
int wp_ledger_sample_at(int k, int n, int stride, int kept);

/* The SQL that walks q's runs oldest first, the newest limit of them with a
 * limit (an inner query newest first, turned around): inner is "SELECT ...,
 * r.id, r.start_s FROM runs r WHERE ..." (its columns, in its order; id and
 * start_s among them) and limit its placeholder or "". */
void wp_ledger_oldest_first(char *sql, size_t cap, const char *inner, const char *limit);

/* The same walk in flags' order: oldest first, or newest first with
 * WP_EACH_NEWEST. */
void wp_ledger_walk_order(char *sql, size_t cap, const char *inner, const char *limit,
                          unsigned flags);

/* A summary's sums, in its SELECT's order after the key: count(*),
 * duration, device-hours, energy, facility energy, emissions, then the
 * footprint's sums, NULL where no run of the group carries one. */
#define WP_SUM_SQL                                                                                 \
    " count(*), sum(r.duration_s), sum(r.device_hours), sum(r.energy_j),"                          \
    " sum(r.facility_energy_j), sum(r.emissions_g), sum(r.water_l), sum(r.water_offsite_l),"       \
    " sum(r.embodied_g)"
#define WP_SUM_COLS   9
#define WP_SUM_ALWAYS 6 /* the sums every group has; the footprint's follow */
struct wp_sums {
    double v[WP_SUM_COLS];
    bool has[WP_SUM_COLS]; /* false: SQL NULL */
};
/* Adds a group's row to a summary (key NULL: runs filed under nothing) and
 * its sums to total. */
void wp_ledger_sum_group(int *bad, json_t *arr, const char *key, const struct wp_sums *g,
                         struct wp_sums *total);
/* Appends the total group. */
void wp_ledger_sum_total(int *bad, json_t *arr, const struct wp_sums *total);

/* The SQLite backend (ledger.c, record.c, query.c). */
int wp_sq_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap);
void wp_sq_close(struct wp_ledger *l);
int wp_sq_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
int wp_sq_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
int wp_sq_finish(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
int wp_sq_insert_row(struct wp_ledger *l, const struct wp_ledger_row *row, const char *run_json,
                     char *err, size_t cap);
int wp_sq_begin_batch(struct wp_ledger *l);
int wp_sq_end_batch(struct wp_ledger *l);
void wp_sq_abort_batch(struct wp_ledger *l);
json_t *wp_sq_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                   size_t cap);
int wp_sq_each_values(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                      const char *const *paths, int n, wp_ledger_values_fn fn, void *arg, char *err,
                      size_t cap);
int wp_sq_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags, wp_ledger_each_fn fn,
               void *arg, char *err, size_t cap);
json_t *wp_sq_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap);
json_t *wp_sq_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                      size_t cap);
int wp_sq_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap);
long wp_sq_import(struct wp_ledger *l, const char *other, long *skipped, long *replaced, char *err,
                  size_t cap);

/* Another ledger's runs copied into l run by run, in one transaction, ids
 * kept: a run already there is skipped, or replaced when the copy is a later
 * state of it (WP_LEDGER_NEWER). Returns the number added, or a negative errno. */
long wp_ledger_copy_runs(struct wp_ledger *l, const char *other, long *skipped, long *replaced,
                         char *err, size_t cap);

/* The spool (spool.c) of runs that could not reach the PostgreSQL ledger at
 * uri: its file; keeping a run there (where names the file); sending what it
 * holds to l (the ledger at uri, just opened): l->sent, l->replaced, and
 * l->send_err when it could not. */
int wp_spool_path(const char *uri, char *out, size_t cap);
int wp_spool_keep(const char *uri, const struct wp_run *run, char *where, size_t wcap, char *err,
                  size_t cap);
void wp_spool_send(struct wp_ledger *l, const char *uri);

/* The PostgreSQL backend (pg.c): connects to uri. */
int wp_pg_open(const char *uri, int mode, struct wp_ledger **out, char *err, size_t cap);

/* The file and SQLite's last error on l into err; returns -EIO. */
int wp_ledger_fail(struct wp_ledger *l, char *err, size_t cap);
/* Runs sql; returns 0, or a negative errno with SQLite's message in err. */
int wp_ledger_exec(struct wp_ledger *l, const char *sql, char *err, size_t cap);

/* A process's start time ("starttime" of /proc/PID/stat) as text. */
int wp_ledger_proc_start(long pid, char *out, size_t cap);

/* Whether the process that recorded a running run on this host is gone:
 * another boot, no such pid, or a pid reused by a process started later. */
bool wp_ledger_owner_gone(long pid, const char *started, const char *run_boot, const char *boot);

/* The longest wait for another writer's lock on a SQLite ledger. */
#define WP_LEDGER_BUSY_S    30
#define WP_LEDGER_BUSY_TEXT "30 s"

/* A run whose checkpoints stopped this many intervals ago is interrupted,
 * whichever host it ran on (its own host also knows by its pid). */
#define WP_LEDGER_STALE_CHECKPOINTS 10

/* The kernel's boot id, "" if unknown. */
void wp_ledger_boot_id(char *out, size_t cap);

/* 0 when path is absent, empty or an SQLite file; else -EINVAL and why. */
int wp_ledger_check_file(const char *path, char *err, size_t cap);

/* 0 unless path's directory is on a network filesystem, where WAL does not
 * work: then -EREMOTE and why, with the fix. */
int wp_ledger_check_local(const char *path, char *err, size_t cap);

#endif
