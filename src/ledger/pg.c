/* The PostgreSQL backend: a team's or a cluster's one ledger. libpq is loaded
 * with dlopen on the first PostgreSQL ledger, so commands on a SQLite ledger
 * never pay for it; the location is libpq's URI, and credentials come from
 * libpq's own means (PGPASSWORD, ~/.pgpass, PGSERVICE). */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/dl.h"
#include "../util/jput.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* libpq's C ABI, the few calls used (libpq-fe.h). */
typedef struct pg_conn PGconn;
typedef struct pg_result PGresult;
enum { PG_CONNECTION_OK = 0, PGRES_COMMAND_OK = 1, PGRES_TUPLES_OK = 2 };

static struct {
    PGconn *(*connectdb)(const char *conninfo);
    int (*status)(const PGconn *c);
    char *(*error_message)(const PGconn *c);
    void (*finish)(PGconn *c);
    PGresult *(*exec)(PGconn *c, const char *command);
    PGresult *(*exec_params)(PGconn *c, const char *command, int n, const unsigned *types,
                             const char *const *values, const int *lengths, const int *formats,
                             int result_format);
    int (*result_status)(const PGresult *r);
    char *(*result_error)(const PGresult *r);
    int (*ntuples)(const PGresult *r);
    char *(*getvalue)(const PGresult *r, int row, int col);
    int (*getisnull)(const PGresult *r, int row, int col);
    char *(*cmd_tuples)(PGresult *r);
    void (*clear)(PGresult *r);
} pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static void *pq_lib;
static char pq_err[512];

static void load_pq(void)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&pq.connectdb, "PQconnectdb"},
        {(void **)&pq.status, "PQstatus"},
        {(void **)&pq.error_message, "PQerrorMessage"},
        {(void **)&pq.finish, "PQfinish"},
        {(void **)&pq.exec, "PQexec"},
        {(void **)&pq.exec_params, "PQexecParams"},
        {(void **)&pq.result_status, "PQresultStatus"},
        {(void **)&pq.result_error, "PQresultErrorMessage"},
        {(void **)&pq.ntuples, "PQntuples"},
        {(void **)&pq.getvalue, "PQgetvalue"},
        {(void **)&pq.getisnull, "PQgetisnull"},
        {(void **)&pq.cmd_tuples, "PQcmdTuples"},
        {(void **)&pq.clear, "PQclear"},
    };
    pq_lib = wp_dl_load("WATTPRINT_LIBPQ", "libpq.so.5", syms, sizeof syms / sizeof *syms,
                        "libpq (apt-get install libpq5)", pq_err, sizeof pq_err);
}

#define WP_PG_CONNECT_TIMEOUT_S 5

/* Rows an import holds for one multi-row statement (19 parameters each: 9,500
 * of PostgreSQL's 65,535 at most). */
#define PG_BATCH_ROWS 500
#define PG_COLUMNS    19

struct wp_pg {
    PGconn *c;
    pthread_mutex_t mu; /* the recorder checkpoints from its own thread */
    /* between begin_batch and end_batch: insert-only rows waiting to be sent */
    bool batching;
    int queued;
    char *rows[PG_BATCH_ROWS][PG_COLUMNS]; /* copies; NULL is SQL NULL */
    long added, skipped, replaced;         /* of the rows sent in this batch */
};

/* One statement with text parameters. Returns the result (PQclear it) or
 * NULL with the server's message in err. */
static PGresult *run(struct wp_ledger *l, const char *sql, int n, const char *const *v, char *err,
                     size_t cap)
{
    PGresult *r;
    int st;

    pthread_mutex_lock(&l->pg->mu);
    /* without parameters, the simple protocol: several statements at once */
    r = n ? pq.exec_params(l->pg->c, sql, n, NULL, v, NULL, NULL, 0) : pq.exec(l->pg->c, sql);
    pthread_mutex_unlock(&l->pg->mu);
    st = r ? pq.result_status(r) : -1;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    snprintf(err, cap, "PostgreSQL: %s", r ? pq.result_error(r) : pq.error_message(l->pg->c));
    err[strcspn(err, "\n")] = '\0';
    if (r)
        pq.clear(r);
    return NULL;
}

static int exec(struct wp_ledger *l, const char *sql, char *err, size_t cap)
{
    PGresult *r = run(l, sql, 0, NULL, err, cap);
    if (!r)
        return -EIO;
    pq.clear(r);
    return 0;
}

/* The schema's versions, applied in order under an advisory lock (many nodes
 * may open a new ledger at the same moment); wattprint_schema holds the
 * version reached. */
