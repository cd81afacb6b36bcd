/* The ledger: every run kept in a SQLite file, with history, rollups and
 * exports. A sink: it consumes run results and never calls sensors. */
#ifndef WP_LEDGER_H
#define WP_LEDGER_H

#include "../run/run.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct wp_ledger;

/* The ledger's path: path if given, else $WATTPRINT_LEDGER, else
 * $XDG_DATA_HOME/wattprint/ledger.db, else ~/.local/share/wattprint/ledger.db.
 * Writes into buf; returns buf, or NULL when no home is known. */
const char *wp_ledger_path(const char *path, char *buf, size_t cap);

/* WP_LEDGER_RECORD: a write by a run's recorder, whose command may last a
 * millisecond: a server ledger's housekeeping (marking other hosts' dead runs
 * interrupted) waits for the run's first checkpoint, off the command's path. */
enum { WP_LEDGER_READ = 0, WP_LEDGER_WRITE = 1, WP_LEDGER_RECORD = 2 };

/* A ledger file named by the user must be in a directory that exists: only
 * the default ledger's directory is made (a typo must not make a new tree and
 * a new ledger with no word). Returns 0 (also for a URI and the default), or
 * -ENOENT with why. */
int wp_ledger_check_place(const char *path, char *err, size_t cap);

/* A SQLite ledger's WAL file deleted or replaced under this open connection
 * (by a person or a cleaning script): what it writes from then on goes to a
 * file no one will read. Reopen the ledger and write again. False for a
 * server, or a ledger opened to read. */
bool wp_ledger_wal_lost(const struct wp_ledger *l);

/* Closes a ledger whose WAL was lost without touching the files (no
 * checkpoint of the dead WAL, no removal of the live one). */
void wp_ledger_close_lost(struct wp_ledger *l);

/* Whether a ledger location is a server's URI (a scheme in backend.c's
 * table: postgresql:// or postgres://, libpq's syntax) rather than a file. A
 * server's failures send runs to the local spool. */
bool wp_ledger_is_uri(const char *location);

/* The location as it may be shown: a URI's password replaced by ***. */
void wp_ledger_redact(const char *location, char *out, size_t cap);

/* Opens (and with WP_LEDGER_WRITE creates, with its directory) the ledger at
 * path. A file that is not a wattprint ledger, or is corrupt, is refused and
 * never modified. Marks runs of this host whose process is gone as
 * interrupted. Returns 0 and *out (free with wp_ledger_close), or a negative errno with the
 * reason in err. */
int wp_ledger_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap);
void wp_ledger_close(struct wp_ledger *l);

/* Runs this open sent from the local spool (a PostgreSQL ledger that had
 * been out of reach), 0 if none; of them, those that replaced an earlier
 * state the server held (a checkpoint); and why the spool could not be sent
 * ("" when it was, or there was none: it is then kept for the next try). */
long wp_ledger_sent(const struct wp_ledger *l);
long wp_ledger_replaced(const struct wp_ledger *l);
const char *wp_ledger_send_error(const struct wp_ledger *l);

/* Recording a run: a row marked running at start, its totals checkpointed
 * while it runs (safe from another thread), and everything at the end. Each
 * returns 0, or a negative errno with the reason in err. */
int wp_ledger_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
int wp_ledger_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);
int wp_ledger_finish(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap);

/* The members an export reads that the row's first columns do not hold:
 * numbers (has: present) and texts (NULL: none), in the order of
 * columns.c's table; start and end are NULL where start_s and end_s
 * write the same text, the command its one line (wp_command_text). */
enum { WP_LEDGER_X_NUMS = 7, WP_LEDGER_X_TEXTS = 4, WP_LEDGER_COMMAND_MAX = 4096 };
struct wp_ledger_export {
    bool has[WP_LEDGER_X_NUMS];
    double num[WP_LEDGER_X_NUMS];
    const char *text[WP_LEDGER_X_TEXTS];
    char command_line[WP_LEDGER_COMMAND_MAX];
    /* what CodeCarbon's row reads of the channels: the GPUs counted, the
     * last one's name (NULL: none), whether a channel is a process's share */
    int gpus;
    const char *gpu_model;
    bool shared;
};

/* The indexed columns of a run; the run JSON is stored beside them. */
struct wp_ledger_row {
    const char *id, *status;
    double start_s, duration_s;
    const char *host, *user, *project, *experiment, *job; /* NULL: none */
    double energy_j, facility_energy_j, emissions_g;
    /* the whole footprint the summaries total: water on site and at the
     * power plants, the hardware's manufacture, each where the run has it
     * (a row left zero has none) */
    double water_l, water_offsite_l, embodied_g;
    bool has_water, has_water_offsite, has_embodied;
    int n_gpus;
    const struct wp_labels *labels; /* tags; NULL: none */
    /* what an export reads besides the columns above, each in a column of
     * its own so that an export never unpacks a document (the members
     * columns.c names, filled by wp_ledger_row_export) */
    struct wp_ledger_export x;
};

