/* The PostgreSQL backend: a team's or a cluster's one ledger. libpq is loaded
 * with dlopen on the first PostgreSQL ledger, so commands on a SQLite ledger
 * never pay for it; the location is libpq's URI, and credentials come from
 * libpq's own means (PGPASSWORD, ~/.pgpass, PGSERVICE). */
#define _GNU_SOURCE
#include "pg_int.h"

#include "../util/dl.h"
#include "../util/jput.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct wp_pq wp_pq;

static pthread_once_t pq_once = PTHREAD_ONCE_INIT;
static void *pq_lib;
static char pq_err[512];

static void load_pq(void)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&wp_pq.connectdb, "PQconnectdb"},
        {(void **)&wp_pq.status, "PQstatus"},
        {(void **)&wp_pq.error_message, "PQerrorMessage"},
        {(void **)&wp_pq.finish, "PQfinish"},
        {(void **)&wp_pq.exec, "PQexec"},
        {(void **)&wp_pq.exec_params, "PQexecParams"},
        {(void **)&wp_pq.result_status, "PQresultStatus"},
        {(void **)&wp_pq.result_error, "PQresultErrorMessage"},
        {(void **)&wp_pq.ntuples, "PQntuples"},
        {(void **)&wp_pq.getvalue, "PQgetvalue"},
        {(void **)&wp_pq.getisnull, "PQgetisnull"},
        {(void **)&wp_pq.cmd_tuples, "PQcmdTuples"},
        {(void **)&wp_pq.clear, "PQclear"},
        {(void **)&wp_pq.set_notice_processor, "PQsetNoticeProcessor"},
    };
    pq_lib = wp_dl_load("WATTPRINT_LIBPQ", "libpq.so.5", syms, sizeof syms / sizeof *syms,
                        "libpq (apt-get install libpq5)", pq_err, sizeof pq_err);
}

#define WP_PG_CONNECT_TIMEOUT_S 5

static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

/* One statement with text parameters. Returns the result (PQclear it) or
 * NULL with the server's message in err. */
PGresult *wp_pg_run(struct wp_ledger *l, const char *sql, int n, const char *const *v, char *err,
                    size_t cap)
{
    PGresult *r;
    int st;

    pthread_mutex_lock(&l->pg->mu);
    /* without parameters, the simple protocol: several statements at once */
    r = n ? wp_pq.exec_params(l->pg->c, sql, n, NULL, v, NULL, NULL, 0) : wp_pq.exec(l->pg->c, sql);
    pthread_mutex_unlock(&l->pg->mu);
    st = r ? wp_pq.result_status(r) : -1;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
        return r;
    snprintf(err, cap, "PostgreSQL: %s", r ? wp_pq.result_error(r) : wp_pq.error_message(l->pg->c));
    err[strcspn(err, "\n")] = '\0';
    if (r)
        wp_pq.clear(r);
    return NULL;
}

int wp_pg_exec(struct wp_ledger *l, const char *sql, char *err, size_t cap)
{
    PGresult *r = wp_pg_run(l, sql, 0, NULL, err, cap);
    if (!r)
        return -EIO;
    wp_pq.clear(r);
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
    /* 4: the whole footprint the summaries total (NULL: the run has none),
     * taken from the runs' documents once, in the rollups' indexes too */
    "ALTER TABLE runs ADD COLUMN water_l DOUBLE PRECISION,"
    " ADD COLUMN water_offsite_l DOUBLE PRECISION, ADD COLUMN embodied_g DOUBLE PRECISION;"
    "UPDATE runs SET water_l = (result::jsonb #>> '{carbon,water_l}')::float8,"
    " water_offsite_l = (result::jsonb #>> '{carbon,water_offsite_l}')::float8,"
    " embodied_g = (result::jsonb #>> '{embodied_emissions_g}')::float8;"
    "DROP INDEX runs_project_sums; DROP INDEX runs_experiment_sums;"
    "CREATE INDEX runs_project_sums ON runs(project) INCLUDE (start_s, duration_s,"
    " device_hours, energy_j, facility_energy_j, emissions_g, water_l, water_offsite_l,"
    " embodied_g);"
    "CREATE INDEX runs_experiment_sums ON runs(experiment) INCLUDE (start_s, duration_s,"
    " device_hours, energy_j, facility_energy_j, emissions_g, water_l, water_offsite_l,"
    " embodied_g);",
};
#define PG_SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))

