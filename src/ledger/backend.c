/* The ledger's functions, dispatched to the backend its location names: a
 * URI whose scheme is in the table below (PostgreSQL's), else a file
 * (SQLite). A new backend is its own file, its ops table, and one row here. */
#define _GNU_SOURCE
#include "ledger_int.h"

#include "../util/jput.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef int (*open_fn)(const char *uri, int mode, struct wp_ledger **out, char *err, size_t cap);

/* Server ledgers by URI scheme (libpq's two spellings). */
static const struct {
    const char *scheme; /* with its "://" */
    open_fn open;
} servers[] = {
    {"postgresql://", wp_pg_open},
    {"postgres://", wp_pg_open},
};

static open_fn server_of(const char *location)
{
    for (size_t i = 0; location && i < sizeof servers / sizeof *servers; i++)
        if (strncmp(location, servers[i].scheme, strlen(servers[i].scheme)) == 0)
            return servers[i].open;
    return NULL;
}

bool wp_ledger_is_uri(const char *location)
{
    return server_of(location) != NULL;
}

void wp_ledger_redact(const char *location, char *out, size_t cap)
{
    const char *scheme = strstr(location, "://"), *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = at ? memchr(scheme + 3, ':', (size_t)(at - scheme - 3)) : NULL;

    if (colon)
        snprintf(out, cap, "%.*s:***%s", (int)(colon - location), location, at);
    else
        snprintf(out, cap, "%s", location);
}

int wp_ledger_open(const char *path, int mode, struct wp_ledger **out, char *err, size_t cap)
{
    open_fn server = server_of(path);

    return server ? server(path, mode, out, err, cap) : wp_sq_open(path, mode, out, err, cap);
}

long wp_ledger_sent(const struct wp_ledger *l)
{
    return l ? l->sent : 0;
}

long wp_ledger_replaced(const struct wp_ledger *l)
{
    return l ? l->replaced : 0;
}

const char *wp_ledger_send_error(const struct wp_ledger *l)
{
    return l ? l->send_err : "";
}

void wp_ledger_close(struct wp_ledger *l)
{
    if (l)
        l->ops->close(l);
}

int wp_ledger_begin(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return l->ops->begin(l, run, err, cap);
}

int wp_ledger_checkpoint(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return l->ops->checkpoint(l, run, err, cap);
}

int wp_ledger_finish(struct wp_ledger *l, const struct wp_run *run, char *err, size_t cap)
{
    return l->ops->finish(l, run, err, cap);
}

int wp_ledger_insert_row(struct wp_ledger *l, const struct wp_ledger_row *row, const char *run_json,
                         char *err, size_t cap)
{
    return l->ops->insert_row(l, row, run_json, err, cap);
}

void wp_ledger_batch_counts(struct wp_ledger *l, long *added, long *skipped, long *replaced)
{
    *added = *skipped = *replaced = 0;
    if (l->ops->batch_counts)
        l->ops->batch_counts(l, added, skipped, replaced);
}

int wp_ledger_begin_batch(struct wp_ledger *l)
{
    return l->ops->begin_batch(l);
}

int wp_ledger_end_batch(struct wp_ledger *l)
{
    return l->ops->end_batch(l);
}

void wp_ledger_abort_batch(struct wp_ledger *l)
{
    l->ops->abort_batch(l);
}

json_t *wp_ledger_list(struct wp_ledger *l, const struct wp_query *q, bool with_samples, char *err,
                       size_t cap)
{
    return l->ops->list(l, q, with_samples, err, cap);
}

json_t *wp_ledger_get(struct wp_ledger *l, const char *id, bool with_samples, char *err, size_t cap)
{
    return l->ops->get(l, id, with_samples, err, cap);
}

int wp_ledger_each(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                   wp_ledger_each_fn fn, void *arg, char *err, size_t cap)
{
    return l->ops->each(l, q, flags, fn, arg, err, cap);
}

struct values_walk {
    const char *const *paths;
    int n;
    wp_ledger_values_fn fn;
    void *arg;
};