static const char *const migrations[] = {
    /* 1: runs and their tags */
    "CREATE TABLE runs ("
    " id TEXT PRIMARY KEY, status TEXT NOT NULL, start_s DOUBLE PRECISION NOT NULL,"
    " end_s DOUBLE PRECISION, duration_s DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " host TEXT NOT NULL DEFAULT '', \"user\" TEXT NOT NULL DEFAULT '', project TEXT,"
    " experiment TEXT, job TEXT, energy_j DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " facility_energy_j DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " emissions_g DOUBLE PRECISION NOT NULL DEFAULT 0,"
    " device_hours DOUBLE PRECISION NOT NULL DEFAULT 0, pid BIGINT, proc_start TEXT,"
    " boot_id TEXT, checkpoint_s DOUBLE PRECISION, result TEXT NOT NULL);"
    "CREATE INDEX runs_start ON runs(start_s);"
    "CREATE INDEX runs_running ON runs(status) WHERE status = 'running';"
    "CREATE INDEX runs_project ON runs(project);"
    "CREATE INDEX runs_experiment ON runs(experiment);"
    "CREATE INDEX runs_job ON runs(job);"
    "CREATE TABLE tags ("
    " run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, key TEXT NOT NULL,"
    " value TEXT NOT NULL, PRIMARY KEY (run_id, key));"
    "CREATE INDEX tags_key ON tags(key, value);",
    /* 2: the samples of a finished run (power over time), as JSON */
    "CREATE TABLE samples (run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,"
    " data TEXT NOT NULL);",
    /* 3: rollups by project or experiment read covering indexes (index-only
     * scans once vacuumed), not a million rows */
    "CREATE INDEX runs_project_sums ON runs(project) INCLUDE (start_s, duration_s,"
    " device_hours, energy_j, facility_energy_j, emissions_g);"
    "CREATE INDEX runs_experiment_sums ON runs(experiment) INCLUDE (start_s, duration_s,"
    " device_hours, energy_j, facility_energy_j, emissions_g);"
    "DROP INDEX runs_project; DROP INDEX runs_experiment;",
};
#define PG_SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

