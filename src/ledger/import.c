/* wattprint import OTHER.db into a SQLite ledger: the other file attached
 * and its rows copied in one INSERT ... SELECT, whatever its schema. */
#define _GNU_SOURCE
#include "ledger_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Counts src's runs that main does not hold (before the copy: the ones the
 * copy adds rather than replaces). */
static long new_ids(struct wp_ledger *l)
{
    sqlite3_stmt *st;
    long n = -1;

    if (sqlite3_prepare_v2(
            l->db, "SELECT count(*) FROM src.runs WHERE id NOT IN (SELECT id FROM main.runs)", -1,
            &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}

/* The attached src's runs, tags and samples copied into main in one
 * transaction (version: src's schema). Returns the runs added, with those
 * replaced in *replaced, or -1 with err (nothing copied). */
static long copy_attached(struct wp_ledger *l, int version, long *replaced, char *err, size_t cap)
{
    /* a replaced run takes the samples of its later state; tags are its own
     * (a document packed or not: the same run state packs the same bytes) */
    static const char copy_rest[] =
        "INSERT OR IGNORE INTO main.tags SELECT * FROM src.tags;"
        "INSERT OR REPLACE INTO main.samples SELECT s.* FROM src.samples s"
        " JOIN src.runs r ON r.id = s.run_id JOIN main.runs m ON m.id = s.run_id"
        " WHERE m.result = r.result AND m.doc IS r.doc;",
                      copy_rest_1[] = /* from a schema-1 ledger: no packed documents */
                      "INSERT OR IGNORE INTO main.tags SELECT * FROM src.tags;"
                      "INSERT OR REPLACE INTO main.samples SELECT s.* FROM src.samples s"
                      " JOIN src.runs r ON r.id = s.run_id JOIN main.runs m ON m.id = s.run_id"
                      " WHERE m.result = r.result AND m.doc IS NULL;";
    long added = -1;

    /* the copy reads each source page once: a small cache keeps an import of
     * any size within a few tens of MB (spilled pages go to the journal) */
    sqlite3_exec(l->db, "PRAGMA cache_size = -16384", NULL, NULL, NULL);
    if (wp_ledger_exec(l, "BEGIN IMMEDIATE", err, cap))
        goto out;
    {
        /* "WHERE true": SQLite's upsert after a SELECT needs it to parse */
#define WP_IMPORT_ROWS(cols)                                                                       \
    "INSERT INTO main.runs SELECT " cols " FROM src.runs WHERE true ON CONFLICT(id) DO UPDATE SET" \
    " status = excluded.status, end_s = excluded.end_s, duration_s = excluded.duration_s,"         \
    " energy_j = excluded.energy_j, facility_energy_j = excluded.facility_energy_j,"               \
    " emissions_g = excluded.emissions_g, device_hours = excluded.device_hours,"                   \
    " checkpoint_s = excluded.checkpoint_s, result = excluded.result, doc = excluded.doc,"         \
    " water_l = excluded.water_l, water_offsite_l = excluded.water_offsite_l,"                     \
    " embodied_g = excluded.embodied_g, pid = excluded.pid, proc_start = excluded.proc_start,"     \
    " boot_id = excluded.boot_id, exit_code = excluded.exit_code, cpu_j = excluded.cpu_j,"         \
    " dram_j = excluded.dram_j, gpu_j = excluded.gpu_j, psys_j = excluded.psys_j,"                 \
    " pue = excluded.pue, intensity_g_per_kwh = excluded.intensity_g_per_kwh,"                     \
    " method = excluded.method, region = excluded.region, start_text = excluded.start_text,"       \
    " end_text = excluded.end_text, command_line = excluded.command_line, gpus = excluded.gpus,"   \
    " gpu_model = excluded.gpu_model, shared = excluded.shared WHERE " WP_LEDGER_NEWER
/* the columns every schema has; a run's owner only while it runs (as a
 * finished run's own write leaves it) */
#define WP_IMPORT_HEAD                                                                             \
    "id, status, start_s, end_s, duration_s, host, user, project, experiment, job, energy_j,"      \
    " facility_energy_j, emissions_g, device_hours, iif(status = 'running', pid, NULL),"           \
    " iif(status = 'running', proc_start, NULL), iif(status = 'running', boot_id, NULL),"          \
    " checkpoint_s, result"
/* an older ledger left as it is (read-only): the footprint from the document */
#define WP_IMPORT_FOOTPRINT(doc)                                                                   \
    ", json_extract(" doc ", '$.carbon.water_l'), json_extract(" doc                               \
    ", '$.carbon.water_offsite_l'), json_extract(" doc ", '$.embodied_emissions_g')"
/* before schema 5: the export's columns (before 4), or the GPUs' (4), filled
 * after (wp_ledger_fill_export) */
#define WP_IMPORT_NO_GPUS ", NULL, NULL, NULL"
#define WP_IMPORT_NO_EXPORT                                                                        \
    ", NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL" WP_IMPORT_NO_GPUS
        static const char sql5[] = WP_IMPORT_ROWS(
            WP_IMPORT_HEAD ", doc, water_l, water_offsite_l, embodied_g, " WP_LEDGER_X_COLUMNS),
                          sql4[] = WP_IMPORT_ROWS(
                              WP_IMPORT_HEAD
                              ", doc, water_l, water_offsite_l, embodied_g, exit_code, cpu_j, "
                              "dram_j, gpu_j, psys_j, pue, intensity_g_per_kwh, method, region, "
                              "start_text, end_text, command_line" WP_IMPORT_NO_GPUS),
                          sql3[] = WP_IMPORT_ROWS(
                              WP_IMPORT_HEAD
                              ", doc, water_l, water_offsite_l, embodied_g" WP_IMPORT_NO_EXPORT),
                          sql2[] = WP_IMPORT_ROWS(WP_IMPORT_HEAD ", doc" WP_IMPORT_FOOTPRINT(
                              "wp_doc(result, doc, id)") WP_IMPORT_NO_EXPORT),
                          sql1[] = WP_IMPORT_ROWS(WP_IMPORT_HEAD ", NULL" WP_IMPORT_FOOTPRINT(
                              "result") WP_IMPORT_NO_EXPORT);
        const char *sql = version == 1   ? sql1
                          : version == 2 ? sql2
                          : version == 3 ? sql3
                          : version == 4 ? sql4
                                         : sql5;
        sqlite3_stmt *ins = NULL;
        long fresh = new_ids(l);
        if (fresh < 0 || sqlite3_prepare_v2(l->db, sql, -1, &ins, NULL) != SQLITE_OK ||
            sqlite3_step(ins) != SQLITE_DONE) {
            sqlite3_finalize(ins);
            wp_ledger_fail(l, err, cap);
            sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
            goto out;
        }
        /* the rows this statement inserted or updated (total_changes would
         * count the triggers' and cascades' too: "-400 already here") */
        added = fresh;
        *replaced = sqlite3_changes(l->db) - fresh;
        sqlite3_finalize(ins);
    }
    if (wp_ledger_exec(l, version == 1 ? copy_rest_1 : copy_rest, err, cap) ||
        (version < 5 && wp_ledger_exec(l, WP_LEDGER_FILL_GPUS, err, cap)) ||
        (version < 4 && wp_ledger_fill_export(l, err, cap)) ||
        wp_ledger_exec(l, "COMMIT", err, cap)) {
        sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
        added = -1;
    }
out:
    sqlite3_exec(l->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    return added;
}

long wp_sq_import(struct wp_ledger *l, const char *other, long *skipped, long *replaced, char *err,
                  size_t cap)
{
    int main_version = 0;
    struct wp_ledger *src;
    sqlite3_stmt *st;
    long total = 0, added = -1;
    int version = 0;

    *skipped = 0;
    if (strcmp(other, l->path) == 0) {
        snprintf(err, cap, "cannot import a ledger into itself");
        return -EINVAL;
    }
    /* Validated (and brought to this schema) by the same code as any ledger. */
    if (wp_ledger_open(other, WP_LEDGER_READ, &src, err, cap))
        return -EIO;
    if (sqlite3_prepare_v2(src->db, "SELECT count(*) FROM runs", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        total = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(src->db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    wp_ledger_close(src);

    /* Copy row for row: runs keep their ids and nothing is re-serialised. */
    if (sqlite3_prepare_v2(l->db, "ATTACH DATABASE ? AS src", -1, &st, NULL) != SQLITE_OK) {
        wp_ledger_fail(l, err, cap);
        return -EIO;
    }
    sqlite3_bind_text(st, 1, other, -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_DONE) {
        sqlite3_finalize(st);
        wp_ledger_fail(l, err, cap);
        return -EIO;
    }
    sqlite3_finalize(st);
    if (sqlite3_prepare_v2(l->db, "PRAGMA main.user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        main_version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    /* an older ledger left as it is (read-only) lacks the newer columns: the
     * copy makes them (copy_attached) */
    if (main_version != version && !(version >= 1 && version < main_version)) {
        snprintf(err, cap, "%s has schema %d, this ledger %d", other, version, main_version);
        goto detach;
    }
    added = copy_attached(l, version, replaced, err, cap);
    *skipped = added >= 0 ? total - added - *replaced : 0;
    if (added < 0)
        *replaced = 0;
detach:
    sqlite3_exec(l->db, "DETACH DATABASE src", NULL, NULL, NULL);
    return added;
}
