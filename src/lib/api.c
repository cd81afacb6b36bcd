/* libwattprint: the public C API (include/wattprint.h), a thin face over the
 * session, the result model, the account and the ledger. */
#define _GNU_SOURCE
#include "wattprint.h"

#include "../account/assume.h"
#include "../ledger/recorder.h"
#include "../interop/codecarbon.h"
#include "lib_int.h"
#include "../run/run.h"
#include "../session/session.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define fail     wp_lib_fail
#define lib_diag wp_lib_diag

/* STOPPING: one thread is stopping the sampler (unlocked); any other stop
 * answers WATTPRINT_ESTATE, so the sampler is joined once. */
enum state { OPENED, RUNNING, STOPPING, STOPPED };

struct window {
    char name[128];
    bool open;
    double t0, work0, *e0;
    wattprint_result result;
    char *json; /* closed windows: their result as JSON */
};

/* Locks, one rule: registry_mu and a handle's mu are never held together
 * (a thread waits on registry_mu's condition only with no handle lock).
 * A call takes a reference under registry_mu, lets it go, then locks the
 * handle; close takes the handle out of the registry, so that no new call
 * reaches it, and frees it when the last reference is given back. A closed
 * handle therefore answers WATTPRINT_ESTATE, never a crash, from any thread,
 * and nothing waits on two locks in two orders. */
struct wattprint_meter {
    pthread_mutex_t mu;
    int refs;     /* calls inside, under registry_mu */
    bool closing; /* out of the registry; freed when refs falls to 0 */
    enum state state;
    struct wp_session *session;
    struct wp_run run;
    struct wp_recorder rec;
    struct wp_carbon_opts carbon;
    char *argv[2];
    char name[256];
    char *ledger;  /* NULL: default; "": none */
    char user[64]; /* "": the process's own (wp_lib_run_as) */
    double interval_s;
    struct window *windows;
    int n_windows;
};

/* Live handles: a call with a pointer not in this set (closed, or never
 * opened) is refused without touching it. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t registry_idle = PTHREAD_COND_INITIALIZER; /* a reference given back */
static wattprint_meter **registry;
static size_t n_registry, cap_registry;

static int registry_add(wattprint_meter *m)
{
    pthread_mutex_lock(&registry_mu);
    if (n_registry == cap_registry) {
        size_t cap = cap_registry ? cap_registry * 2 : 8;
        wattprint_meter **grown = realloc(registry, cap * sizeof *grown);
        if (!grown) {
            pthread_mutex_unlock(&registry_mu);
            return -1;
        }
        registry = grown;
        cap_registry = cap;
    }
    registry[n_registry++] = m;
    pthread_mutex_unlock(&registry_mu);
    return 0;
}

/* Takes a reference to m if it is a live handle, then its lock, and puts
 * the thread in the C locale. Returns 0, or WATTPRINT_ESTATE (closed, or
 * never opened). */
static int acquire(wattprint_meter *m)
{
    bool live = false;

    if (!m)
        return fail(WATTPRINT_EINVAL, "no meter (NULL handle)");
    wp_lib_enter();
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_registry && !live; i++)
        live = registry[i] == m;
    if (live)
        m->refs++; /* m is not freed while it is held */
    pthread_mutex_unlock(&registry_mu);
    if (!live) {
        wp_lib_leave();
        return fail(WATTPRINT_ESTATE, "the meter is closed or was never opened");
    }
    pthread_mutex_lock(&m->mu);
    return 0;
}

/* Unlocks m, gives its reference back and the host's locale. */
static void release(wattprint_meter *m)
{
    pthread_mutex_unlock(&m->mu);
    pthread_mutex_lock(&registry_mu);
    if (--m->refs == 0 && m->closing)
        pthread_cond_broadcast(&registry_idle);
    pthread_mutex_unlock(&registry_mu);
    wp_lib_leave();
}