/* A member of the row's own (columns.c), as the writers compute it. */
static void row_own(json_t *run, const char *path, struct wp_ledger_value *v)
{
    const char *model = NULL;
    int gpus = wp_run_json_gpus(run, &model);

    if (strcmp(path, "gpu_model") == 0) {
        *v = gpus ? (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = model}
                  : (struct wp_ledger_value){.kind = WP_VALUE_NONE};
        return;
    }
    v->kind = WP_VALUE_NUM;
    if (strcmp(path, "gpus") == 0)
        v->num = gpus;
    else if (strcmp(path, "shared") == 0)
        v->num = wp_run_json_shared(run);
    else
        v->num = wp_run_json_device_hours(run);
}

/* A whole stored run (already checked against the schema) as its values. */
static int values_of_run(json_t *run, void *arg)
{
    struct values_walk *w = arg;
    struct wp_ledger_value v[WP_VALUES_MAX] = {{0}}; /* n checked before the walk */
    char command[WP_LEDGER_COMMAND_MAX], *texts[WP_VALUES_MAX];
    int ntexts = 0, rc;

    for (int i = 0; i < w->n; i++) {
        json_t *m = wp_ledger_member(run, w->paths[i]);
        char kind = wp_ledger_values_kind(w->paths[i]);
        v[i] = (struct wp_ledger_value){.kind = WP_VALUE_NONE};
        if (kind == 'd' || kind == 'o') { /* the row's own, as the writers compute it */
            row_own(run, w->paths[i], &v[i]);
        } else if (kind == 'b' && json_is_boolean(m)) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_NUM, .num = json_is_true(m)};
        } else if (kind == 'j' && m && !json_is_null(m)) { /* as SQLite's json_extract gives it */
            if (!(texts[ntexts] = json_dumps(m, JSON_COMPACT | JSON_ENCODE_ANY))) {
                while (ntexts > 0)
                    free(texts[--ntexts]);
                return -ENOMEM;
            }
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = texts[ntexts++]};
        } else if (strcmp(w->paths[i], "command") == 0 && json_is_array(m)) {
            wp_command_text(m, command, sizeof command);
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = command};
        } else if (json_is_number(m)) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_NUM, .num = json_number_value(m)};
        } else if (json_is_string(m)) {
            v[i] = (struct wp_ledger_value){.kind = WP_VALUE_TEXT, .text = json_string_value(m)};
        }
    }
    rc = w->fn(v, w->n, w->arg);
    for (int i = 0; i < ntexts; i++)
        free(texts[i]);
    return rc;
}

int wp_ledger_each_values(struct wp_ledger *l, const struct wp_query *q, unsigned flags,
                          const char *const *paths, int n, wp_ledger_values_fn fn, void *arg,
                          char *err, size_t cap)
{
    struct values_walk w = {paths, n, fn, arg};

    for (int i = 0; i < n; i++)
        if (n > WP_VALUES_MAX || !wp_ledger_values_path_ok(paths[i])) {
            snprintf(err, cap, "cannot walk the member %s", paths[i]);
            return -EINVAL;
        }
    if (l->ops->each_values && !l->whole_runs)
        return l->ops->each_values(l, q, flags, paths, n, fn, arg, err, cap);
    return l->ops->each(l, q, WP_EACH_STORED | flags, values_of_run, &w, err, cap);
}

void wp_ledger_oldest_first(char *sql, size_t cap, const char *inner, const char *limit)
{
    if (*limit)
        snprintf(sql, cap,
                 "SELECT x.* FROM (%s ORDER BY r.start_s DESC, r.id DESC LIMIT %s) x "
                 "ORDER BY x.start_s, x.id",
                 inner, limit);
    else
        snprintf(sql, cap, "%s ORDER BY r.start_s, r.id", inner);
}

void wp_ledger_walk_order(char *sql, size_t cap, const char *inner, const char *limit,
                          unsigned flags)
{
    if (!(flags & WP_EACH_NEWEST))
        wp_ledger_oldest_first(sql, cap, inner, limit);
    else
        snprintf(sql, cap, "%s ORDER BY r.start_s DESC, r.id DESC%s%s", inner,
                 *limit ? " LIMIT " : "", limit);
}

json_t *wp_ledger_summary(struct wp_ledger *l, const char *by, const struct wp_query *q, char *err,
                          size_t cap)
{
    return l->ops->summary(l, by, q, err, cap);
}

/* A group's members: the operational sums always, the footprint's where a
 * run carries one (null otherwise: "none", not "zero"). */