static int migrate(struct wp_ledger *l, char *err, size_t cap)
{
    char sql[96];
    PGresult *res;
    int version = 0;

    if (exec(l,
             "BEGIN; SELECT pg_advisory_xact_lock(8231946);"
             "CREATE TABLE IF NOT EXISTS wattprint_schema (version INTEGER NOT NULL)",
             err, cap))
        return -EIO;
    if (!(res = run(l, "SELECT max(version) FROM wattprint_schema", 0, NULL, err, cap)))
        goto fail;
    if (pq.ntuples(res) == 1 && !pq.getisnull(res, 0, 0))
        version = atoi(pq.getvalue(res, 0, 0));
    pq.clear(res);
    if (version > PG_SCHEMA_VERSION) {
        snprintf(err, cap, "the ledger %s has schema version %d, newer than this wattprint's (%d)",
                 l->path, version, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < PG_SCHEMA_VERSION; v++)
        if (exec(l, migrations[v], err, cap))
            goto fail;
    snprintf(sql, sizeof sql,
             "DELETE FROM wattprint_schema; INSERT INTO wattprint_schema VALUES (%d)",
             PG_SCHEMA_VERSION);
    if (version < PG_SCHEMA_VERSION && exec(l, sql, err, cap))
        goto fail;
    return exec(l, "COMMIT", err, cap);
fail:
    exec(l, "ROLLBACK", sql, sizeof sql);
    return -EIO;
}

static void drop_queued(struct wp_pg *g)
{
    for (int i = 0; i < g->queued; i++)
        for (int c = 0; c < PG_COLUMNS; c++)
            free(g->rows[i][c]);
    g->queued = 0;
}

static void pg_close(struct wp_ledger *l)
{
    if (l->pg) {
        drop_queued(l->pg);
        if (l->pg->c)
            pq.finish(l->pg->c);
        pthread_mutex_destroy(&l->pg->mu);
        free(l->pg);
    }
    free(l);
}

static void pg_reap(struct wp_ledger *l);

int wp_pg_open(const char *uri, int mode, struct wp_ledger **out, char *err, size_t cap)
{
    struct wp_ledger *l;

    pthread_once(&pq_once, load_pq);
    if (!pq_lib) {
        snprintf(err, cap, "a PostgreSQL ledger needs %s", pq_err);
        return -ENOSYS;
    }
    l = calloc(1, sizeof *l);
    if (!l || !(l->pg = calloc(1, sizeof *l->pg))) {
        free(l);
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    l->ops = &wp_ledger_pg_ops;
    l->readonly = mode == WP_LEDGER_READ;
    pthread_mutex_init(&l->pg->mu, NULL);
    wp_ledger_redact(uri, l->path, sizeof l->path);
    {
        /* libpq waits for an unanswered host for as long as TCP does (minutes): a
         * ledger out of reach must cost seconds, so a bound unless one is given */
        char with_timeout[4200];
        if (strstr(uri, "connect_timeout="))
            snprintf(with_timeout, sizeof with_timeout, "%s", uri);
        else
            snprintf(with_timeout, sizeof with_timeout, "%s%sconnect_timeout=%d", uri,
                     strchr(uri, '?') ? "&" : "?", WP_PG_CONNECT_TIMEOUT_S);
        l->pg->c = pq.connectdb(with_timeout);
    }
    if (!l->pg->c || pq.status(l->pg->c) != PG_CONNECTION_OK) {
        snprintf(err, cap, "cannot reach the PostgreSQL ledger %s: %s", l->path,
                 l->pg->c ? pq.error_message(l->pg->c) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        pg_close(l);
        return -ENOMEM;
    }
    /* libpq prints the server's notices on stderr ("already exists, skipping") */
    if (exec(l, "SET client_min_messages TO WARNING", err, cap) != 0 ||
        (mode == WP_LEDGER_READ ? exec(l, "SELECT version FROM wattprint_schema", err, cap)
                                : migrate(l, err, cap)) != 0) {
        if (mode == WP_LEDGER_READ && strstr(err, "wattprint_schema"))
            snprintf(err, cap,
                     "no ledger at %s yet (runs are recorded there by wattprint run; name another "
                     "ledger or set WATTPRINT_LEDGER)",
                     l->path);
        pg_close(l);
        return -EIO;
    }
    pg_reap(l);
    wp_spool_send(l, uri);
    *out = l;
    return 0;
}

/* Numbers as text for libpq's text parameters. */
struct num {
    char b[40];
};

static const char *num(struct num *n, double v)
{
    snprintf(n->b, sizeof n->b, "%.17g", v);
    return n->b;
}

static const char sql_columns[] =
    "INSERT INTO runs (id, status, start_s, end_s, duration_s, host, \"user\", project,"
    " experiment, job, energy_j, facility_energy_j, emissions_g, device_hours, pid, proc_start,"
    " boot_id, checkpoint_s, result) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,"
    "$15,$16,$17,$18,$19) ON CONFLICT (id) DO ";
static const char sql_update[] =
    "UPDATE SET status = excluded.status, end_s = excluded.end_s, duration_s = "
    "excluded.duration_s, energy_j = excluded.energy_j, facility_energy_j = "
    "excluded.facility_energy_j, emissions_g = excluded.emissions_g, device_hours = "
    "excluded.device_hours, checkpoint_s = excluded.checkpoint_s, result = excluded.result";

/* Writes a run's row (and, when new, its tags). Insert only (a copy, the
 * spool) yields to nothing but a later state of the run. Returns 0 written,
 * 1 skipped (insert only, the id holds the same or a later state), 2
 * replaced (insert only, over an earlier state), a negative errno with err. */
/* The text of a row's parameters, into v (pointing into n and the row). */
struct row_text {
    struct num n[8];
    char pid[24], started[64], boot[64];
};

static void row_params(const struct wp_ledger_row *r, const char *text, long pid,
                       struct row_text *b, const char *v[PG_COLUMNS])
{
    struct num *n = b->n;

    b->started[0] = b->boot[0] = '\0';
    if (pid) {
        snprintf(b->pid, sizeof b->pid, "%ld", pid);
        wp_ledger_proc_start(pid, b->started, sizeof b->started);
        wp_ledger_boot_id(b->boot, sizeof b->boot);
    }
    v[0] = r->id, v[1] = r->status, v[2] = num(&n[0], r->start_s);
    v[3] = strcmp(r->status, "running") ? num(&n[1], r->start_s + r->duration_s) : NULL;
    v[4] = num(&n[2], r->duration_s), v[5] = r->host ? r->host : "", v[6] = r->user ? r->user : "";
    v[7] = r->project, v[8] = r->experiment, v[9] = r->job;
    v[10] = num(&n[3], r->energy_j), v[11] = num(&n[4], r->facility_energy_j);
    v[12] = num(&n[5], r->emissions_g);
    v[13] = num(&n[6], r->duration_s / 3600.0 * (r->n_gpus > 0 ? r->n_gpus : 1));
    v[14] = pid ? b->pid : NULL, v[15] = pid ? b->started : NULL, v[16] = pid ? b->boot : NULL;
    v[17] = num(&n[7], r->start_s + r->duration_s), v[18] = text;
}

static int write_row(struct wp_ledger *l, const struct wp_ledger_row *r, const char *text,
                     bool update, long pid, char *err, size_t cap)
{
    struct row_text b;
    char sql[2048];
    const char *v[PG_COLUMNS];
    PGresult *res;
    bool added, replaced = false;

    if (!r->id || strlen(r->id) < 8 || !r->status || !text) {
        snprintf(err, cap, "a run without a valid run_id or status");
        return -EINVAL;
    }
    row_params(r, text, pid, &b, v);
    /* xmax is 0 on a row this statement inserted, the updater's otherwise */
    snprintf(sql, sizeof sql, "%s%s%s", sql_columns, sql_update,
             update ? "" : " WHERE " WP_LEDGER_NEWER " RETURNING (xmax = 0)");
    if (!(res = run(l, sql, 19, v, err, cap)))
        return -EIO;
    added = strcmp(pq.cmd_tuples(res), "0") != 0;
    if (!update && added)
        replaced = strcmp(pq.getvalue(res, 0, 0), "t") != 0;
    pq.clear(res);
    if (!added)
        return update ? 0 : 1;
    if (replaced)
        return 2; /* the tags are the run's, written with its first state */
    for (int i = 0; r->labels && i < r->labels->n_tags && (pid || !update); i++) {
        const char *t[3] = {r->id, r->labels->tags[i].key, r->labels->tags[i].value};
        if (!(res = run(l,
                        "INSERT INTO tags (run_id, key, value) VALUES ($1,$2,$3) "
                        "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                        3, t, err, cap)))
            return -EIO;
        pq.clear(res);
    }
    return 0;
}

static int record(struct wp_ledger *l, const struct wp_run *run, long pid, char *err, size_t cap)
{
    struct wp_ledger_row row;
    char *text = wp_ledger_run_text(run);
    int rc;

    if (!text) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    wp_ledger_row_of_run(run, &row);
    rc = write_row(l, &row, text, true, pid, err, cap);
    free(text);
    return rc;
}

/* The run's samples as the JSON object a run's "samples" is. */
static char *samples_text(const struct wp_reading *rd)
{
    json_t *names = json_array(), *t = json_array(), *e = json_array(), *o;
    char *text;
    int bad = 0;

    for (int c = 0; c < rd->n_channels; c++)
        wp_jpush(&bad, names, json_string(rd->channels[c].ch.device));
    int kept, stride = wp_ledger_sample_stride(rd->n_samples, &kept);
    for (int k = 0; k < kept; k++) {
        int s = wp_ledger_sample_at(k, rd->n_samples, stride, kept);
        json_t *row = json_array();
        wp_jpush(&bad, t, json_real(rd->sample_t[s]));
        for (int c = 0; c < rd->n_channels; c++)
            wp_jpush(&bad, row, json_real(rd->sample_e[(size_t)s * rd->n_channels + c]));
        wp_jpush(&bad, e, row);
    }
    o = wp_jdone(bad, json_pack("{s:o, s:o, s:o}", "channels", names, "t_s", t, "energy_j", e));
    text = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(o);
    return text;
}

static int pg_finish(struct wp_ledger *l, const struct wp_run *done, char *err, size_t cap)
{
    char *text;
    const char *v[2];
    PGresult *res;

    if (record(l, done, 0, err, cap) != 0)
        return -EIO;
    if (done->reading.n_samples == 0)
        return 0;
    if (!(text = samples_text(&done->reading))) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    v[0] = done->run_id, v[1] = text;
    res = run(l,
              "INSERT INTO samples (run_id, data) VALUES ($1, $2) ON CONFLICT (run_id) DO UPDATE "
              "SET data = excluded.data",
              2, v, err, cap);
    free(text);
    if (!res)
        return -EIO;
    pq.clear(res);
    return 0;
}

static int pg_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return record(l, run, (long)getpid(), err, cap);
}

static int pg_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return record(l, run, 0, err, cap);
}

/* The queued rows in one statement: a round trip for 500 runs, not one
 * each. RETURNING gives a row per insert or update (xmax = 0: inserted);
 * the rest were skipped (the id holds the same or a later state). */
static int flush_queued(struct wp_ledger *l, char *err, size_t cap)
{
    struct wp_pg *g = l->pg;
    static _Thread_local char sql[PG_BATCH_ROWS * 160 + 4096]; /* "($9482,...)": < 140 a row */
    const char *v[PG_BATCH_ROWS * PG_COLUMNS];
    size_t o;
    PGresult *res;
    int n = g->queued;

    if (n == 0)
        return 0;
    o = (size_t)snprintf(sql, sizeof sql, "%.*s",
                         (int)(strstr(sql_columns, " VALUES") - sql_columns), sql_columns);
    for (int i = 0; i < n; i++) {
        o += (size_t)snprintf(sql + o, sizeof sql - o, "%s(", i ? "," : " VALUES ");
        for (int c = 0; c < PG_COLUMNS; c++) {
            v[i * PG_COLUMNS + c] = g->rows[i][c];
            o += (size_t)snprintf(sql + o, sizeof sql - o, "%s$%d", c ? "," : "",
                                  i * PG_COLUMNS + c + 1);
        }
        o += (size_t)snprintf(sql + o, sizeof sql - o, ")");
    }
    snprintf(sql + o, sizeof sql - o,
             " ON CONFLICT (id) DO %s WHERE " WP_LEDGER_NEWER " RETURNING (xmax = 0)", sql_update);
    res = run(l, sql, n * PG_COLUMNS, v, err, cap);
    drop_queued(g);
    if (!res)
        return -EIO;
    for (int i = 0; i < pq.ntuples(res); i++)
        *(strcmp(pq.getvalue(res, i, 0), "t") == 0 ? &g->added : &g->replaced) += 1;
    g->skipped += n - pq.ntuples(res);
    pq.clear(res);
    return 0;
}

static int queue_row(struct wp_ledger *l, const struct wp_ledger_row *r, const char *text,
                     char *err, size_t cap)
{
    struct wp_pg *g = l->pg;
    struct row_text b;
    const char *v[PG_COLUMNS];
    int rc;

    /* one statement cannot insert an id and then update it: send first */
    for (int i = 0; i < g->queued; i++)
        if (strcmp(g->rows[i][0], r->id) == 0 && (rc = flush_queued(l, err, cap)) != 0)
            return rc;
    row_params(r, text, 0, &b, v);
    for (int c = 0; c < PG_COLUMNS; c++)
        if (v[c] && !(g->rows[g->queued][c] = strdup(v[c]))) {
            for (int k = 0; k < c; k++)
                free(g->rows[g->queued][k]);
            snprintf(err, cap, "out of memory");
            return -ENOMEM;
        } else if (!v[c]) {
            g->rows[g->queued][c] = NULL;
        }
    if (++g->queued == PG_BATCH_ROWS)
        return flush_queued(l, err, cap) ? -EIO : WP_LEDGER_QUEUED;
    return WP_LEDGER_QUEUED;
}

static int pg_insert_row(struct wp_ledger *l, const struct wp_ledger_row *row, const char *text,
                         char *err, size_t cap)
{
    /* a run with tags writes them beside its row: sent on its own */
    if (l->pg->batching && row->id && strlen(row->id) >= 8 && row->status && text &&
        !(row->labels && row->labels->n_tags > 0))
        return queue_row(l, row, text, err, cap);
    return write_row(l, row, text, false, 0, err, cap);
}

static int pg_begin_batch(struct wp_ledger *l)
{
    char err[256];
    int rc = exec(l, "BEGIN", err, sizeof err);

    l->pg->batching = rc == 0;
    l->pg->added = l->pg->skipped = l->pg->replaced = 0;
    return rc;
}

static void pg_abort_batch(struct wp_ledger *l)
{
    char err[256];

    drop_queued(l->pg);
    l->pg->batching = false;
    (void)exec(l, "ROLLBACK", err, sizeof err);
}

static int pg_end_batch(struct wp_ledger *l)
{
    char err[512];

    if (flush_queued(l, err, sizeof err) != 0) {
        pg_abort_batch(l);
        return -EIO;
    }
    l->pg->batching = false;
    return exec(l, "COMMIT", err, sizeof err);
}

static void pg_batch_counts(struct wp_ledger *l, long *added, long *skipped, long *replaced)
{
    *added = l->pg->added, *skipped = l->pg->skipped, *replaced = l->pg->replaced;
}

/* A query's filters as a WHERE clause with $n parameters, after `first`
 * parameters the caller binds itself. */
struct filter {
    char sql[2048];
    const char *v[12 + 2 * WP_MAX_TAGS];
    int n;
    struct num since;
};

/* Appends a clause, its '?' numbered as the parameters that follow f->n. */
static void where(struct filter *f, const char *clause)
{
    size_t o = strlen(f->sql);
    int k = f->n;

    o += (size_t)snprintf(f->sql + o, sizeof f->sql - o, "%s", o ? " AND " : " WHERE ");
    for (const char *c = clause; *c && o < sizeof f->sql - 8; c++)
        if (*c == '?')
            o += (size_t)snprintf(f->sql + o, sizeof f->sql - o, "$%d", ++k);
        else
            f->sql[o++] = *c, f->sql[o] = '\0';
}

static void build_filter(const struct wp_query *q, struct filter *f, int first)
{
    memset(f, 0, sizeof *f);
    f->n = first;
    if (!q)
        return;
    if (q->project)
        where(f, "r.project = ?"), f->v[f->n++] = q->project;
    if (q->experiment)
        where(f, "r.experiment = ?"), f->v[f->n++] = q->experiment;
    if (q->job)
        where(f, "r.job = ?"), f->v[f->n++] = q->job;
    for (int i = 0; i < q->n_tags; i++) {
        where(f, "EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND "
                 "t.value = ?)");
        f->v[f->n++] = q->tags[i].key;
        f->v[f->n++] = q->tags[i].value;
    }
    if (q->since_s > 0)
        where(f, "r.start_s >= ?"), f->v[f->n++] = num(&f->since, q->since_s);
}

/* Runs from a result whose first column is the run JSON and, with
 * samples, the second the samples JSON (or NULL). */
static json_t *runs_of(PGresult *res, bool with_samples, char *err, size_t cap)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < pq.ntuples(res); i++) {
        json_error_t je;
        json_t *run = wp_ledger_run_of_text(pq.getvalue(res, i, 0), NULL, err, cap), *smp;
        if (!run) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        if (with_samples && !pq.getisnull(res, i, 1) &&
            (!(smp = json_loads(pq.getvalue(res, i, 1), 0, &je)) ||
             json_object_set_new(run, "samples", smp) != 0)) {
            snprintf(err, cap, "the samples of run %s could not be read",
                     wp_json_str(run, WPF_RUN_ID));
            json_decref(run);
            json_decref(arr);
            arr = NULL;
            break;
        }
        if (json_array_append_new(arr, run) != 0) {
            snprintf(err, cap, "out of memory reading the ledger");
            json_decref(arr);
            arr = NULL;
            break;
        }
    }
    pq.clear(res);
    return arr;
}

static json_t *pg_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                       size_t cap)
{
    struct filter f;
    struct num lim;
    char sql[4096];
    PGresult *res;

    build_filter(q, &f, 0);
    snprintf(sql, sizeof sql,
             "SELECT r.result%s FROM runs r%s%s ORDER BY r.start_s DESC, r.id DESC",
             with_samples ? ", s.data" : "",
             with_samples ? " LEFT JOIN samples s ON s.run_id = r.id" : "", f.sql);
    if (q && q->limit > 0) {
        snprintf(lim.b, sizeof lim.b, "%ld", q->limit);
        f.v[f.n++] = lim.b;
        snprintf(sql + strlen(sql), sizeof sql - strlen(sql), " LIMIT $%d", f.n);
    }
    res = run(l, sql, f.n, f.v, err, cap);
    return res ? runs_of(res, with_samples, err, cap) : NULL;
}

/* Runs oldest first through a cursor, 500 rows a fetch: memory does not
 * grow with the ledger. */
static int pg_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                   wp_ledger_each_fn fn, void *arg, char *err, size_t cap)
{
    struct filter f;
    struct num lim;
    char inner[3072], sql[4096], decl[4200], limit[16] = "";
    PGresult *res;
    int stop = 0, n = 1;

    build_filter(q, &f, 0);
    snprintf(inner, sizeof inner, "SELECT r.result, r.id, r.start_s FROM runs r%s", f.sql);
    if (q && q->limit > 0) {
        snprintf(lim.b, sizeof lim.b, "%ld", q->limit);
        f.v[f.n++] = lim.b;
        snprintf(limit, sizeof limit, "$%d", f.n);
    }
    wp_ledger_oldest_first(sql, sizeof sql, inner, limit);
    snprintf(decl, sizeof decl, "DECLARE wattprint_each NO SCROLL CURSOR FOR %s", sql);
    if (exec(l, "BEGIN", err, cap))
        return -EIO;
    if (!(res = run(l, decl, f.n, f.v, err, cap))) {
        exec(l, "ROLLBACK", sql, sizeof sql);
        return -EIO;
    }
    pq.clear(res);
    while (!stop && n > 0) {
        if (!(res = run(l, "FETCH 500 FROM wattprint_each", 0, NULL, err, cap))) {
            exec(l, "ROLLBACK", sql, sizeof sql);
            return -EIO;
        }
        n = pq.ntuples(res);
        for (int i = 0; !stop && i < n; i++) {
            const char *text = pq.getvalue(res, i, 0), *id = pq.getvalue(res, i, 1);
            json_t *run_ = flags & WP_EACH_STORED ? wp_ledger_stored_run_of_text(text, id, err, cap)
                                                  : wp_ledger_run_of_text(text, id, err, cap);
            if (!run_) {
                pq.clear(res);
                exec(l, "ROLLBACK", sql, sizeof sql);
                return -EINVAL;
            }
            stop = fn(run_, arg);
            json_decref(run_);
        }
        pq.clear(res);
    }
    exec(l, "ROLLBACK", sql, sizeof sql); /* read only: nothing to keep */
    return stop;
}