/* Frees everything a handle holds; it must not be in the registry. */
static void destroy(wattprint_meter *m)
{
    wp_session_free(m->session);
    wp_run_release(&m->run);
    for (int i = 0; i < m->n_windows; i++) {
        free(m->windows[i].e0);
        free(m->windows[i].json);
    }
    free(m->windows);
    free(m->ledger);
    free((char *)m->run.labels.project);
    free((char *)m->run.labels.experiment);
    free((char *)m->run.labels.job);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

static const struct wp_carbon_names lib_names = {"region", "intensity_g_per_kwh", "pue",
                                                 "provider"};

/* The session, its errors named by the options' fields. */
static int open_session(wattprint_meter *m, const wattprint_options *opts)
{
    static const char *const field[] = {
        [WP_FIELD_INTERVAL] = "interval_s",
        [WP_FIELD_GPUS] = "gpus",
        [WP_FIELD_SENSORS] = "sensors",
        [WP_FIELD_REQUIRE_MEASURED] = "require_measured",
    };
    struct wp_session_opts so = {.interval_s = m->interval_s,
                                 .gpus = opts->gpus,
                                 .sensors = opts->sensors,
                                 .require_measured = opts->require_measured != 0,
                                 .attribute_process = opts->attribute_process != 0,
                                 .diag = lib_diag};
    struct wp_session_error e;
    const char *name;

    if (wp_session_open(&so, &m->session, &e) == 0)
        return WATTPRINT_OK;
    name = (size_t)e.field < sizeof field / sizeof *field ? field[e.field] : NULL;
    return fail(e.code == -ENOMEM                      ? WATTPRINT_ENOMEM
                : e.field == WP_FIELD_REQUIRE_MEASURED ? WATTPRINT_ESENSOR
                                                       : WATTPRINT_EINVAL,
                "%s%s%s", name ? name : "", name ? ": " : "", e.msg);
}

/* The caller's options as this version's struct: a smaller (older) one's
 * missing fields are 0, a larger (newer) one's extra fields are not read.
 * Returns 0, or WATTPRINT_EINVAL for a struct_size not set. */
static int options_of(const wattprint_options *given, wattprint_options *o)
{
    memset(o, 0, sizeof *o);
    if (!given)
        return WATTPRINT_OK;
    if (given->struct_size < sizeof given->struct_size + sizeof given->interval_s)
        return fail(WATTPRINT_EINVAL,
                    "struct_size is %zu: initialise the options with "
                    "WATTPRINT_OPTIONS_INIT",
                    given->struct_size);
    memcpy(o, given, given->struct_size < sizeof *o ? given->struct_size : sizeof *o);
    return WATTPRINT_OK;
}

static int open_meter(const wattprint_options *given, wattprint_meter **out)
{
    wattprint_options options, *opts = &options;
    wattprint_meter *m;
    char err[512];
    int rc = WATTPRINT_OK;

    if (!out)
        return fail(WATTPRINT_EINVAL, "no place for the handle (out is NULL)");
    *out = NULL;
    if ((rc = options_of(given, opts)) != WATTPRINT_OK)
        return rc;
    if (opts->interval_s != 0 && wp_limit_check(WP_FIELD_INTERVAL, opts->interval_s))
        return fail(WATTPRINT_EINVAL, "interval_s must be 0 (1 s) or %s",
                    wp_limit_of(WP_FIELD_INTERVAL)->what);
    if (opts->pue != 0 && wp_limit_check(WP_FIELD_PUE, opts->pue))
        return fail(WATTPRINT_EINVAL, "pue must be 0 (the provider's) or %s",
                    wp_limit_of(WP_FIELD_PUE)->what);
    if (wp_limit_check(WP_FIELD_INTENSITY, opts->intensity_g_per_kwh))
        return fail(WATTPRINT_EINVAL, "intensity_g_per_kwh must be %s",
                    wp_limit_of(WP_FIELD_INTENSITY)->what);
    if (!(m = calloc(1, sizeof *m)))
        return fail(WATTPRINT_ENOMEM, "out of memory");
    pthread_mutex_init(&m->mu, NULL);
    m->interval_s = opts->interval_s > 0 ? opts->interval_s : 1.0;
    m->carbon.region = opts->region;
    m->carbon.provider = opts->provider;
    m->carbon.pue = opts->pue;
    m->carbon.pue_set = opts->pue > 0;
    m->carbon.intensity = opts->intensity_g_per_kwh;
    m->carbon.intensity_set = opts->intensity_g_per_kwh > 0;
    m->carbon.names = &lib_names;
    if (wp_carbon_resolve(&m->carbon, &m->run.assume, err, sizeof err) != 0) {
        rc = fail(strstr(err, "unknown") ? WATTPRINT_ENOENT : WATTPRINT_EINVAL, "%s", err);
        goto out;
    }
    m->carbon.region = NULL; /* the caller's strings are not kept */
    m->carbon.provider = NULL;
    m->ledger = opts->ledger ? strdup(opts->ledger) : NULL;
    m->run.labels.project = opts->project ? strdup(opts->project) : NULL;
    m->run.labels.experiment = opts->experiment ? strdup(opts->experiment) : NULL;
    m->run.labels.job = opts->job ? strdup(opts->job) : NULL;
    for (const char *const *t = opts->tags; t && *t; t++) {
        if (m->run.labels.n_tags == WP_MAX_TAGS ||
            wp_tag_parse(*t, &m->run.labels.tags[m->run.labels.n_tags])) {
            rc = fail(WATTPRINT_EINVAL, "tag '%s' is not KEY=VALUE (at most 32 tags)", *t);
            goto out;
        }
        m->run.labels.n_tags++;
    }
    snprintf(m->name, sizeof m->name, "%s", opts->name ? opts->name : "libwattprint");
    m->argv[0] = m->name;
    m->run.argc = 1;
    m->run.argv = m->argv;
    snprintf(m->run.work.unit, sizeof m->run.work.unit, "steps");

    if ((rc = open_session(m, opts)) != WATTPRINT_OK)
        goto out;
    if (registry_add(m) != 0) {
        rc = fail(WATTPRINT_ENOMEM, "out of memory");
        goto out;
    }
    *out = m;
out:
    if (rc != WATTPRINT_OK)
        destroy(m);
    return rc;
}

int wattprint_open(const wattprint_options *opts, wattprint_meter **out)
{
    int rc;

    wp_lib_enter(); /* the region tables' numbers read in the C locale */
    rc = open_meter(opts, out);
    wp_lib_leave();
    return rc;
}

static int read_session(void *session, bool with_samples, struct wp_reading *out)
{
    return wp_session_read(session, with_samples, out);
}

/* A fresh reading now, into the run's result (accounted). */
static int take(wattprint_meter *m, bool with_samples)
{
    struct wp_reading r;

    if (m->state == RUNNING)
        wp_session_sample(m->session);
    if (wp_session_read(m->session, with_samples, &r) != 0)
        return fail(WATTPRINT_ENOMEM, "out of memory");
    wp_run_set_reading(&m->run, &r);
    return WATTPRINT_OK;
}

int wattprint_start(wattprint_meter *m)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (m->state != OPENED) {
        release(m);
        return fail(WATTPRINT_ESTATE, "the meter was already started");
    }
    wp_uuid7(m->run.run_id);
    wp_run_place(&m->run);
    if (m->user[0])
        snprintf(m->run.user, sizeof m->run.user, "%s", m->user);
    m->run.checkpoint_every_s = 5.0;
    m->run.status = WP_RUN_RUNNING;
    m->run.start_wall_s = wp_wall_s();
    wp_run_account(&m->run);
    m->rec = (struct wp_recorder){
        .guard = &m->mu, .read = read_session, .read_ctx = m->session, .diag = lib_diag};
    wp_recorder_open(&m->rec, &m->run, m->ledger && *m->ledger ? m->ledger : NULL,
                     m->ledger && !*m->ledger);
    if (m->rec.started)
        wp_session_on_tick(m->session, m->run.checkpoint_every_s, wp_recorder_checkpoint, &m->rec);
    wp_session_attach(m->session, getpid()); /* the process the library measures */
    rc = wp_session_start(m->session);
    if (rc) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "cannot start the sampler: %s", strerror(-rc));
    }
    m->state = RUNNING;
    release(m);
    return WATTPRINT_OK;
}