/* The schema's version (one round trip); -EIO where there is no ledger yet. */
/* The version asked with the session's setting in one round trip: libpq
 * prints the server's notices on stderr ("already exists, skipping";
 * "terminating connection due to immediate shutdown", which a server sends
 * whatever the level asked), and the notice processor drops what is sent:
 * what matters returns as the call's error. */
static int schema_version(struct wp_ledger *l, int *version, char *err, size_t cap)
{
    PGresult *res = wp_pg_run(l,
                              "SET client_min_messages TO WARNING;"
                              " SELECT max(version) FROM wattprint_schema",
                              0, NULL, err, cap);
    char ignored[256];

    if (!res) { /* no ledger yet: the failed query took its SET back */
        wp_pg_exec(l, "SET client_min_messages TO WARNING", ignored, sizeof ignored);
        return -EIO;
    }
    *version = wp_pq.ntuples(res) == 1 && !wp_pq.getisnull(res, 0, 0)
                   ? atoi(wp_pq.getvalue(res, 0, 0))
                   : 0;
    wp_pq.clear(res);
    return 0;
}

static int migrate(struct wp_ledger *l, char *err, size_t cap)
{
    char sql[96];
    PGresult *res;
    int version = 0;

    if (wp_pg_exec(l,
                   "BEGIN; SELECT pg_advisory_xact_lock(8231946);"
                   "CREATE TABLE IF NOT EXISTS wattprint_schema (version INTEGER NOT NULL)",
                   err, cap))
        goto fail; /* a role that may not create: the transaction is to end */
    if (!(res = wp_pg_run(l, "SELECT max(version) FROM wattprint_schema", 0, NULL, err, cap)))
        goto fail;
    if (wp_pq.ntuples(res) == 1 && !wp_pq.getisnull(res, 0, 0))
        version = atoi(wp_pq.getvalue(res, 0, 0));
    wp_pq.clear(res);
    if (version > PG_SCHEMA_VERSION) {
        snprintf(err, cap, "the ledger %s has schema version %d, newer than this wattprint's (%d)",
                 l->path, version, PG_SCHEMA_VERSION);
        goto fail;
    }
    for (int v = version; v < PG_SCHEMA_VERSION; v++)
        if (wp_pg_exec(l, migrations[v], err, cap))
            goto fail;
    snprintf(sql, sizeof sql,
             "DELETE FROM wattprint_schema; INSERT INTO wattprint_schema VALUES (%d)",
             PG_SCHEMA_VERSION);
    if (version < PG_SCHEMA_VERSION && wp_pg_exec(l, sql, err, cap))
        goto fail;
    return wp_pg_exec(l, "COMMIT", err, cap);
fail:
    wp_pg_exec(l, "ROLLBACK", sql, sizeof sql);
    return -EIO;
}

/* A reader of an older schema: migrated when this role may (a reader of
 * SQLite migrates a file it may write, alike); else the columns schema 4
 * added are lent by a temporary view over the documents (pg_temp comes
 * first in the search path). */
static int read_schema(struct wp_ledger *l, char *err, size_t cap)
{
    int version;

    if (schema_version(l, &version, err, cap))
        return -EIO;
    if (version >= PG_SCHEMA_VERSION || migrate(l, err, cap) == 0)
        return version > PG_SCHEMA_VERSION ? migrate(l, err, cap) : 0; /* says newer */
    if (version != 3)
        return -EIO;
    return wp_pg_exec(l,
                      "CREATE TEMP VIEW runs AS SELECT *,"
                      " (result::jsonb #>> '{carbon,water_l}')::float8 AS water_l,"
                      " (result::jsonb #>> '{carbon,water_offsite_l}')::float8 AS water_offsite_l,"
                      " (result::jsonb #>> '{embodied_emissions_g}')::float8 AS embodied_g"
                      " FROM public.runs",
                      err, cap);
}

