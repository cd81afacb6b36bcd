/* Reading the ledger: listing, one run, walks, rollups and removal (import.c
 * copies another ledger in). */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/util.h"
#include "../util/jput.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Builds " WHERE ..." for q into sql, binding values later in order. */
struct where {
    char sql[2048];
    const char *text[8 + WP_MAX_TAGS * 2];
    int n_text;
    double since;
};

static void add(struct where *w, const char *clause)
{
    size_t o = strlen(w->sql);
    snprintf(w->sql + o, sizeof w->sql - o, "%s%s", o ? " AND " : " WHERE ", clause);
}

static void build_where(const struct wp_query *q, struct where *w)
{
    memset(w, 0, sizeof *w);
    if (!q)
        return;
    if (q->project) {
        add(w, "r.project = ?");
        w->text[w->n_text++] = q->project;
    }
    if (q->experiment) {
        add(w, "r.experiment = ?");
        w->text[w->n_text++] = q->experiment;
    }
    if (q->job) {
        add(w, "r.job = ?");
        w->text[w->n_text++] = q->job;
    }
    for (int i = 0; i < q->n_tags; i++) {
        add(w, "EXISTS (SELECT 1 FROM tags t WHERE t.run_id = r.id AND t.key = ? AND t.value = ?)");
        w->text[w->n_text++] = q->tags[i].key;
        w->text[w->n_text++] = q->tags[i].value;
    }
    if (q->since_s > 0) {
        add(w, "r.start_s >= ?");
        w->since = q->since_s;
    }
}

static int bind_where(sqlite3_stmt *st, const struct where *w, int first)
{
    int i = first;
    for (int k = 0; k < w->n_text; k++)
        sqlite3_bind_text(st, i++, w->text[k], -1, SQLITE_STATIC);
    if (w->since > 0)
        sqlite3_bind_double(st, i++, w->since);
    return i;
}

/* The samples' channels: as stored by earlier versions, else ('') the
 * run's channels' devices in order (record.c's write_samples). */
static json_t *sample_channels(json_t *run, const char *stored)
{
    json_t *names, *ch;
    size_t i;
    int bad = 0;

    if (stored && *stored)
        return json_loads(stored, 0, NULL);
    names = json_array();
    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
        wp_jpush(&bad, names, json_string(wp_json_str(ch, WPF_DEVICE)));
    return wp_jdone(bad, names);
}

/* Adds the stored samples to a run object: "samples": {"channels": [...],
 * "t_s": [...], "energy_j": [[...], ...]}. Returns 0, or a negative errno with err. */
static int attach_samples(struct wp_ledger *l, json_t *run, const char *id, char *err, size_t cap)
{
    sqlite3_stmt *st;
    int bad = 0;

    if (sqlite3_prepare_v2(l->db, "SELECT channels, data FROM samples WHERE run_id = ?", -1, &st,
                           NULL) != SQLITE_OK)
        return wp_ledger_fail(l, err, cap);
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (sqlite3_step(st) == SQLITE_ROW) {
        json_t *names = sample_channels(run, (const char *)sqlite3_column_text(st, 0));
        const double *d = sqlite3_column_blob(st, 1);
        size_t bytes = (size_t)sqlite3_column_bytes(st, 1), n_ch = json_array_size(names);
        size_t per = n_ch + 1, n = bytes / sizeof(double) / per;
        json_t *t = json_array(), *e = json_array();
        for (size_t k = 0; d && k < n; k++) {
            json_t *row = json_array();
            wp_jpush(&bad, t, json_real(d[k * per]));
            for (size_t c = 0; c < n_ch; c++)
                wp_jpush(&bad, row, json_real(d[k * per + 1 + c]));
            wp_jpush(&bad, e, row);
        }
        wp_jput(&bad, run, "samples",
                json_pack("{s:o, s:o, s:o}", "channels", names ? names : json_array(), "t_s", t,
                          "energy_j", e));
    }
    sqlite3_finalize(st);
    if (bad)
        snprintf(err, cap, "out of memory reading the samples of run %s", id);
    return bad ? -ENOMEM : 0;
}