static json_t *pg_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap)
{
    struct wp_query last = {.limit = 1};
    char prefix[64];
    const char *v[1] = {prefix};
    json_t *arr, *one = NULL;
    PGresult *res;

    if (strcmp(id, "last") == 0) {
        arr = pg_list(l, &last, with_samples, err, cap);
    } else if (wp_ledger_id_check(id, err, cap) != 0) {
        return NULL;
    } else {
        snprintf(prefix, sizeof prefix, "%s%%", id); /* hex and '-' only: no LIKE escapes */
        res = run(l,
                  "SELECT r.result, s.data FROM runs r LEFT JOIN samples s ON s.run_id = r.id "
                  "WHERE r.id LIKE $1 ORDER BY r.id LIMIT 2",
                  1, v, err, cap);
        arr = res ? runs_of(res, with_samples, err, cap) : NULL;
        if (arr && json_array_size(arr) > 1) {
            snprintf(err, cap, "'%s' matches more than one run; give more of the id", id);
            json_decref(arr);
            return NULL;
        }
    }
    if (arr && json_array_size(arr) == 0)
        snprintf(err, cap, "no run '%s' in %s", id, l->path);
    else if (arr)
        one = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return one;
}

static json_t *pg_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                          size_t cap)
{
    const char *key = NULL;
    struct filter f;
    char sql[4096], expr[128];
    double tot[6] = {0};
    int bad = 0;
    PGresult *res;
    json_t *arr;

    if (strncmp(by, "tag:", 4) == 0 && by[4]) {
        snprintf(expr, sizeof expr,
                 "(SELECT t.value FROM tags t WHERE t.run_id = r.id AND "
                 "t.key = $1)");
        key = expr;
    } else if (strcmp(by, "day") == 0) {
        key = "to_char(to_timestamp(r.start_s) AT TIME ZONE 'UTC', 'YYYY-MM-DD')";
    } else if (!strcmp(by, "project") || !strcmp(by, "experiment") || !strcmp(by, "host") ||
               !strcmp(by, "job") || !strcmp(by, "user")) {
        snprintf(expr, sizeof expr, "r.\"%s\"", by);
        key = expr;
    } else {
        wp_ledger_check_by(by, err, cap);
        return NULL;
    }
    build_filter(q, &f, by[3] == ':' ? 1 : 0);
    if (by[3] == ':')
        f.v[0] = by + 4;
    /* NULL keys (runs filed under nothing) sort first, as SQLite sorts them */
    snprintf(sql, sizeof sql,
             "SELECT %s AS k, count(*), sum(r.duration_s), sum(r.device_hours), sum(r.energy_j),"
             " sum(r.facility_energy_j), sum(r.emissions_g) FROM runs r%s GROUP BY k"
             " ORDER BY k NULLS FIRST",
             key, f.sql);
    if (!(res = run(l, sql, f.n, f.v, err, cap)))
        return NULL;
    arr = json_array();
    for (int i = 0; i < pq.ntuples(res); i++) {
        double v[6];
        for (int c = 0; c < 6; c++)
            tot[c] += v[c] = atof(pq.getvalue(res, i, c + 1));
        wp_jpush(
            &bad, arr,
            json_pack("{s:o, s:I, s:f, s:f, s:f, s:f, s:f}", "key",
                      pq.getisnull(res, i, 0) ? json_null() : json_string(pq.getvalue(res, i, 0)),
                      "runs", (json_int_t)v[0], "duration_s", v[1], "device_hours", v[2],
                      "energy_j", v[3], "facility_energy_j", v[4], "emissions_g", v[5]));
    }
    pq.clear(res);
    wp_jpush(&bad, arr,
             json_pack("{s:n, s:b, s:I, s:f, s:f, s:f, s:f, s:f}", "key", "total", 1, "runs",
                       (json_int_t)tot[0], "duration_s", tot[1], "device_hours", tot[2], "energy_j",
                       tot[3], "facility_energy_j", tot[4], "emissions_g", tot[5]));
    if (bad)
        snprintf(err, cap, "out of memory summing the ledger");
    return wp_jdone(bad, arr);
}