int wp_lib_run_as(wattprint_meter *m, const char *user)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (m->state != OPENED)
        rc = fail(WATTPRINT_ESTATE, "the run's user is set before the meter starts");
    else if (!user || strlen(user) >= sizeof m->user || strlen(user) >= sizeof m->run.user)
        rc = fail(WATTPRINT_EINVAL, "a user name of at most 63 characters");
    else
        snprintf(m->user, sizeof m->user, "%s", user);
    release(m);
    return rc;
}

static struct window *find_window(wattprint_meter *m, const char *name, bool open)
{
    for (int i = 0; i < m->n_windows; i++)
        if (m->windows[i].open == open && strcmp(m->windows[i].name, name) == 0)
            return &m->windows[i];
    return NULL;
}

int wattprint_window_begin(wattprint_meter *m, const char *name)
{
    int rc = acquire(m), n_ch;
    struct window *w;

    if (rc)
        return rc;
    if (!name || !*name || strlen(name) >= sizeof w->name)
        rc = fail(WATTPRINT_EINVAL, "a window needs a name of 1 to 127 characters");
    else if (m->state != RUNNING)
        rc = fail(WATTPRINT_ESTATE, "windows open only while the meter runs");
    else if (find_window(m, name, true))
        rc = fail(WATTPRINT_EINVAL, "window '%s' is already open", name);
    if (rc) {
        release(m);
        return rc;
    }
    /* a closed window of the same name is replaced */
    if (!(w = find_window(m, name, false))) {
        struct window *grown = realloc(m->windows, sizeof *grown * (size_t)(m->n_windows + 1));
        if (!grown) {
            release(m);
            return fail(WATTPRINT_ENOMEM, "out of memory");
        }
        m->windows = grown;
        w = &m->windows[m->n_windows++];
        memset(w, 0, sizeof *w);
    }
    free(w->json);
    w->json = NULL;
    /* a fresh reading marks the boundary */
    if ((rc = take(m, false)) != WATTPRINT_OK) {
        release(m);
        return rc;
    }
    n_ch = m->run.reading.n_channels;
    free(w->e0);
    w->e0 = calloc((size_t)(n_ch > 0 ? n_ch : 1), sizeof *w->e0);
    if (!w->e0) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "out of memory");
    }
    snprintf(w->name, sizeof w->name, "%s", name);
    for (int i = 0; i < n_ch; i++)
        w->e0[i] = m->run.reading.channels[i].energy_j;
    w->t0 = m->run.reading.duration_s;
    w->work0 = m->run.work.done;
    w->open = true;
    release(m);
    return WATTPRINT_OK;
}