static json_t *rows_to_json(struct wp_ledger *l, sqlite3_stmt *st, bool with_samples, char *err,
                            size_t cap)
{
    json_t *arr = json_array();
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *run = wp_ledger_run_of_text((const char *)sqlite3_column_text(st, 0),
                                            (const char *)sqlite3_column_text(st, 1), err, cap);
        if (!run) {
            json_decref(arr);
            return NULL;
        }
        if (with_samples &&
            attach_samples(l, run, (const char *)sqlite3_column_text(st, 1), err, cap) != 0) {
            json_decref(run);
            json_decref(arr);
            return NULL;
        }
        if (json_array_append_new(arr, run) != 0) {
            snprintf(err, cap, "out of memory reading the ledger");
            json_decref(arr);
            return NULL;
        }
    }
    if (rc != SQLITE_DONE) {
        wp_ledger_fail(l, err, cap);
        json_decref(arr);
        return NULL;
    }
    return arr;
}

json_t *wp_sq_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                   size_t cap)
{
    struct where w;
    char sql[4096];
    sqlite3_stmt *st;
    json_t *arr;
    int i;

    build_where(q, &w);
    snprintf(
        sql, sizeof sql,
        "SELECT wp_doc(r.result, r.doc, r.id), r.id FROM runs r%s ORDER BY r.start_s DESC, r.id "
        "DESC%s",
        w.sql, q && q->limit > 0 ? " LIMIT ?" : "");
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        wp_ledger_fail(l, err, cap);
        return NULL;
    }
    i = bind_where(st, &w, 1);
    if (q && q->limit > 0)
        sqlite3_bind_int64(st, i, q->limit);
    arr = rows_to_json(l, st, with_samples, err, cap);
    sqlite3_finalize(st);
    return arr;
}

/* A walk's statement: cols (among them r.id and r.start_s) of q's runs in
 * flags' order, bound. A walk reads each page once: a small cache, so
 * memory stays flat (walk_end gives back the 64 MiB one, for rollups and
 * imports, which come back to pages). NULL with err. */
static sqlite3_stmt *walk_start(struct wp_ledger *l, const struct wp_query *q, const char *cols,
                                unsigned flags, char *err, size_t cap)
{
    struct where w;
    char inner[4096], sql[6144];
    sqlite3_stmt *st;
    int i;

    sqlite3_exec(l->db, "PRAGMA cache_size = -2048", NULL, NULL, NULL);
    build_where(q, &w);
    snprintf(inner, sizeof inner, "SELECT %s FROM runs r%s", cols, w.sql);
    wp_ledger_walk_order(sql, sizeof sql, inner, q && q->limit > 0 ? "?" : "", flags);
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        wp_ledger_fail(l, err, cap);
        sqlite3_exec(l->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
        return NULL;
    }
    i = bind_where(st, &w, 1);
    if (q && q->limit > 0)
        sqlite3_bind_int64(st, i, q->limit);
    return st;
}

/* The walk's end: stop, or SQLite's error where the steps ended on one. */
static int walk_end(struct wp_ledger *l, sqlite3_stmt *st, int stop, int rc, char *err, size_t cap)
{
    if (!stop && rc != SQLITE_DONE)
        stop = wp_ledger_fail(l, err, cap);
    sqlite3_finalize(st);
    sqlite3_exec(l->db, "PRAGMA cache_size = -65536", NULL, NULL, NULL);
    return stop;
}

/* The walk of wp_sq_each: col is the first column's expression. */
static int walk(struct wp_ledger *l, const struct wp_query *q, const char *col, unsigned flags,
                wp_ledger_each_fn fn, void *arg, char *err, size_t cap)
{
    char cols[256];
    sqlite3_stmt *st;
    int rc = SQLITE_DONE, stop = 0;

    snprintf(cols, sizeof cols, "%s AS result, r.id, r.start_s", col);
    if (!(st = walk_start(l, q, cols, flags, err, cap)))
        return -EIO;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *text = (const char *)sqlite3_column_text(st, 0),
                   *id = (const char *)sqlite3_column_text(st, 1);
        json_t *run = flags & WP_EACH_STORED ? wp_ledger_stored_run_of_text(text, id, err, cap)
                                             : wp_ledger_run_of_text(text, id, err, cap);
        if (!run) {
            stop = -EINVAL;
            break;
        }
        stop = fn(run, arg);
        json_decref(run);
    }
    return walk_end(l, st, stop, rc, err, cap);
}

