/* The PostgreSQL backend's reads (pg_query.c): filters, listing, walking,
 * rollups and removal, over the connection and libpq calls of pg.c. */
#define _GNU_SOURCE
#include "pg_int.h"

#include "../util/jput.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
        where(f, "r.start_s >= ?"), f->v[f->n++] = wp_pg_num(&f->since, q->since_s);
}

/* Runs from a result whose first column is the run JSON and, with
 * samples, the second the samples JSON (or NULL). */
static json_t *runs_of(PGresult *res, bool with_samples, char *err, size_t cap)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < wp_pq.ntuples(res); i++) {
        json_error_t je;
        json_t *run = wp_ledger_run_of_text(wp_pq.getvalue(res, i, 0), NULL, err, cap), *smp;
        if (!run) {
            json_decref(arr);
            arr = NULL;
            break;
        }
        if (with_samples && !wp_pq.getisnull(res, i, 1) &&
            (!(smp = json_loads(wp_pq.getvalue(res, i, 1), 0, &je)) ||
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
    wp_pq.clear(res);
    return arr;
}

json_t *wp_pg_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
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
    res = wp_pg_run(l, sql, f.n, f.v, err, cap);
    return res ? runs_of(res, with_samples, err, cap) : NULL;
}

/* Runs oldest first through a cursor, 500 rows a fetch: memory does not
 * grow with the ledger. */
int wp_pg_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags, wp_ledger_each_fn fn,
               void *arg, char *err, size_t cap)
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
    wp_ledger_walk_order(sql, sizeof sql, inner, limit, flags);
    snprintf(decl, sizeof decl, "DECLARE wattprint_each NO SCROLL CURSOR FOR %s", sql);
    if (wp_pg_exec(l, "BEGIN", err, cap))
        return -EIO;
    if (!(res = wp_pg_run(l, decl, f.n, f.v, err, cap))) {
        wp_pg_exec(l, "ROLLBACK", sql, sizeof sql);
        return -EIO;
    }
    wp_pq.clear(res);
    while (!stop && n > 0) {
        if (!(res = wp_pg_run(l, "FETCH 500 FROM wattprint_each", 0, NULL, err, cap))) {
            wp_pg_exec(l, "ROLLBACK", sql, sizeof sql);
            return -EIO;
        }
        n = wp_pq.ntuples(res);
        for (int i = 0; !stop && i < n; i++) {
            const char *text = wp_pq.getvalue(res, i, 0), *id = wp_pq.getvalue(res, i, 1);
            json_t *run_ = flags & WP_EACH_STORED ? wp_ledger_stored_run_of_text(text, id, err, cap)
                                                  : wp_ledger_run_of_text(text, id, err, cap);
            if (!run_) {
                wp_pq.clear(res);
                wp_pg_exec(l, "ROLLBACK", sql, sizeof sql);
                return -EINVAL;
            }
            stop = fn(run_, arg);
            json_decref(run_);
        }
        wp_pq.clear(res);
    }
    wp_pg_exec(l, "ROLLBACK", sql, sizeof sql); /* read only: nothing to keep */
    return stop;
}

json_t *wp_pg_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap)
{
    struct wp_query last = {.limit = 1};
    char prefix[64];
    const char *v[1] = {prefix};
    json_t *arr, *one = NULL;
    PGresult *res;

    if (strcmp(id, "last") == 0) {
        arr = wp_pg_list(l, &last, with_samples, err, cap);
    } else if (wp_ledger_id_check(id, err, cap) != 0) {
        return NULL;
    } else {
        snprintf(prefix, sizeof prefix, "%s%%", id); /* hex and '-' only: no LIKE escapes */
        res =
            wp_pg_run(l,
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

json_t *wp_pg_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                      size_t cap)
{
    const char *key = NULL;
    struct filter f;
    char sql[4096], expr[128];
    struct wp_sums tot = {{0}, {false}};
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
             "SELECT %s AS k," WP_SUM_SQL " FROM runs r%s GROUP BY k ORDER BY k NULLS FIRST", key,
             f.sql);
    if (!(res = wp_pg_run(l, sql, f.n, f.v, err, cap)))
        return NULL;
    arr = json_array();
    for (int i = 0; i < wp_pq.ntuples(res); i++) {
        struct wp_sums g;
        for (int c = 0; c < WP_SUM_COLS; c++) {
            g.has[c] = !wp_pq.getisnull(res, i, c + 1);
            g.v[c] = g.has[c] ? atof(wp_pq.getvalue(res, i, c + 1)) : 0;
        }
        wp_ledger_sum_group(
            &bad, arr, wp_pq.getisnull(res, i, 0) ? NULL : wp_pq.getvalue(res, i, 0), &g, &tot);
    }
    wp_pq.clear(res);
    wp_ledger_sum_total(&bad, arr, &tot);
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
    res = last ? wp_pg_run(l, "SELECT id FROM runs ORDER BY start_s DESC, id DESC LIMIT 1", 0, NULL,
                           err, cap)
               : wp_pg_run(l, "SELECT id FROM runs WHERE id LIKE $1 ORDER BY id LIMIT 2", 1, v, err,
                           cap);
    if (!res)
        return -EIO;
    found = wp_pq.ntuples(res);
    if (found == 1)
        snprintf(out, outcap, "%s", wp_pq.getvalue(res, 0, 0));
    else if (found == 0)
        snprintf(err, cap, "no run '%s' in %s", id, l->path);
    else
        snprintf(err, cap, "'%s' matches more than one run; give more of the id", id);
    wp_pq.clear(res);
    return found == 1 ? 0 : -ENOENT;
}

int wp_pg_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap)
{
    int removed = 0;

    if (wp_pg_exec(l, "BEGIN", err, cap))
        return -EIO;
    for (int i = 0; i < n; i++) {
        char id[64];
        const char *v[1] = {id};
        PGresult *res;
        if (pg_full_id(l, ids[i], id, sizeof id, err, cap) != 0) {
            wp_pg_abort_batch(l);
            return -EIO;
        }
        res = wp_pg_run(l, "DELETE FROM runs WHERE id = $1", 1, v, err, cap);
        if (!res) {
            wp_pg_abort_batch(l);
            return -EIO;
        }
        removed += strcmp(wp_pq.cmd_tuples(res), "0") != 0;
        wp_pq.clear(res);
    }
    return wp_pg_exec(l, "COMMIT", err, cap) ? -EIO : removed;
}