/* Whether the caller's result struct can be filled (struct_size set). */
static int result_ok(const wattprint_result *r)
{
    if (r && r->struct_size < sizeof r->struct_size + sizeof r->duration_s)
        return fail(WATTPRINT_EINVAL,
                    "struct_size is %zu: initialise the result with "
                    "WATTPRINT_RESULT_INIT",
                    r->struct_size);
    return WATTPRINT_OK;
}

/* Copies as much of *full as out's struct_size covers (an older, smaller
 * struct gets the fields it knows), keeping out's struct_size. */
static void put_result(const wattprint_result *full, wattprint_result *out)
{
    size_t size = out->struct_size;

    memcpy(out, full, size < sizeof *full ? size : sizeof *full);
    out->struct_size = size;
}

static void fill_result(wattprint_meter *m, const struct wp_energy_totals *t, double duration,
                        double work, wattprint_result *out)
{
    struct wp_carbon c;
    wattprint_result full = WATTPRINT_RESULT_INIT, *r = &full;

    wp_account(t->total_j, &m->run.assume, &c);
    r->duration_s = duration;
    r->energy_j = t->total_j;
    r->cpu_j = t->cpu_j;
    r->dram_j = t->dram_j;
    r->gpu_j = t->gpu_j;
    r->psys_j = t->psys_j;
    r->facility_energy_j = c.facility_energy_j;
    r->emissions_g = c.emissions_g;
    r->work_done = work;
    r->estimated = t->any_estimated;
    put_result(r, out);
}