int wp_sq_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags, wp_ledger_each_fn fn,
               void *arg, char *err, size_t cap)
{
    return walk(l, q, "wp_doc(r.result, r.doc, r.id)", flags, fn, arg, err, cap);
}

/* One row's values, each checked against the member's rule (kinds[i]:
 * the member's kind, columns.c); the texts point into st's row (valid
 * until the next step). Returns 0 or -EINVAL with err. */
static int row_values(sqlite3_stmt *st, const char *const *paths, const char *kinds, int n,
                      const struct wp_run_doc_rule *const *rules, struct wp_ledger_value *v,
                      char times[2][32], char *err, size_t cap)
{
    const char *id = (const char *)sqlite3_column_text(st, n + 2);

    for (int i = 0; i < n; i++) {
        int type = sqlite3_column_type(st, i), at = kinds[i] == 's' ? 0 : kinds[i] == 'e' ? 1 : -1;
        bool num = kinds[i] == 'n' || kinds[i] == 'd';
        /* a boolean comes as its JSON type's name: "true", "false", "null" */
        const char *text = type == SQLITE_TEXT ? (const char *)sqlite3_column_text(st, i) : NULL;
        int flag = kinds[i] != 'b' || !text     ? -1
                   : strcmp(text, "true") == 0  ? 1
                   : strcmp(text, "false") == 0 ? 0
                   : strcmp(text, "null") == 0  ? 2
                                                : -1;
        if (type == SQLITE_NULL && at >= 0 && sqlite3_column_type(st, n + at) != SQLITE_NULL) {
            /* the time its column writes: the document's own text (columns.c) */
            wp_iso8601(sqlite3_column_double(st, n + at), times[at], sizeof times[at]);
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = times[at]};
        } else if (type == SQLITE_NULL || flag == 2) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_NONE};
            if (kinds[i] == 'd') { /* set by every writer: the migration could not read it */
                snprintf(err, cap, "run %s: %s is missing (its document could not be read)", id,
                         paths[i]);
                return -EINVAL;
            }
            if (kinds[i] != 'o' && wp_run_doc_check_rule(id, paths[i], rules[i], NULL, err, cap))
                return -EINVAL;
        } else if (flag >= 0) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_NUM, .num = flag};
        } else if (num && (type == SQLITE_INTEGER || type == SQLITE_FLOAT)) {
            v[i] =
                (struct wp_ledger_value){.kind = WP_VALUE_NUM, .num = sqlite3_column_double(st, i)};
        } else if (kinds[i] != 'b' && !num && text) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = text};
        } else {
            snprintf(err, cap, "run %s: %s is of the wrong type", id, paths[i]);
            return -EINVAL;
        }
    }
    return 0;
}

/* The members from their columns (columns.c); a document's member's SQL
 * unpacks the document and takes that member out of it, never parsing it
 * whole. */
