/* The members an export reads, kept in columns beside the packed document:
 * a CSV of a million runs reads them as SQLite stores them, where reading
 * each document would inflate and parse it (docs/ledger.md). One table
 * names each member, its column and how it is written; the writers, the
 * migration that fills older rows and the walk read it. */
#include "ledger_int.h"
#include "pack.h"

#include "../run/run.h"
#include "../run/run_doc.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members in struct wp_ledger_export's order: its numbers, then its
 * texts, then the command. */
static const char *const export_paths[WP_LEDGER_X_NUMS + WP_LEDGER_X_TEXTS + 1] = {
    "exit_code",
    "energy.cpu_j",
    "energy.dram_j",
    "energy.gpu_j",
    "energy.psys_j",
    "pue",
    "carbon.intensity_g_per_kwh",
    "method",
    "carbon.region",
    "start",
    "end",
    "command"};

/* A member taken out of the unpacked document by SQLite, never parsed
 * whole: a string comes as text, a number as a number, an object or an
 * array as its JSON text, null or absent as NULL. */
#define DOC_MEMBER(path) "json_extract(wp_doc(r.result, r.doc, r.id), '$." path "')"

/* Every member a values walk can read: its column, or an expression of the
 * columns; the kind a value must be. The columns of WP_LEDGER_X_COLUMNS come
 * in export_paths' order. */
static const struct {
    const char *path, *sql;
    char kind; /* 'n' number, 't' text, 'j' JSON text read from the document,
                  'b' a boolean of the document (its JSON type),
                  'd' a number and 'o' a text (or none) of the row's own (not a
                  member of the document) */
} members[] = {
    {"run_id", "r.id", 't'},
    {"status", "r.status", 't'},
    {"duration_s", "r.duration_s", 'n'},
    {"host", "r.host", 't'},
    {"user", "r.user", 't'},
    {"project", "r.project", 't'},
    {"experiment", "r.experiment", 't'},
    {"job", "r.job", 't'},
    {"energy.total_j", "r.energy_j", 'n'},
    {"facility_energy_j", "r.facility_energy_j", 'n'},
    {"carbon.emissions_g", "r.emissions_g", 'n'},
    {"exit_code", "r.exit_code", 'n'},
    {"energy.cpu_j", "r.cpu_j", 'n'},
    {"energy.dram_j", "r.dram_j", 'n'},
    {"energy.gpu_j", "r.gpu_j", 'n'},
    {"energy.psys_j", "r.psys_j", 'n'},
    {"pue", "r.pue", 'n'},
    {"carbon.intensity_g_per_kwh", "r.intensity_g_per_kwh", 'n'},
    {"method", "r.method", 't'},
    {"carbon.region", "r.region", 't'},
    /* NULL: the text start_s and end_s write (wp_iso8601) */
    {"start", "r.start_text", 't'},
    {"end", "r.end_text", 't'},
    {"command", "r.command_line", 't'},
    /* the footprint's columns, and what a report's totals read besides */
    {"carbon.water_l", "r.water_l", 'n'},
    {"carbon.water_offsite_l", "r.water_offsite_l", 'n'},
    {"embodied_emissions_g", "r.embodied_g", 'n'},
    {"device_hours", "r.device_hours", 'd'},
    /* what CodeCarbon's row reads of the channels (wp_ledger_export) */
    {"gpus", "r.gpus", 'd'},
    {"gpu_model", "r.gpu_model", 'o'},
    {"shared", "r.shared", 'd'},
    /* the one a report needs from the document: unpacked, not parsed whole */
    {"energy.total_range_j", DOC_MEMBER("energy.total_range_j"), 'j'},
    /* and CodeCarbon's row, the machine and the grid's name: one document
     * unpacked for all of them (wp_doc keeps the last it gave) */
    {"machine.cpu_model", DOC_MEMBER("machine.cpu_model"), 't'},
    {"machine.cpu_count", DOC_MEMBER("machine.cpu_count"), 'n'},
    {"machine.ram_total_gib", DOC_MEMBER("machine.ram_total_gib"), 'n'},
    {"machine.os", DOC_MEMBER("machine.os"), 't'},
    {"carbon.region_name", DOC_MEMBER("carbon.region_name"), 't'},
    {"carbon.wue_l_per_kwh", DOC_MEMBER("carbon.wue_l_per_kwh"), 'n'},
    {"carbon.assumed", "json_type(wp_doc(r.result, r.doc, r.id), '$.carbon.assumed')", 'b'},
    {"codecarbon", DOC_MEMBER("codecarbon"), 'j'},
};
#define N_MEMBERS (sizeof members / sizeof *members)