int wattprint_window_end(wattprint_meter *m, const char *name, wattprint_result *out)
{
    struct wp_energy_totals t;
    struct window *w;
    double *e;
    int rc = acquire(m), n_ch;

    if (rc)
        return rc;
    if ((rc = result_ok(out)) != WATTPRINT_OK) { /* before the window closes */
        release(m);
        return rc;
    }
    if (!name || !(w = find_window(m, name, true))) {
        release(m);
        return fail(WATTPRINT_ENOENT, "no open window '%s'", name ? name : "(null)");
    }
    if ((rc = take(m, false)) != WATTPRINT_OK) {
        release(m);
        return rc;
    }
    n_ch = m->run.reading.n_channels;
    if (!(e = calloc((size_t)(n_ch > 0 ? n_ch : 1), sizeof *e))) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n_ch; i++)
        e[i] = m->run.reading.channels[i].energy_j - w->e0[i];
    wp_reading_totals_of(&m->run.reading, e, &t);
    w->result.struct_size = sizeof w->result;
    fill_result(m, &t, m->run.reading.duration_s - w->t0, m->run.work.done - w->work0, &w->result);
    {
        json_t *j = json_pack(
            "{s:s, s:f, s:f, s:{s:f, s:f, s:f, s:f, s:f}, s:f, s:f, s:s, s:{s:s, s:f}}", "name",
            w->name, "start_s", w->t0, "duration_s", w->result.duration_s, "energy", "total_j",
            t.total_j, "cpu_j", t.cpu_j, "dram_j", t.dram_j, "gpu_j", t.gpu_j, "psys_j", t.psys_j,
            "facility_energy_j", w->result.facility_energy_j, "emissions_g", w->result.emissions_g,
            "method", t.any_estimated ? "estimated" : "measured", "work", "unit", m->run.work.unit,
            "done", w->result.work_done);
        w->json = j ? json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
        json_decref(j);
    }
    free(e);
    w->open = false;
    if (out)
        put_result(&w->result, out);
    release(m);
    return WATTPRINT_OK;
}

int wattprint_window_json(wattprint_meter *m, const char *name, char **json)
{
    struct window *w;
    int rc = acquire(m);

    if (rc)
        return rc;
    if (!json || !name || !(w = find_window(m, name, false)) || !w->json) {
        release(m);
        return fail(json ? WATTPRINT_ENOENT : WATTPRINT_EINVAL, "no closed window '%s'",
                    name ? name : "(null)");
    }
    *json = strdup(w->json);
    release(m);
    return *json ? WATTPRINT_OK : fail(WATTPRINT_ENOMEM, "out of memory");
}