int wp_sq_each_values(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                      const char *const *paths, int n, wp_ledger_values_fn fn, void *arg, char *err,
                      size_t cap)
{
    const struct wp_run_doc_rule *rules[WP_VALUES_MAX];
    struct wp_ledger_value v[WP_VALUES_MAX];
    char cols[4096], times[2][32], kinds[WP_VALUES_MAX];
    size_t used = 0;
    sqlite3_stmt *st;
    int i, rc = SQLITE_DONE, stop = 0;

    for (i = 0; i < n; i++) {
        const char *col = n <= WP_VALUES_MAX ? wp_ledger_values_sql(paths[i]) : NULL;
        if (col) {
            kinds[i] = wp_ledger_values_kind(paths[i]);
            rules[i] = wp_run_doc_rule(paths[i]);
        }
        /* the row's own (device hours, GPUs) have no rule: their columns are
         * set by every writer (NULL: a document the migration could not read) */
        if (!col || (!rules[i] && kinds[i] != 'd' && kinds[i] != 'o') ||
            used + strlen(col) + 40 >= sizeof cols) { /* and the keys after */
            snprintf(err, cap, "cannot walk the member %s", paths[i]);
            return -EINVAL;
        }
        /* the times: their text where the row's start_s and end_s would not
         * write the same (kinds 's' and 'e' here) */
        if (kinds[i] == 't' && (strcmp(paths[i], "start") == 0 || strcmp(paths[i], "end") == 0))
            kinds[i] = paths[i][0] == 's' ? 's' : 'e';
        used += (size_t)snprintf(cols + used, sizeof cols - used, "%s, ", col);
    }
    /* after the members: the times start and end are written from, and the
     * order's keys */
    snprintf(cols + used, sizeof cols - used, "r.start_s, r.end_s, r.id");
    if (!(st = walk_start(l, q, cols, flags, err, cap)))
        return -EIO;
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (!(stop = row_values(st, paths, kinds, n, rules, v, times, err, cap)))
            stop = fn(v, n, arg);
    return walk_end(l, st, stop, rc, err, cap);
}

json_t *wp_sq_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap)
{
    sqlite3_stmt *st;
    json_t *arr, *run = NULL;
    char prefix[64];

    if (strcmp(id, "last") == 0) {
        struct wp_query q = {.limit = 1};
        arr = wp_ledger_list(l, &q, with_samples, err, cap);
    } else {
        if (wp_ledger_id_check(id, err, cap) != 0)
            return NULL;
        snprintf(prefix, sizeof prefix, "%s*", id);
        if (sqlite3_prepare_v2(
                l->db,
                "SELECT wp_doc(result, doc, id), id FROM runs WHERE id GLOB ? ORDER BY "
                "id LIMIT 2",
                -1, &st, NULL) != SQLITE_OK) {
            wp_ledger_fail(l, err, cap);
            return NULL;
        }
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
        arr = rows_to_json(l, st, with_samples, err, cap);
        sqlite3_finalize(st);
        if (arr && json_array_size(arr) > 1) {
            snprintf(err, cap, "'%s' matches more than one run; give more of the id", id);
            json_decref(arr);
            return NULL;
        }
    }
    if (!arr)
        return NULL;
    if (json_array_size(arr) == 0)
        snprintf(err, cap, "no run '%s' in %s", id, l->path);
    else
        run = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return run;
}

int wp_ledger_check_by(const char *by, char *err, size_t cap)
{
    static const char *const plain[] = {"project", "experiment", "host", "user", "job", "day"};

    for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
        if (strcmp(by, plain[i]) == 0)
            return 0;
    if (strncmp(by, "tag:", 4) == 0 && by[4])
        return 0;
    snprintf(err, cap,
             "'%s' is not a grouping: project, experiment, tag:KEY, day, host, user or job", by);
    return -EINVAL;
}

