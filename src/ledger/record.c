/* Recording runs: one upsert from the run JSON serves the start, the
 * checkpoints, the end, imports and the benchmark alike. */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/util.h"
#include "../util/jput.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

/* A figure the run has not is SQL NULL, which the summaries' sums skip. */
static void bind_num(sqlite3_stmt *st, int i, bool has, double v)
{
    if (has)
        sqlite3_bind_double(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

enum upsert_mode { UPSERT, INSERT_ONLY };

struct owner {
    long pid;
    const char *proc_start, *boot_id;
};

#define COLUMNS                                                                                    \
    "INSERT INTO runs (id, status, start_s, end_s, duration_s, host, user, project,"               \
    " experiment, job, energy_j, facility_energy_j, emissions_g, device_hours, pid,"               \
    " proc_start, boot_id, checkpoint_s, result, doc, water_l, water_offsite_l, "                  \
    "embodied_g, " WP_LEDGER_X_COLUMNS ")"                                                         \
    " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,'',wp_pack(?19, ?1)," \
    " ?20,?21,?22,?23,?24,?25,?26,?27,?28,?29,?30,?31,?32,?33,?34,?35,?36,?37)"

/* the owner (is its wattprint alive?) matters only while it runs */
#define UPDATE                                                                                     \
    " ON CONFLICT(id) DO UPDATE SET status = excluded.status, end_s = excluded.end_s,"             \
    " duration_s = excluded.duration_s, energy_j = excluded.energy_j,"                             \
    " facility_energy_j = excluded.facility_energy_j,"                                             \
    " emissions_g = excluded.emissions_g, device_hours = excluded.device_hours,"                   \
    " checkpoint_s = excluded.checkpoint_s, result = excluded.result, doc = excluded.doc,"         \
    " water_l = excluded.water_l, water_offsite_l = excluded.water_offsite_l,"                     \
    " embodied_g = excluded.embodied_g, exit_code = excluded.exit_code, cpu_j = excluded.cpu_j,"   \
    " dram_j = excluded.dram_j, gpu_j = excluded.gpu_j, psys_j = excluded.psys_j,"                 \
    " pue = excluded.pue, intensity_g_per_kwh = excluded.intensity_g_per_kwh,"                     \
    " method = excluded.method, region = excluded.region, start_text = excluded.start_text,"       \
    " end_text = excluded.end_text, command_line = excluded.command_line,"                         \
    " gpus = excluded.gpus, gpu_model = excluded.gpu_model, shared = excluded.shared,"             \
    " pid = iif(excluded.status = 'running', pid, NULL),"                                          \
    " proc_start = iif(excluded.status = 'running', proc_start, NULL),"                            \
    " boot_id = iif(excluded.status = 'running', boot_id, NULL)"

static const char sql_upsert[] = COLUMNS UPDATE;
/* imports and the spool: a run already here only yields to a later state */
static const char sql_insert[] = COLUMNS UPDATE " WHERE " WP_LEDGER_NEWER;

/* Whether a run of this id is stored (the caller holds a transaction). */
static int exists(struct wp_ledger *l, const char *id, char *err, size_t cap)
{
    int rc;

    if (!l->st_exists &&
        sqlite3_prepare_v3(l->db, "SELECT 1 FROM runs WHERE id = ?", -1, SQLITE_PREPARE_PERSISTENT,
                           &l->st_exists, NULL) != SQLITE_OK)
        return wp_ledger_fail(l, err, cap);
    sqlite3_bind_text(l->st_exists, 1, id, -1, SQLITE_STATIC);
    rc = sqlite3_step(l->st_exists);
    sqlite3_reset(l->st_exists);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return wp_ledger_fail(l, err, cap);
    return rc == SQLITE_ROW;
}

/* Writes one run's columns and JSON text; a new row also gets its tags.
 * Returns 0 written, 1 skipped (INSERT_ONLY and the id holds the same or a
 * later state), 2 replaced (INSERT_ONLY over an earlier state), a negative errno on error.
 * Caller holds a transaction. */
static int upsert(struct wp_ledger *l, const struct wp_ledger_row *r, const char *text,
                  enum upsert_mode mode, const struct owner *own, char *err, size_t cap)
{
    sqlite3_stmt **cached = mode == UPSERT ? &l->st_upsert : &l->st_insert, *st;
    int rc, changes, had = 0;

    if (!r->id || strlen(r->id) < 8 || !r->status || !text) {
        snprintf(err, cap, "a run without a valid run_id or status");
        return -EINVAL;
    }
    if (!*cached && sqlite3_prepare_v3(l->db, mode == UPSERT ? sql_upsert : sql_insert, -1,
                                       SQLITE_PREPARE_PERSISTENT, cached, NULL) != SQLITE_OK)
        return wp_ledger_fail(l, err, cap);
    /* the tags are the run's, written with its first state: whether this is
     * it (a command that ended before its start row was written has none) */
    if ((mode == INSERT_ONLY || (!own && r->labels && r->labels->n_tags > 0)) &&
        (had = exists(l, r->id, err, cap)) < 0)
        return -EIO;
    st = *cached;
    sqlite3_bind_text(st, 1, r->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, r->status, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, r->start_s);
    if (strcmp(r->status, "running") != 0)
        sqlite3_bind_double(st, 4, r->start_s + r->duration_s);
    sqlite3_bind_double(st, 5, r->duration_s);
    sqlite3_bind_text(st, 6, r->host ? r->host : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 7, r->user ? r->user : "", -1, SQLITE_STATIC);
    bind_text(st, 8, r->project);
    bind_text(st, 9, r->experiment);
    bind_text(st, 10, r->job);
    sqlite3_bind_double(st, 11, r->energy_j);
    sqlite3_bind_double(st, 12, r->facility_energy_j);
    sqlite3_bind_double(st, 13, r->emissions_g);
    /* device-hours count each GPU, or the machine when the run had none */
    sqlite3_bind_double(st, 14, r->duration_s / 3600.0 * (r->n_gpus > 0 ? r->n_gpus : 1));
    if (own) {
        sqlite3_bind_int64(st, 15, own->pid);
        bind_text(st, 16, own->proc_start);
        bind_text(st, 17, own->boot_id);
    }
    /* the last checkpoint orders the states of a run not yet ended (WP_LEDGER_NEWER); an ended
     * one is never replaced by a checkpoint: none kept */
    if (strcmp(r->status, "running") == 0 || strcmp(r->status, "interrupted") == 0)
        sqlite3_bind_double(st, 18, r->start_s + r->duration_s);
    sqlite3_bind_text(st, 19, text, -1, SQLITE_STATIC);
    bind_num(st, 20, r->has_water, r->water_l);
    bind_num(st, 21, r->has_water_offsite, r->water_offsite_l);
    bind_num(st, 22, r->has_embodied, r->embodied_g);
    wp_ledger_bind_export(st, 23, &r->x);
    rc = sqlite3_step(st);
    changes = sqlite3_changes(l->db);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE)
        return wp_ledger_fail(l, err, cap);
    if (mode == INSERT_ONLY && changes == 0)
        return 1;
    if (had)
        return mode == INSERT_ONLY ? 2 : 0; /* its tags came with its first state */
    if (r->labels && r->labels->n_tags > 0) {
        if (!l->st_tag &&
            sqlite3_prepare_v3(l->db,
                               "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?,?,?)",
                               -1, SQLITE_PREPARE_PERSISTENT, &l->st_tag, NULL) != SQLITE_OK)
            return wp_ledger_fail(l, err, cap);
        for (int i = 0; i < r->labels->n_tags; i++) {
            sqlite3_bind_text(l->st_tag, 1, r->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(l->st_tag, 2, r->labels->tags[i].key, -1, SQLITE_STATIC);
            sqlite3_bind_text(l->st_tag, 3, r->labels->tags[i].value, -1, SQLITE_STATIC);
            rc = sqlite3_step(l->st_tag);
            sqlite3_reset(l->st_tag);
            if (rc != SQLITE_DONE)
                return wp_ledger_fail(l, err, cap);
        }
    }
    return 0;
}

/* The columns of a run, from its reading and its account. */
void wp_ledger_row_of_run(const struct wp_run *run, struct wp_ledger_row *r)
{
    const struct wp_reading *rd = &run->reading;

    memset(r, 0, sizeof *r);
    r->id = run->run_id;
    r->status = wp_run_status_name(run->status);
    r->start_s = run->start_wall_s;
    r->duration_s = rd->duration_s;
    r->host = run->host;
    r->user = run->user;
    r->project = run->labels.project;
    r->experiment = run->labels.experiment;
    r->job = run->labels.job;
    r->energy_j = rd->totals.total_j;
    r->facility_energy_j = run->carbon.facility_energy_j;
    r->emissions_g = run->carbon.emissions_g;
    r->has_water = run->assume.has_wue;
    r->water_l = run->carbon.water_l;
    r->has_water_offsite = run->assume.has_offsite_wue;
    r->water_offsite_l = run->carbon.water_offsite_l;
    r->has_embodied = wp_run_embodied_g(run, &r->embodied_g) != 0;
    for (int i = 0; i < rd->n_channels; i++)
        r->n_gpus += rd->channels[i].ch.component == WP_GPU && rd->channels[i].ch.counted;
    r->labels = &run->labels;
}

static int write_run(struct wp_ledger *l, const struct wp_run *run, const struct owner *own,
                     bool samples, char *err, size_t cap);

int wp_sq_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    char started[64] = "", boot[64];
    struct owner own = {(long)getpid(), started, boot};

    wp_ledger_proc_start((long)getpid(), started, sizeof started);
    wp_ledger_boot_id(boot, sizeof boot);
    return write_run(l, run, &own, false, err, cap);
}

int wp_sq_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return write_run(l, run, NULL, false, err, cap);
}