/* A writer: the schema brought to this version. Asked first outside any
 * transaction (one round trip where it is current, the case of every run
 * but a ledger's first), then migrated under the lock. */
static int write_schema(struct wp_ledger *l, char *err, size_t cap)
{
    int version;

    if (schema_version(l, &version, err, cap) == 0 && version == PG_SCHEMA_VERSION)
        return 0;
    return migrate(l, err, cap);
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
            wp_pq.finish(l->pg->c);
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
        l->pg->c = wp_pq.connectdb(with_timeout);
    }
    if (!l->pg->c || wp_pq.status(l->pg->c) != PG_CONNECTION_OK) {
        snprintf(err, cap, "cannot reach the PostgreSQL ledger %s: %s", l->path,
                 l->pg->c ? wp_pq.error_message(l->pg->c) : "out of memory");
        err[strcspn(err, "\n")] = '\0';
        pg_close(l);
        return -ENOMEM;
    }
    wp_pq.set_notice_processor(l->pg->c, drop_notice, NULL); /* schema_version */
    if ((mode == WP_LEDGER_READ ? read_schema(l, err, cap) : write_schema(l, err, cap)) != 0) {
        if (mode == WP_LEDGER_READ && strstr(err, "wattprint_schema"))
            snprintf(err, cap,
                     "no ledger at %s yet (runs are recorded there by wattprint run; name another "
                     "ledger or set WATTPRINT_LEDGER)",
                     l->path);
        pg_close(l);
        return -EIO;
    }
    if (mode == WP_LEDGER_RECORD)
        l->pg->reap_due = true;
    else
        pg_reap(l);
    wp_spool_send(l, uri);
    *out = l;
    return 0;
}

/* Numbers as text for libpq's text parameters. */
static const char sql_columns[] =
    "INSERT INTO runs (id, status, start_s, end_s, duration_s, host, \"user\", project,"
    " experiment, job, energy_j, facility_energy_j, emissions_g, device_hours, pid, proc_start,"
    " boot_id, checkpoint_s, result, water_l, water_offsite_l, embodied_g) VALUES ($1,$2,$3,$4,"
    "$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19,$20,$21,$22) ON CONFLICT (id) DO ";
static const char sql_update[] =
    "UPDATE SET status = excluded.status, end_s = excluded.end_s, duration_s = "
    "excluded.duration_s, energy_j = excluded.energy_j, facility_energy_j = "
    "excluded.facility_energy_j, emissions_g = excluded.emissions_g, device_hours = "
    "excluded.device_hours, checkpoint_s = excluded.checkpoint_s, result = excluded.result, "
    "water_l = excluded.water_l, water_offsite_l = excluded.water_offsite_l, "
    "embodied_g = excluded.embodied_g, "
    /* the owner (is its wattprint alive?) matters only while it runs */
    "pid = CASE WHEN excluded.status = 'running' THEN runs.pid END, "
    "proc_start = CASE WHEN excluded.status = 'running' THEN runs.proc_start END, "
    "boot_id = CASE WHEN excluded.status = 'running' THEN runs.boot_id END";

/* Writes a run's row (and, when new, its tags). Insert only (a copy, the
 * spool) yields to nothing but a later state of the run. Returns 0 written,
 * 1 skipped (insert only, the id holds the same or a later state), 2
 * replaced (insert only, over an earlier state), a negative errno with err. */
