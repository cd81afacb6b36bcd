/* Recording runs: one upsert from the run JSON serves the start, the
 * checkpoints, the end, imports and the benchmark alike. */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static double num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

/* "2026-11-22T10:00:00Z" -> seconds since the epoch; -1 if malformed. */
static double parse_time(const char *iso)
{
    struct tm tm = {0};
    const char *end;

    if (!iso || !(end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) || (*end && *end != 'Z'))
        return -1;
    return (double)timegm(&tm);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

enum upsert_mode { UPSERT, INSERT_ONLY };

struct owner {
    long pid;
    const char *proc_start, *boot_id;
};

static int fail(struct wp_ledger *l, char *err, size_t cap)
{
    snprintf(err, cap, "%s: %s", l->path, sqlite3_errmsg(l->db));
    return -1;
}

/* Writes one run (and, for a new row, its tags). Returns 0 written, 1 skipped
 * (INSERT_ONLY and the id exists), -1 on error. Caller holds a transaction. */
static int upsert(struct wp_ledger *l, json_t *run, enum upsert_mode mode, const struct owner *own,
                  char *err, size_t cap)
{
    static const char *const sql_upsert =
        "INSERT INTO runs (id, status, start_s, end_s, duration_s, host, user, project,"
        " experiment, job, energy_j, facility_energy_j, emissions_g, device_hours, pid,"
        " proc_start, boot_id, checkpoint_s, result)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
        " ON CONFLICT(id) DO UPDATE SET status = excluded.status, end_s = excluded.end_s,"
        " duration_s = excluded.duration_s, energy_j = excluded.energy_j,"
        " facility_energy_j = excluded.facility_energy_j, emissions_g = excluded.emissions_g,"
        " device_hours = excluded.device_hours, checkpoint_s = excluded.checkpoint_s,"
        " result = excluded.result";
    static const char *const sql_insert =
        "INSERT INTO runs (id, status, start_s, end_s, duration_s, host, user, project,"
        " experiment, job, energy_j, facility_energy_j, emissions_g, device_hours, pid,"
        " proc_start, boot_id, checkpoint_s, result)"
        " VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)"
        " ON CONFLICT(id) DO NOTHING";
    const char *id = str(run, "run_id"), *status = str(run, "status");
    json_t *energy = json_object_get(run, "energy"), *carbon = json_object_get(run, "carbon");
    json_t *channels = json_object_get(run, "channels"), *tags = json_object_get(run, "tags");
    double start = parse_time(str(run, "start")), duration = num(run, "duration_s");
    int n_gpu = 0, rc;
    size_t i;
    json_t *ch;
    sqlite3_stmt *st;
    char *text;

    if (!id || strlen(id) < 8 || !status || start < 0) {
        snprintf(err, cap, "a run without a valid run_id, status or start");
        return -1;
    }
    json_array_foreach(channels, i, ch)
    {
        const char *comp = str(ch, "component");
        n_gpu += comp && strcmp(comp, "gpu") == 0;
    }
    text = json_dumps(run, JSON_COMPACT | JSON_REAL_PRECISION(10));
    if (!text) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (sqlite3_prepare_v2(l->db, mode == UPSERT ? sql_upsert : sql_insert, -1, &st, NULL) !=
        SQLITE_OK) {
        free(text);
        return fail(l, err, cap);
    }
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_double(st, 3, start);
    if (strcmp(status, "running") == 0)
        sqlite3_bind_null(st, 4);
    else
        sqlite3_bind_double(st, 4, start + duration);
    sqlite3_bind_double(st, 5, duration);
    bind_text(st, 6, str(run, "host") ? str(run, "host") : "");
    bind_text(st, 7, str(run, "user") ? str(run, "user") : "");
    bind_text(st, 8, str(run, "project"));
    bind_text(st, 9, str(run, "experiment"));
    bind_text(st, 10, str(run, "job"));
    sqlite3_bind_double(st, 11, num(energy, "total_j"));
    sqlite3_bind_double(st, 12, num(run, "facility_energy_j"));
    sqlite3_bind_double(st, 13, num(carbon, "emissions_g"));
    sqlite3_bind_double(st, 14, duration / 3600.0 * (n_gpu > 0 ? n_gpu : 1));
    if (own) {
        sqlite3_bind_int64(st, 15, own->pid);
        bind_text(st, 16, own->proc_start);
        bind_text(st, 17, own->boot_id);
        sqlite3_bind_double(st, 18, start + duration);
    } else {
        for (int k = 15; k <= 17; k++)
            sqlite3_bind_null(st, k);
        sqlite3_bind_double(st, 18, start + duration);
    }
    sqlite3_bind_text(st, 19, text, -1, free);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return fail(l, err, cap);
    if (mode == INSERT_ONLY && sqlite3_changes(l->db) == 0)
        return 1;
    if (json_object_size(tags) > 0 && (mode == INSERT_ONLY || own)) {
        const char *key;
        json_t *v;
        if (sqlite3_prepare_v2(l->db,
                               "INSERT OR REPLACE INTO tags (run_id, key, value) VALUES (?,?,?)",
                               -1, &st, NULL) != SQLITE_OK)
            return fail(l, err, cap);
        json_object_foreach(tags, key, v)
        {
            sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
            bind_text(st, 3, json_is_string(v) ? json_string_value(v) : "");
            if (sqlite3_step(st) != SQLITE_DONE) {
                sqlite3_finalize(st);
                return fail(l, err, cap);
            }
            sqlite3_reset(st);
        }
        sqlite3_finalize(st);
    }
    return 0;
}

static int write_run(struct wp_ledger *l, const struct wp_run *run, const struct owner *own,
                     bool samples, char *err, size_t cap);

int wp_ledger_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    char started[64] = "", boot[64];
    struct owner own = {(long)getpid(), started, boot};

    wp_proc_start((long)getpid(), started, sizeof started);
    wp_boot_id(boot, sizeof boot);
    return write_run(l, run, &own, false, err, cap);
}