int wp_sq_finish(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return write_run(l, run, NULL, true, err, cap);
}

/* The reading's samples as one row of packed doubles. Their channels are
 * the document's channels, in order: stored as '' (attach_samples names
 * them from the document; rows of earlier versions hold the names). */
static int write_samples(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    const struct wp_reading *rd = &run->reading;
    int n_ch = rd->n_channels, n, stride = wp_ledger_sample_stride(rd->n_samples, &n);
    size_t per = (size_t)n_ch + 1;
    double *data = malloc(sizeof *data * per * (size_t)(n > 0 ? n : 1));
    sqlite3_stmt *st;
    int rc;

    if (!data) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    for (int k = 0; k < n; k++) {
        int s = wp_ledger_sample_at(k, rd->n_samples, stride, n);
        data[(size_t)k * per] = rd->sample_t[s];
        memcpy(&data[(size_t)k * per + 1], &rd->sample_e[(size_t)s * (size_t)n_ch],
               (size_t)n_ch * sizeof *data);
    }
    if (sqlite3_prepare_v2(
            l->db, "INSERT OR REPLACE INTO samples (run_id, channels, data) VALUES (?,'',?)", -1,
            &st, NULL) != SQLITE_OK) {
        free(data);
        return wp_ledger_fail(l, err, cap);
    }
    sqlite3_bind_text(st, 1, run->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 2, data, (int)(sizeof *data * per * (size_t)n), SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(data);
    return rc == SQLITE_DONE ? 0 : wp_ledger_fail(l, err, cap);
}

char *wp_ledger_run_text(const struct wp_run *run)
{
    json_t *j = wp_run_json_stored(run); /* what readers recompute is not stored */
    char *text;

    text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(j);
    return text;
}

static int write_run(struct wp_ledger *l, const struct wp_run *run, const struct owner *own,
                     bool samples, char *err, size_t cap)
{
    json_t *j = wp_run_json_stored(run); /* what readers recompute is not stored */
    char *text = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    struct wp_ledger_row row;
    int rc;

    if (!text) {
        json_decref(j);
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    if (wp_ledger_exec(l, "BEGIN IMMEDIATE", err, cap)) {
        json_decref(j);
        free(text);
        return -EIO;
    }
    wp_ledger_row_of_run(run, &row);
    wp_ledger_row_export(j, &row); /* the export's members as the document has them */
    rc = upsert(l, &row, text, UPSERT, own, err, cap);
    if (rc == 0 && samples)
        rc = write_samples(l, run, err, cap);
    json_decref(j);
    free(text);
    if (rc == 0 && wp_ledger_exec(l, "COMMIT", err, cap) == 0)
        return 0;
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return -EIO;
}

int wp_sq_insert_row(struct wp_ledger *l, const struct wp_ledger_row *row, const char *run_json,
                     char *err, size_t cap)
{
    return upsert(l, row, run_json, INSERT_ONLY, NULL, err, cap);
}