static json_t *sum_json(json_t *key, bool total, const struct wp_sums *g)
{
    static const char *const names[WP_SUM_COLS] = {
        "runs",     "duration_s",        "device_hours",
        "energy_j", "facility_energy_j", "emissions_g",
        "water_l",  "water_offsite_l",   "embodied_emissions_g"};
    json_t *o = json_object();
    int bad = !o;

    wp_jput(&bad, o, "key", key);
    if (total)
        wp_jput(&bad, o, "total", json_true());
    wp_jput(&bad, o, names[0], json_integer((json_int_t)g->v[0]));
    for (int c = 1; c < WP_SUM_COLS; c++)
        wp_jput(&bad, o, names[c], g->has[c] ? json_real(g->v[c]) : json_null());
    return wp_jdone(bad, o);
}

void wp_ledger_sum_group(int *bad, json_t *arr, const char *key, const struct wp_sums *g,
                         struct wp_sums *total)
{
    for (int c = 0; c < WP_SUM_COLS; c++)
        if (g->has[c] || c < WP_SUM_ALWAYS) {
            total->v[c] += g->v[c];
            total->has[c] = true;
        }
    wp_jpush(bad, arr, sum_json(key ? json_string(key) : json_null(), false, g));
}

void wp_ledger_sum_total(int *bad, json_t *arr, const struct wp_sums *total)
{
    struct wp_sums t = *total;

    for (int c = 0; c < WP_SUM_ALWAYS; c++)
        t.has[c] = true; /* an empty ledger's total is zeros */
    wp_jpush(bad, arr, sum_json(json_null(), true, &t));
}

int wp_ledger_remove(struct wp_ledger *l, char *const *ids, int n, char *err, size_t cap)
{
    return l->ops->remove(l, ids, n, err, cap);
}

int wp_ledger_sample_stride(int n, int *kept)
{
    int stride = n > WP_LEDGER_SAMPLES ? (n + WP_LEDGER_SAMPLES - 2) / (WP_LEDGER_SAMPLES - 1) : 1;

    /* every stride-th from the first, and the last when the stride misses it */
    *kept = n <= 0 ? 0 : (n - 1) / stride + 1 + ((n - 1) % stride != 0);
    return stride;
}

int wp_ledger_sample_at(int k, int n, int stride, int kept)
{
    return k == kept - 1 ? n - 1 : k * stride;
}

int wp_ledger_id_check(const char *id, char *err, size_t cap)
{
    size_t n = strlen(id);

    if (n >= 4 && n <= 36 && strspn(id, "0123456789abcdef-") == n)
        return 0;
    snprintf(err, cap, "'%s' is not a run id (give at least 4 of its characters, or 'last')", id);
    return -EINVAL;
}

json_t *wp_ledger_stored_run_of_text(const char *text, const char *id, char *err, size_t cap)
{
    json_error_t je;
    json_t *run = text ? json_loads(text, 0, &je) : NULL;

    if (!run) {
        snprintf(err, cap, "stored run %s is not JSON (%s)", id ? id : "?",
                 text ? je.text : "no text");
        return NULL;
    }
    if (wp_run_doc_check(run, err, cap) != 0) {
        json_decref(run);
        return NULL;
    }
    return run;
}

json_t *wp_ledger_run_of_text(const char *text, const char *id, char *err, size_t cap)
{
    json_t *run = wp_ledger_stored_run_of_text(text, id, err, cap);

    if (run && wp_run_json_derive(run) != 0) {
        snprintf(err, cap, "out of memory reading run %s", id ? id : "?");
        json_decref(run);
        return NULL;
    }
    return run;
}

/* A number where v is one: *has says. */
static double num_if(json_t *v, bool *has)
{
    *has = json_is_number(v);
    return *has ? json_number_value(v) : 0;
}