json_t *wp_sq_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                      size_t cap)
{
    const char *key_expr, *tag = NULL;
    struct where w;
    char sql[4096];
    sqlite3_stmt *st;
    json_t *arr;
    int rc, i = 1;

    if (strcmp(by, "project") == 0)
        key_expr = "r.project";
    else if (strcmp(by, "experiment") == 0)
        key_expr = "r.experiment";
    else if (strcmp(by, "host") == 0)
        key_expr = "r.host";
    else if (strcmp(by, "job") == 0)
        key_expr = "r.job";
    else if (strcmp(by, "user") == 0)
        key_expr = "r.user";
    else if (strcmp(by, "day") == 0)
        key_expr = "date(r.start_s, 'unixepoch')";
    else if (strncmp(by, "tag:", 4) == 0 && by[4]) {
        key_expr = "(SELECT t.value FROM tags t WHERE t.run_id = r.id AND t.key = ?)";
        tag = by + 4;
    } else {
        wp_ledger_check_by(by, err, cap);
        return NULL;
    }
    build_where(q, &w);
    /* NULL keys (runs filed under nothing) sort first; the total is summed here. */
    snprintf(sql, sizeof sql, "SELECT %s AS k," WP_SUM_SQL " FROM runs r%s GROUP BY k ORDER BY k",
             key_expr, w.sql);
    if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
        wp_ledger_fail(l, err, cap);
        return NULL;
    }
    if (tag)
        sqlite3_bind_text(st, i++, tag, -1, SQLITE_STATIC);
    bind_where(st, &w, i);
    arr = json_array();
    {
        struct wp_sums g, tot = {{0}, {false}};
        int bad = 0;
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            for (int c = 0; c < WP_SUM_COLS; c++) {
                g.has[c] = sqlite3_column_type(st, c + 1) != SQLITE_NULL;
                g.v[c] = sqlite3_column_double(st, c + 1);
            }
            wp_ledger_sum_group(&bad, arr, (const char *)sqlite3_column_text(st, 0), &g, &tot);
        }
        wp_ledger_sum_total(&bad, arr, &tot);
        if (bad && rc == SQLITE_DONE) {
            snprintf(err, cap, "out of memory summing the ledger");
            rc = SQLITE_NOMEM;
        } else if (rc != SQLITE_DONE) {
            wp_ledger_fail(l, err, cap);
        }
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        json_decref(arr);
        return NULL;
    }
    return arr;
}

/* The full id of the one run id names (a prefix or "last"), read from the
 * id column alone: a run whose document is damaged can still be removed. */
static int full_id(struct wp_ledger *l, const char *id, char *out, size_t outcap, char *err,
                   size_t cap)
{
    bool last = strcmp(id, "last") == 0;
    char prefix[64];
    sqlite3_stmt *st;
    int rc, found = 0;

    if (!last && wp_ledger_id_check(id, err, cap) != 0)
        return -EINVAL;
    snprintf(prefix, sizeof prefix, "%s*", id);
    if (sqlite3_prepare_v2(l->db,
                           last ? "SELECT id FROM runs ORDER BY start_s DESC, id DESC LIMIT 1"
                                : "SELECT id FROM runs WHERE id GLOB ? ORDER BY id LIMIT 2",
                           -1, &st, NULL) != SQLITE_OK) {
        wp_ledger_fail(l, err, cap);
        return -EIO;
    }
    if (!last)
        sqlite3_bind_text(st, 1, prefix, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && ++found == 1)
        snprintf(out, outcap, "%s", (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        wp_ledger_fail(l, err, cap);
        return -EIO;
    }
    if (found == 0)
        snprintf(err, cap, "no run '%s' in %s", id, l->path);
    else if (found > 1)
        snprintf(err, cap, "'%s' matches more than one run; give more of the id", id);
    return found == 1 ? 0 : -ENOENT;
}

int wp_sq_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap)
{
    int removed = 0;

    if (wp_ledger_exec(l, "BEGIN IMMEDIATE", err, cap))
        return -EIO;
    for (int i = 0; i < n; i++) {
        char id[64];
        sqlite3_stmt *st;
        if (full_id(l, ids[i], id, sizeof id, err, cap) != 0)
            goto rollback;
        if (sqlite3_prepare_v2(l->db, "DELETE FROM runs WHERE id = ?", -1, &st, NULL) !=
            SQLITE_OK) {
            wp_ledger_fail(l, err, cap);
            goto rollback;
        }
        sqlite3_bind_text(st, 1, id, -1, SQLITE_TRANSIENT);
        if (sqlite3_step(st) != SQLITE_DONE) {
            sqlite3_finalize(st);
            wp_ledger_fail(l, err, cap);
            goto rollback;
        }
        removed += sqlite3_changes(l->db);
        sqlite3_finalize(st);
    }
    if (wp_ledger_exec(l, "COMMIT", err, cap) == 0)
        return removed;
rollback:
    sqlite3_exec(l->db, "ROLLBACK", NULL, NULL, NULL);
    return -EIO;
}