static int member_index(const char *path)
{
    for (size_t i = 0; i < N_MEMBERS; i++)
        if (strcmp(members[i].path, path) == 0)
            return (int)i;
    return -1;
}

bool wp_ledger_values_path_ok(const char *path)
{
    return member_index(path) >= 0;
}

const char *wp_ledger_values_sql(const char *path)
{
    int i = member_index(path);
    return i < 0 ? NULL : members[i].sql;
}

char wp_ledger_values_kind(const char *path)
{
    int i = member_index(path);
    return i < 0 ? 0 : members[i].kind;
}

static const char *text_if(json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A member by its path ("carbon.region"), NULL where absent. */
json_t *wp_ledger_member(json_t *run, const char *path)
{
    const char *dot = strchr(path, '.');
    char head[32];

    if (!dot)
        return json_object_get(run, path);
    snprintf(head, sizeof head, "%.*s", (int)(dot - path), path);
    return json_object_get(json_object_get(run, head), dot + 1);
}

/* The document's time where its column would not write the same text
 * (wp_iso8601, as the values walk writes it; every run wattprint records
 * writes both from one clock reading, so the column stays NULL). */
static const char *time_unless_same(json_t *v, bool has, double epoch_s)
{
    char same[32];

    if (!json_is_string(v))
        return NULL; /* none: the column's time stands in (a running run's end: missing) */
    wp_iso8601(epoch_s, same, sizeof same);
    return has && strcmp(same, json_string_value(v)) == 0 ? NULL : json_string_value(v);
}

void wp_ledger_row_export(json_t *run, struct wp_ledger_row *row)
{
    struct wp_ledger_export *x = &row->x;
    json_t *v;

    memset(x, 0, sizeof *x);
    for (int i = 0; i < WP_LEDGER_X_NUMS; i++) {
        v = wp_ledger_member(run, export_paths[i]);
        x->has[i] = json_is_number(v);
        x->num[i] = x->has[i] ? json_number_value(v) : 0;
    }
    x->text[0] = text_if(wp_ledger_member(run, export_paths[WP_LEDGER_X_NUMS]));
    x->text[1] = text_if(wp_ledger_member(run, export_paths[WP_LEDGER_X_NUMS + 1]));
    x->text[2] = time_unless_same(json_object_get(run, "start"), true, row->start_s);
    x->text[3] = time_unless_same(json_object_get(run, "end"), strcmp(row->status, "running") != 0,
                                  row->start_s + row->duration_s);
    if (json_is_array(json_object_get(run, "command")))
        wp_command_text(json_object_get(run, "command"), x->command_line, sizeof x->command_line);
    x->gpus = wp_run_json_gpus(run, &x->gpu_model);
    if (x->gpus == 0)
        x->gpu_model = NULL;
    x->shared = wp_run_json_shared(run);
}

void wp_ledger_bind_export(sqlite3_stmt *st, int first, const struct wp_ledger_export *x)
{
    for (int i = 0; i < WP_LEDGER_X_NUMS; i++)
        if (x->has[i])
            sqlite3_bind_double(st, first + i, x->num[i]);
        else
            sqlite3_bind_null(st, first + i);
    for (int i = 0; i < WP_LEDGER_X_TEXTS; i++)
        if (x->text[i])
            sqlite3_bind_text(st, first + WP_LEDGER_X_NUMS + i, x->text[i], -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(st, first + WP_LEDGER_X_NUMS + i);
    if (x->command_line[0])
        sqlite3_bind_text(st, first + WP_LEDGER_X_NUMS + WP_LEDGER_X_TEXTS, x->command_line, -1,
                          SQLITE_STATIC);
    else
        sqlite3_bind_null(st, first + WP_LEDGER_X_NUMS + WP_LEDGER_X_TEXTS);
    first += WP_LEDGER_X_NUMS + WP_LEDGER_X_TEXTS + 1;
    sqlite3_bind_int(st, first, x->gpus);
    if (x->gpu_model)
        sqlite3_bind_text(st, first + 1, x->gpu_model, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, first + 1);
    sqlite3_bind_int(st, first + 2, x->shared);
}

/* A stored document's text (malloc'd), or NULL where it cannot be read. */
static char *doc_text(sqlite3_stmt *st)
{
    char *text = NULL, err[128];
    size_t len;

    if (sqlite3_column_type(st, 1) == SQLITE_BLOB)
        return wp_ledger_unpack_run(sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1),
                                    (const char *)sqlite3_column_text(st, 2), &text, &len, err,
                                    sizeof err) == 0
                   ? text
                   : NULL;
    return sqlite3_column_text(st, 0) ? strdup((const char *)sqlite3_column_text(st, 0)) : NULL;
}

/* The rows whose columns predate them (a ledger migrated from schema 3, or
 * runs copied from one): each document read once, its members written to
 * the columns. A document that cannot be read leaves them NULL: a reader
 * names that run. The caller holds a transaction. */
int wp_ledger_fill_export(struct wp_ledger *l, char *err, size_t cap)
{
    sqlite3_stmt *st = NULL, *up = NULL;
    int rc = SQLITE_OK;

    if (sqlite3_prepare_v2(l->db,
                           "SELECT result, doc, id, status, start_s, duration_s FROM runs "
                           "WHERE cpu_j IS NULL",
                           -1, &st, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(l->db,
                           "UPDATE runs SET (" WP_LEDGER_X_COLUMNS
                           ") = (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) WHERE id = ?16",
                           -1, &up, NULL) != SQLITE_OK) {
        snprintf(err, cap, "%s: %s", l->path, sqlite3_errmsg(l->db));
        sqlite3_finalize(st);
        return -EIO;
    }
    /* an updated row no longer matches: the scan meets each at most once */
    while (rc != SQLITE_ERROR && sqlite3_step(st) == SQLITE_ROW) {
        char *text = doc_text(st);
        json_t *run = text ? json_loads(text, 0, NULL) : NULL;
        struct wp_ledger_row row = {.status = (const char *)sqlite3_column_text(st, 3),
                                    .start_s = sqlite3_column_double(st, 4),
                                    .duration_s = sqlite3_column_double(st, 5)};
        if (json_is_object(run) && row.status) {
            wp_ledger_row_export(run, &row);
            wp_ledger_bind_export(up, 1, &row.x);
            sqlite3_bind_text(up, 16, (const char *)sqlite3_column_text(st, 2), -1,
                              SQLITE_TRANSIENT);
            rc = sqlite3_step(up) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(up);
        }
        json_decref(run);
        free(text);
    }
    if (rc != SQLITE_ERROR && sqlite3_reset(st) != SQLITE_OK) /* the scan's own error */
        rc = SQLITE_ERROR;
    if (rc == SQLITE_ERROR)
        snprintf(err, cap, "%s: %s", l->path, sqlite3_errmsg(l->db));
    sqlite3_finalize(st);
    sqlite3_finalize(up);
    return rc == SQLITE_ERROR ? -EIO : 0;
}