void wp_ledger_row_of_json(json_t *run, struct wp_ledger_row *row)
{
    json_t *e = wp_json_get(run, WPF_ENERGY);
    const char *project = wp_json_str(run, WPF_PROJECT),
               *experiment = wp_json_str(run, WPF_EXPERIMENT), *job = wp_json_str(run, WPF_JOB);

    memset(row, 0, sizeof *row);
    row->id = wp_json_str(run, WPF_RUN_ID);
    row->status = *wp_json_str(run, WPF_STATUS) ? wp_json_str(run, WPF_STATUS) : "completed";
    row->duration_s = wp_json_num(run, WPF_DURATION_S);
    row->host = wp_json_str(run, WPF_HOST);
    row->user = wp_json_str(run, WPF_USER);
    row->project = *project ? project : NULL;
    row->experiment = *experiment ? experiment : NULL;
    row->job = *job ? job : NULL;
    row->energy_j = wp_json_num(e, WPF_TOTAL_J);
    row->facility_energy_j = wp_json_num(run, WPF_FACILITY_ENERGY_J);
    row->emissions_g = wp_json_num(wp_json_get(run, WPF_CARBON), WPF_EMISSIONS_G);
    row->water_l = num_if(wp_json_get(wp_json_get(run, WPF_CARBON), WPF_WATER_L), &row->has_water);
    row->water_offsite_l = num_if(wp_json_get(wp_json_get(run, WPF_CARBON), WPF_WATER_OFFSITE_L),
                                  &row->has_water_offsite);
    row->embodied_g = num_if(wp_json_get(run, WPF_EMBODIED_EMISSIONS_G), &row->has_embodied);
    row->n_gpus = wp_run_json_gpus(run, NULL);
    if (wp_parse_utc(wp_json_str(run, WPF_START), &row->start_s) != 0)
        row->start_s = 0;
    wp_ledger_row_export(run, row);
}

struct copy {
    struct wp_ledger *l;
    long added, skipped, replaced;
    char *err;
    size_t cap;
};

static int copy_one(json_t *run, void *arg)
{
    struct copy *c = arg;
    struct wp_ledger_row row;
    char *text = json_dumps(run, JSON_COMPACT);
    int rc;

    wp_ledger_row_of_json(run, &row);
    if (!text)
        snprintf(c->err, c->cap, "out of memory");
    rc = text ? wp_ledger_insert_row(c->l, &row, text, c->err, c->cap) : -ENOMEM;
    free(text);
    if (rc < 0)
        return rc;
    if (rc != WP_LEDGER_QUEUED) /* queued rows are counted when the batch ends */
        *(rc == 0 ? &c->added : rc == 2 ? &c->replaced : &c->skipped) += 1;
    return 0;
}

/* Another ledger's runs copied one by one as they are read (the backends
 * differ, so no ATTACH; memory does not grow with the ledger): all or
 * nothing, ids kept. */
long wp_ledger_copy_runs(struct wp_ledger *l, const char *other, long *skipped, long *replaced,
                         char *err, size_t cap)
{
    struct copy c = {.l = l, .err = err, .cap = cap};
    struct wp_ledger *src;
    char src_err[512];
    int rc;

    if ((rc = wp_ledger_open(other, WP_LEDGER_READ, &src, err, cap)) != 0)
        return rc;
    if ((rc = wp_ledger_begin_batch(l)) != 0) {
        wp_ledger_close(src);
        snprintf(err, cap, "cannot start writing");
        return rc < 0 ? rc : -EIO;
    }
    src_err[0] = '\0';
    rc = wp_ledger_each(src, NULL, WP_EACH_STORED, copy_one, &c, src_err, sizeof src_err);
    wp_ledger_close(src);
    if (rc != 0) {
        if (src_err[0])
            snprintf(err, cap, "%s", src_err);
        wp_ledger_abort_batch(l);
        return rc < 0 ? rc : -EIO;
    }
    if (wp_ledger_end_batch(l) != 0) {
        snprintf(err, cap, "the server did not take the runs (nothing was imported)");
        return -EIO;
    }
    {
        long a, s, r;
        wp_ledger_batch_counts(l, &a, &s, &r);
        *skipped += c.skipped + s;
        *replaced += c.replaced + r;
        return c.added + a;
    }
}

long wp_ledger_import(struct wp_ledger *l, const char *other, long *skipped, long *replaced,
                      char *err, size_t cap)
{
    *skipped = *replaced = 0;
    if (l->ops == &wp_ledger_sqlite_ops && !wp_ledger_is_uri(other))
        return wp_sq_import(l, other, skipped, replaced, err, cap);
    return wp_ledger_copy_runs(l, other, skipped, replaced, err, cap);
}