/* The full id of the one run id names, from the id column alone: a run
 * whose document is damaged can still be removed. */
static int pg_full_id(struct wp_ledger *l, const char *id, char *out, size_t outcap, char *err,
                      size_t cap)
{
    bool last = strcmp(id, "last") == 0;
    char prefix[64];
    const char *v[1] = {prefix};
    PGresult *res;
    int found;

    if (!last && wp_ledger_id_check(id, err, cap) != 0)
        return -EINVAL;
    snprintf(prefix, sizeof prefix, "%s%%", id); /* hex and '-' only: no LIKE escapes */
    res = last ? run(l, "SELECT id FROM runs ORDER BY start_s DESC, id DESC LIMIT 1", 0, NULL, err,
                     cap)
               : run(l, "SELECT id FROM runs WHERE id LIKE $1 ORDER BY id LIMIT 2", 1, v, err, cap);
    if (!res)
        return -EIO;
    found = pq.ntuples(res);
    if (found == 1)
        snprintf(out, outcap, "%s", pq.getvalue(res, 0, 0));
    else if (found == 0)
        snprintf(err, cap, "no run '%s' in %s", id, l->path);
    else
        snprintf(err, cap, "'%s' matches more than one run; give more of the id", id);
    pq.clear(res);
    return found == 1 ? 0 : -ENOENT;
}