/* The text of a row's parameters, into v (pointing into n and the row). */
struct row_text {
    struct num n[11];
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
    v[0] = r->id, v[1] = r->status, v[2] = wp_pg_num(&n[0], r->start_s);
    v[3] = strcmp(r->status, "running") ? wp_pg_num(&n[1], r->start_s + r->duration_s) : NULL;
    v[4] = wp_pg_num(&n[2], r->duration_s), v[5] = r->host ? r->host : "",
    v[6] = r->user ? r->user : "";
    v[7] = r->project, v[8] = r->experiment, v[9] = r->job;
    v[10] = wp_pg_num(&n[3], r->energy_j), v[11] = wp_pg_num(&n[4], r->facility_energy_j);
    v[12] = wp_pg_num(&n[5], r->emissions_g);
    v[13] = wp_pg_num(&n[6], r->duration_s / 3600.0 * (r->n_gpus > 0 ? r->n_gpus : 1));
    v[14] = pid ? b->pid : NULL, v[15] = pid ? b->started : NULL, v[16] = pid ? b->boot : NULL;
    v[17] = wp_pg_num(&n[7], r->start_s + r->duration_s), v[18] = text;
    /* a figure the run has not is SQL NULL, which the summaries' sums skip */
    v[19] = r->has_water ? wp_pg_num(&n[8], r->water_l) : NULL;
    v[20] = r->has_water_offsite ? wp_pg_num(&n[9], r->water_offsite_l) : NULL;
    v[21] = r->has_embodied ? wp_pg_num(&n[10], r->embodied_g) : NULL;
}

_Static_assert(PG_COLUMNS == 22, "the samples are the statement's $23");

static int write_row(struct wp_ledger *l, const struct wp_ledger_row *r, const char *text,
                     const char *samples, bool update, long pid, char *err, size_t cap)
{
    struct row_text b;
    char sql[2560];
    const char *v[PG_COLUMNS + 1];
    PGresult *res;
    bool added, replaced = false;

    if (!r->id || strlen(r->id) < 8 || !r->status || !text) {
        snprintf(err, cap, "a run without a valid run_id or status");
        return -EINVAL;
    }
    row_params(r, text, pid, &b, v);
    v[PG_COLUMNS] = samples;
    /* xmax is 0 on a row this statement inserted, the updater's otherwise;
     * the samples of the state written go in the same round trip */
    snprintf(sql, sizeof sql, "%s%s%s%s RETURNING id, (xmax = 0) AS fresh%s",
             samples ? "WITH w AS (" : "", sql_columns, sql_update,
             update ? "" : " WHERE " WP_LEDGER_NEWER,
             samples ? "), s AS (INSERT INTO samples (run_id, data) SELECT id, $23 FROM w"
                       " ON CONFLICT (run_id) DO UPDATE SET data = excluded.data)"
                       " SELECT id, fresh FROM w"
                     : "");
    if (!(res = wp_pg_run(l, sql, PG_COLUMNS + (samples ? 1 : 0), v, err, cap)))
        return -EIO;
    added = wp_pq.ntuples(res) > 0;
    if (added)
        replaced = strcmp(wp_pq.getvalue(res, 0, 1), "t") != 0;
    wp_pq.clear(res);
    if (!added)
        return update ? 0 : 1;
    /* the tags are the run's, written with its first state: the start row,
     * or the final one of a command that ended before its start was written */
    if (replaced)
        return update ? 0 : 2;
    for (int i = 0; r->labels && i < r->labels->n_tags; i++) {
        const char *t[3] = {r->id, r->labels->tags[i].key, r->labels->tags[i].value};
        if (!(res = wp_pg_run(l,
                              "INSERT INTO tags (run_id, key, value) VALUES ($1,$2,$3) "
                              "ON CONFLICT (run_id, key) DO UPDATE SET value = excluded.value",
                              3, t, err, cap)))
            return -EIO;
        wp_pq.clear(res);
    }
    return 0;
}

/* A run's row, and its samples (the JSON object, or NULL: none). */
static int record(struct wp_ledger *l, const struct wp_run *run, const char *samples, long pid,
                  char *err, size_t cap)
{
    struct wp_ledger_row row;
    char *text = wp_ledger_run_text(run);
    int rc;

    if (!text) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    wp_ledger_row_of_run(run, &row);
    rc = write_row(l, &row, text, samples, true, pid, err, cap);
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
    char *samples = NULL;
    int rc;

    if (done->reading.n_samples > 0 && !(samples = samples_text(&done->reading))) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    rc = record(l, done, samples, 0, err, cap);
    free(samples);
    return rc == 0 ? 0 : -EIO;
}