int wp_ledger_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return write_run(l, run, NULL, false, err, cap);
}

int wp_ledger_finish(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return write_run(l, run, NULL, true, err, cap);
}

/* The meter's stored samples as one row: device names, and packed doubles. */
static int write_samples(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    struct wp_meter *m = run->meter;
    int n_ch = wp_meter_n_channels(m), n = wp_meter_n_samples(m);
    size_t per = (size_t)n_ch + 1;
    double *data = malloc(sizeof *data * per * (size_t)(n > 0 ? n : 1));
    json_t *names = json_array();
    sqlite3_stmt *st;
    char *names_text;
    int rc;

    if (!data || !names) {
        free(data);
        json_decref(names);
        snprintf(err, cap, "out of memory");
        return -1;
    }
    for (int c = 0; c < n_ch; c++)
        json_array_append_new(names, json_string(wp_meter_channel(m, c)->device));
    for (int k = 0; k < n; k++)
        wp_meter_get_sample(m, k, &data[(size_t)k * per], &data[(size_t)k * per + 1]);
    names_text = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    if (sqlite3_prepare_v2(l->db,
                           "INSERT OR REPLACE INTO samples (run_id, channels, data) VALUES (?,?,?)",
                           -1, &st, NULL) != SQLITE_OK) {
        free(data);
        free(names_text);
        return fail(l, err, cap);
    }
    sqlite3_bind_text(st, 1, run->run_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, names_text ? names_text : "[]", -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(st, 3, data, (int)(sizeof *data * per * (size_t)n), SQLITE_TRANSIENT);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    free(data);
    free(names_text);
    return rc == SQLITE_DONE ? 0 : fail(l, err, cap);
}

static int write_run(struct wp_ledger *l, const struct wp_run *run, const struct owner *own,
                     bool samples, char *err, size_t cap)
{
    json_t *j = wp_run_json(run);
    int rc;

    if (!j) {
        snprintf(err, cap, "out of memory");
        return -1;
    }
    if (wp_ledger_exec(l, "BEGIN IMMEDIATE", err, cap)) {
        json_decref(j);
        return -1;
    }
    rc = upsert(l, j, UPSERT, own, err, cap);
    if (rc == 0 && samples)
        rc = write_samples(l, run, err, cap);
    json_decref(j);
    if (rc == 0 && wp_ledger_exec(l, "COMMIT", err, cap) == 0)
        return 0;
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return -1;
}

int wp_ledger_insert_json(struct wp_ledger *l, json_t *run, char *err, size_t cap)
{
    return upsert(l, run, INSERT_ONLY, NULL, err, cap);
}