/* Inserts a run: its columns and its run JSON text (as `wattprint run
 * --json` writes it). An id already present is skipped, unless this row is a
 * later state of that run (a final result over a checkpoint): returns 0 if
 * inserted, 1 if skipped, 2 if it replaced the earlier state, a negative
 * errno on error; or WP_LEDGER_QUEUED where a server ledger holds the row for
 * one statement of many (its outcome then counted by wp_ledger_batch_counts).
 * Call between wp_ledger_begin_batch and wp_ledger_end_batch. */
#define WP_LEDGER_QUEUED 3
int wp_ledger_insert_row(struct wp_ledger *l, const struct wp_ledger_row *row, const char *run_json,
                         char *err, size_t cap);

/* The columns of a run object (the ledger's or a run JSON). The strings
 * point into run. */
void wp_ledger_row_of_json(json_t *run, struct wp_ledger_row *row);

/* Transactions around many inserts; abort undoes every insert since begin. */
int wp_ledger_begin_batch(struct wp_ledger *l);
int wp_ledger_end_batch(struct wp_ledger *l);
void wp_ledger_abort_batch(struct wp_ledger *l);

/* After wp_ledger_end_batch: what became of the rows it held (queued). */
void wp_ledger_batch_counts(struct wp_ledger *l, long *added, long *skipped, long *replaced);

struct wp_query {
    const char *project, *experiment, *job;
    int n_tags;
    struct wp_tag tags[WP_MAX_TAGS];
    double since_s; /* 0: no bound */
    long limit;     /* 0: no limit */
};

/* Runs matching q, newest first, as a JSON array of run objects (the run
 * JSON's fields plus project, experiment, job, tags). Caller decrefs.
 * Returns NULL with the reason in err. */
/* Calls fn for each run q selects, oldest first (with q->limit: the newest
 * limit runs, oldest first), one run read at a time: memory does not grow
 * with the ledger. fn's run is released after it returns; a nonzero return
 * stops the walk and is returned. Returns 0, fn's code, or a negative errno
 * with the reason in err. */
typedef int (*wp_ledger_each_fn)(json_t *run, void *arg);
enum {
    /* the runs as stored: without the derived parts (equivalents, SCI,
     * assumptions), which a writer of columns does not need */
    WP_EACH_STORED = 1,
    /* newest first (with q->limit: the newest limit runs), as ls lists them */
    WP_EACH_NEWEST = 2
};
int wp_ledger_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                   wp_ledger_each_fn fn, void *arg, char *err, size_t cap);

/* One member's value in a values walk. */
struct wp_ledger_value {
    enum { WP_VALUE_NONE, WP_VALUE_NUM, WP_VALUE_TEXT } kind;
    double num;
    const char *text;
};
typedef int (*wp_ledger_values_fn)(const struct wp_ledger_value *v, int n, void *arg);

/* As wp_ledger_each of the stored runs, for a reader that needs only the
 * members at paths ("run_id", "energy.cpu_j"; "command" is its one line,
 * wp_command_text): fn gets their values in the order of paths (flags:
 * WP_EACH_NEWEST, as wp_ledger_each). A backend
 * that keeps them in columns (SQLite) reads those, and unpacks a document
 * only for a member kept nowhere else ("energy.total_range_j"), which SQLite
 * takes out of it without parsing it whole; another reads each whole run.
 * "device_hours" is the row's own: its duration times the GPUs counted. A member the schema
 * requires that is missing, or one of the wrong type, stops the walk with an error naming the run.
 * Only the members wp_ledger_values_path_ok accepts. */
int wp_ledger_each_values(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                          const char *const *paths, int n, wp_ledger_values_fn fn, void *arg,
                          char *err, size_t cap);
bool wp_ledger_values_path_ok(const char *path);

json_t *wp_ledger_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                       size_t cap);

/* One run by id, unique id prefix, or "last". NULL with the reason in err. */
json_t *wp_ledger_get(struct wp_ledger *l, const char *id, bool with_samples, char *err,
                      size_t cap);

/* 0 when by is a grouping wp_ledger_summary knows, else -EINVAL and why. */
int wp_ledger_check_by(const char *by, char *err, size_t cap);

/* Groups runs by "project", "experiment", "host", "day", "job", "user" or
 * "tag:KEY": a JSON array of {key, runs, duration_s, device_hours, energy_j,
 * facility_energy_j, emissions_g, water_l, water_offsite_l,
 * embodied_emissions_g (each of the last three null where no run of the
 * group carries it)}, then a final group with key null and total true. NULL
 * with the reason in err. */
json_t *wp_ledger_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                          size_t cap);

/* Deletes runs by id or unique prefix. Returns the count, or a negative errno. */
int wp_ledger_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap);

/* Merges another ledger's runs (ids kept; a run already here is skipped, or
 * replaced by a later state of it: *replaced). Returns the number inserted,
 * or a negative errno with the reason in err. */
long wp_ledger_import(struct wp_ledger *l, const char *other, long *skipped, long *replaced,
                      char *err, size_t cap);

#endif