static int pg_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap)
{
    int removed = 0;

    if (exec(l, "BEGIN", err, cap))
        return -EIO;
    for (int i = 0; i < n; i++) {
        char id[64];
        const char *v[1] = {id};
        PGresult *res;
        if (pg_full_id(l, ids[i], id, sizeof id, err, cap) != 0) {
            pg_abort_batch(l);
            return -EIO;
        }
        res = run(l, "DELETE FROM runs WHERE id = $1", 1, v, err, cap);
        if (!res) {
            pg_abort_batch(l);
            return -EIO;
        }
        removed += strcmp(pq.cmd_tuples(res), "0") != 0;
        pq.clear(res);
    }
    return exec(l, "COMMIT", err, cap) ? -EIO : removed;
}

const struct wp_ledger_ops wp_ledger_pg_ops = {
    .name = "postgresql",
    .close = pg_close,
    .begin = pg_begin,
    .checkpoint = pg_checkpoint,
    .finish = pg_finish,
    .insert_row = pg_insert_row,
    .begin_batch = pg_begin_batch,
    .end_batch = pg_end_batch,
    .batch_counts = pg_batch_counts,
    .abort_batch = pg_abort_batch,
    .list = pg_list,
    .get = pg_get,
    .each = pg_each,
    .summary = pg_summary,
    .remove = pg_remove,
};