static int pg_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return record(l, run, NULL, (long)getpid(), err, cap);
}

static int pg_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    if (l->pg->reap_due) { /* the command runs on: the ledger's housekeeping now */
        l->pg->reap_due = false;
        pg_reap(l);
    }
    return record(l, run, NULL, 0, err, cap);
}

/* The queued rows in one statement: a round trip for 500 runs, not one
 * each. RETURNING gives a row per insert or update (xmax = 0: inserted);
 * the rest were skipped (the id holds the same or a later state). */
static int flush_queued(struct wp_ledger *l, char *err, size_t cap)
{
    struct wp_pg *g = l->pg;
    static _Thread_local char sql[PG_BATCH_ROWS * 200 + 4096]; /* "($10978,...)": < 160 a row */
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
    res = wp_pg_run(l, sql, n * PG_COLUMNS, v, err, cap);
    drop_queued(g);
    if (!res)
        return -EIO;
    for (int i = 0; i < wp_pq.ntuples(res); i++)
        *(strcmp(wp_pq.getvalue(res, i, 0), "t") == 0 ? &g->added : &g->replaced) += 1;
    g->skipped += n - wp_pq.ntuples(res);
    wp_pq.clear(res);
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
    return write_row(l, row, text, NULL, false, 0, err, cap);
}

static int pg_begin_batch(struct wp_ledger *l)
{
    char err[256];
    int rc = wp_pg_exec(l, "BEGIN", err, sizeof err);

    l->pg->batching = rc == 0;
    l->pg->added = l->pg->skipped = l->pg->replaced = 0;
    return rc;
}

void wp_pg_abort_batch(struct wp_ledger *l)
{
    char err[256];

    drop_queued(l->pg);
    l->pg->batching = false;
    (void)wp_pg_exec(l, "ROLLBACK", err, sizeof err);
}

static int pg_end_batch(struct wp_ledger *l)
{
    char err[512];

    if (flush_queued(l, err, sizeof err) != 0) {
        wp_pg_abort_batch(l);
        return -EIO;
    }
    l->pg->batching = false;
    return wp_pg_exec(l, "COMMIT", err, sizeof err);
}

static void pg_batch_counts(struct wp_ledger *l, long *added, long *skipped, long *replaced)
{
    *added = l->pg->added, *skipped = l->pg->skipped, *replaced = l->pg->replaced;
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
    .abort_batch = wp_pg_abort_batch,
    .list = wp_pg_list,
    .get = wp_pg_get,
    .each = wp_pg_each,
    .summary = wp_pg_summary,
    .remove = wp_pg_remove,
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
    res = wp_pg_run(l,
                    "SELECT id, pid, proc_start, boot_id FROM runs WHERE status = 'running' AND "
                    "host = $1",
                    1, v, err, sizeof err);
    for (int i = 0; res && i < wp_pq.ntuples(res); i++) {
        const char *id[1] = {wp_pq.getvalue(res, i, 0)};
        PGresult *up;
        if (wp_pq.getisnull(res, i, 1) ||
            !wp_ledger_owner_gone(atol(wp_pq.getvalue(res, i, 1)),
                                  wp_pq.getisnull(res, i, 2) ? NULL : wp_pq.getvalue(res, i, 2),
                                  wp_pq.getisnull(res, i, 3) ? NULL : wp_pq.getvalue(res, i, 3),
                                  boot))
            continue;
        if ((up = wp_pg_run(l, INTERRUPT "id = $1", 1, id, err, sizeof err)))
            wp_pq.clear(up);
    }
    if (res)
        wp_pq.clear(res);
    snprintf(stale, sizeof stale, "%d", WP_LEDGER_STALE_CHECKPOINTS);
    res = wp_pg_run(l,
                    INTERRUPT
                    "coalesce(checkpoint_s, start_s) < extract(epoch FROM now()) - $1::float8 *"
                    " coalesce((result::jsonb->>'checkpoint_interval_s')::float8, 5)",
                    1, s, err, sizeof err);
    if (res)
        wp_pq.clear(res);
}