int wattprint_add_work(wattprint_meter *m, double units, const char *unit)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (!isfinite(units) || units < 0)
        rc = fail(WATTPRINT_EINVAL, "work must be a finite amount, 0 or more");
    else if (unit && (!*unit || strlen(unit) >= sizeof m->run.work.unit))
        rc = fail(WATTPRINT_EINVAL, "a unit name of 1 to 31 characters");
    else if (unit && m->run.work.unit_from_cli && strcmp(unit, m->run.work.unit) != 0)
        rc = fail(WATTPRINT_EINVAL, "the unit is '%s'; it cannot change to '%s' mid-run",
                  m->run.work.unit, unit);
    else if (m->state != RUNNING)
        rc = fail(WATTPRINT_ESTATE, "work is added while the meter runs");
    if (!rc) {
        if (unit) {
            snprintf(m->run.work.unit, sizeof m->run.work.unit, "%s", unit);
            m->run.work.unit_from_cli = true;
        }
        m->run.work.done += units;
        m->run.work.reported = true;
    }
    release(m);
    return rc;
}

int wattprint_stop(wattprint_meter *m)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (m->state != RUNNING) {
        rc = fail(WATTPRINT_ESTATE, m->state == STOPPING ? "another thread is stopping the meter"
                                                         : "the meter is not running");
        release(m);
        return rc;
    }
    /* the sampler's checkpoints take the lock: stop it unlocked, holding the
     * reference (close cannot free m meanwhile) and STOPPING (no second stop) */
    m->state = STOPPING;
    pthread_mutex_unlock(&m->mu);
    wp_session_stop(m->session);
    pthread_mutex_lock(&m->mu);
    wp_recorder_stop(&m->rec); /* no checkpoint reads the run while it changes */
    m->run.end_wall_s = wp_wall_s();
    m->run.status = WP_RUN_COMPLETED;
    m->state = STOPPED;
    take(m, true); /* with its samples, for the ledger */
    wp_carbon_live(&m->run.assume, &m->carbon, &lib_diag);
    wp_run_account(&m->run);
    wp_recorder_finish(&m->rec);
    release(m);
    return WATTPRINT_OK;
}

int wattprint_read(wattprint_meter *m, wattprint_result *out)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (!out || (rc = result_ok(out)) != WATTPRINT_OK) {
        release(m);
        return out ? rc : fail(WATTPRINT_EINVAL, "no place for the result (out is NULL)");
    }
    if (m->state == RUNNING && (rc = take(m, false)) != WATTPRINT_OK) {
        release(m);
        return rc;
    }
    fill_result(m, &m->run.reading.totals, m->run.reading.duration_s, m->run.work.done, out);
    release(m);
    return WATTPRINT_OK;
}

int wattprint_json(wattprint_meter *m, char **json)
{
    int rc = acquire(m);

    if (rc)
        return rc;
    if (!json) {
        release(m);
        return fail(WATTPRINT_EINVAL, "no place for the JSON (json is NULL)");
    }
    if (m->state == RUNNING && (rc = take(m, false)) != WATTPRINT_OK) {
        release(m);
        return rc;
    }
    *json = wp_run_json_string(&m->run);
    release(m);
    return *json ? WATTPRINT_OK : fail(WATTPRINT_ENOMEM, "out of memory");
}

void wattprint_close(wattprint_meter *m)
{
    bool live = false;
    char said[512];

    if (!m)
        return;
    /* a running meter is stopped (and recorded) first; a stop already under
     * way in another thread finishes before m is freed (its reference). The
     * caller's last error is kept: a stopped meter's "not running" is none. */
    snprintf(said, sizeof said, "%s", wattprint_last_error());
    wattprint_stop(m);
    wp_lib_fail(0, "%s", said);
    /* leave the registry: no new call can reach m from now on */
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_registry && !live; i++)
        if (registry[i] == m) {
            registry[i] = registry[--n_registry];
            live = true;
        }
    if (!live) { /* closed already (by another thread), or never opened */
        pthread_mutex_unlock(&registry_mu);
        return;
    }
    m->closing = true;
    while (m->refs > 0) /* calls still inside finish first */
        pthread_cond_wait(&registry_idle, &registry_mu);
    pthread_mutex_unlock(&registry_mu);
    destroy(m);
}