/* Marking a run interrupted: its end is its last checkpoint. */
#define INTERRUPT                                                                                  \
    "UPDATE runs SET status = 'interrupted', end_s = coalesce(checkpoint_s, start_s),"             \
    " duration_s = coalesce(checkpoint_s, start_s) - start_s,"                                     \
    " result = jsonb_set(jsonb_set(result::jsonb, '{status}', '\"interrupted\"'),"                 \
    " '{duration_s}', to_jsonb(coalesce(checkpoint_s, start_s) - start_s))::text"                  \
    " WHERE status = 'running' AND "

/* Runs that will never finish: on this host, those whose process is gone;
 * on any host, those whose checkpoints stopped WP_LEDGER_STALE_CHECKPOINTS
 * intervals ago (a node that died says nothing). Best effort: a reader
 * without the right to update leaves them as they are. */
static void pg_reap(struct wp_ledger *l)
{
    char host[256] = "", boot[64], err[256], stale[16];
    const char *v[1] = {host}, *s[1] = {stale};
    PGresult *res;

    gethostname(host, sizeof host);
    wp_ledger_boot_id(boot, sizeof boot);
    res = run(l,
              "SELECT id, pid, proc_start, boot_id FROM runs WHERE status = 'running' AND "
              "host = $1",
              1, v, err, sizeof err);
    for (int i = 0; res && i < pq.ntuples(res); i++) {
        const char *id[1] = {pq.getvalue(res, i, 0)};
        PGresult *up;
        if (pq.getisnull(res, i, 1) ||
            !wp_ledger_owner_gone(atol(pq.getvalue(res, i, 1)),
                                  pq.getisnull(res, i, 2) ? NULL : pq.getvalue(res, i, 2),
                                  pq.getisnull(res, i, 3) ? NULL : pq.getvalue(res, i, 3), boot))
            continue;
        if ((up = run(l, INTERRUPT "id = $1", 1, id, err, sizeof err)))
            pq.clear(up);
    }
    if (res)
        pq.clear(res);
    snprintf(stale, sizeof stale, "%d", WP_LEDGER_STALE_CHECKPOINTS);
    res = run(l,
              INTERRUPT "coalesce(checkpoint_s, start_s) < extract(epoch FROM now()) - $1::float8 *"
                        " coalesce((result::jsonb->>'checkpoint_interval_s')::float8, 5)",
              1, s, err, sizeof err);
    if (res)
        pq.clear(res);
}
