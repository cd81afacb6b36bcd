/* libwattprint: the public C API (include/wattprint.h), a thin face over the
 * sensors, the meter, the account and the ledger. */
#define _GNU_SOURCE
#include "wattprint.h"

#include "../account/assume.h"
#include "../ledger/recorder.h"
#include "../meter/meter.h"
#include "../report/run.h"
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

enum state { OPENED, RUNNING, STOPPED };

struct window {
    char name[128];
    bool open;
    double t0, work0, *e0;
    wattprint_result result;
    char *json; /* closed windows: their result as JSON */
};

struct wattprint_meter {
    pthread_mutex_t mu;
    enum state state;
    struct wp_run run;
    struct wp_recorder rec;
    struct wp_carbon_opts carbon;
    char *argv[2];
    char name[256];
    char *ledger; /* NULL: default; "": none */
    double interval_s;
    struct window *windows;
    int n_windows;
};

static _Thread_local char last_error[512];

static int fail(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return code;
}

/* Live handles: a call with a pointer not in this set (closed, or never
 * opened) is refused without touching it. */
static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
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

/* Locks m if it is a live handle; returns 0, or WATTPRINT_ESTATE. */
static int acquire(wattprint_meter *m)
{
    bool live = false;

    if (!m)
        return fail(WATTPRINT_EINVAL, "no meter (NULL handle)");
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_registry && !live; i++)
        live = registry[i] == m;
    if (live)
        pthread_mutex_lock(&m->mu); /* under the registry lock: close cannot race */
    pthread_mutex_unlock(&registry_mu);
    return live ? 0 : fail(WATTPRINT_ESTATE, "the meter is closed or was never opened");
}

static void release(wattprint_meter *m)
{
    pthread_mutex_unlock(&m->mu);
}

/* Frees everything a handle holds; it must not be in the registry. */
static void destroy(wattprint_meter *m)
{
    wp_meter_free(m->run.meter);
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

int wattprint_open(const wattprint_options *opts, wattprint_meter **out)
{
    static const wattprint_options defaults;
    struct wp_sensor_env env = {0};
    struct wp_sensor **sensors;
    wattprint_meter *m;
    char err[512];
    int n, rc = WATTPRINT_OK;

    if (!out)
        return fail(WATTPRINT_EINVAL, "no place for the handle (out is NULL)");
    *out = NULL;
    if (!opts)
        opts = &defaults;
    if (opts->interval_s < 0 || opts->interval_s > 3600 || !isfinite(opts->interval_s) ||
        (opts->interval_s > 0 && opts->interval_s < 0.001))
        return fail(WATTPRINT_EINVAL, "interval_s must be 0 (1 s) or from 0.001 to 3600");
    if (opts->pue != 0 && !(opts->pue >= WP_PUE_MIN && opts->pue <= WP_PUE_MAX))
        return fail(WATTPRINT_EINVAL, "pue must be from 1.0 to 3.0");
    if (opts->intensity_g_per_kwh < 0 || !isfinite(opts->intensity_g_per_kwh))
        return fail(WATTPRINT_EINVAL, "intensity_g_per_kwh must be finite and not negative");
    if (opts->sensors && wp_sensors_check_list(opts->sensors, err, sizeof err))
        return fail(WATTPRINT_EINVAL, "sensors: %s", err);
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

    env.sysfs_root = wp_sysfs_root();
    env.procfs_root = wp_procfs_root();
    env.allow_estimates = !opts->require_measured;
    env.gpus = opts->gpus;
    env.gpus_only = wp_sensors_other_rank();
    env.only = opts->sensors;
    n = wp_sensors_probe(&env, &sensors);
    if (n < 0) {
        rc = fail(WATTPRINT_ENOMEM, "out of memory opening the sensors");
        goto out;
    }
    if (env.gpu_error ||
        (opts->require_measured && (env.unreadable > 0 || !(env.covered & (1u << WP_CPU))))) {
        wp_sensors_close(sensors, n);
        rc = env.gpu_error ? fail(WATTPRINT_EINVAL, "gpus: an entry names no GPU here")
                           : fail(WATTPRINT_ESENSOR, "require_measured: no CPU energy counter "
                                                     "can be read here");
        goto out;
    }
    if (wp_meter_create(sensors, n, m->interval_s, &m->run.meter) != 0 || registry_add(m) != 0) {
        rc = fail(WATTPRINT_ENOMEM, "out of memory creating the meter");
        goto out;
    }
    *out = m;
out:
    if (rc != WATTPRINT_OK)
        destroy(m);
    return rc;
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
    if (!getcwd(m->run.cwd, sizeof m->run.cwd))
        m->run.cwd[0] = '\0';
    gethostname(m->run.host, sizeof m->run.host);
    snprintf(m->run.user, sizeof m->run.user, "%s", getenv("USER") ? getenv("USER") : "");
    m->run.status = WP_RUN_RUNNING;
    m->run.start_wall_s = wp_wall_s();
    wp_run_account(&m->run);
    m->rec.guard = &m->mu;
    wp_recorder_open(&m->rec, &m->run, m->ledger && *m->ledger ? m->ledger : NULL,
                     m->ledger && !*m->ledger);
    if (m->rec.ledger)
        wp_meter_on_tick(m->run.meter, 5.0, wp_recorder_checkpoint, &m->rec);
    rc = wp_meter_start(m->run.meter);
    if (rc) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "cannot start the sampler: %s", strerror(-rc));
    }
    m->state = RUNNING;
    release(m);
    return WATTPRINT_OK;
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
    n_ch = wp_meter_n_channels(m->run.meter);
    free(w->e0);
    w->e0 = calloc((size_t)(n_ch > 0 ? n_ch : 1), sizeof *w->e0);
    if (!w->e0) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "out of memory");
    }
    snprintf(w->name, sizeof w->name, "%s", name);
    wp_meter_sample(m->run.meter); /* a fresh reading marks the boundary */
    wp_meter_energies(m->run.meter, w->e0);
    w->t0 = wp_meter_duration_s(m->run.meter);
    w->work0 = m->run.work.done;
    w->open = true;
    release(m);
    return WATTPRINT_OK;
}

static void fill_result(wattprint_meter *m, const struct wp_energy_totals *t, double duration,
                        double work, wattprint_result *r)
{
    struct wp_carbon c;

    wp_account(t->total_j, &m->run.assume, &c);
    memset(r, 0, sizeof *r);
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
}

int wattprint_window_end(wattprint_meter *m, const char *name, wattprint_result *out)
{
    struct wp_energy_totals t;
    struct window *w;
    double *e;
    int rc = acquire(m), n_ch;

    if (rc)
        return rc;
    if (!name || !(w = find_window(m, name, true))) {
        release(m);
        return fail(WATTPRINT_ENOENT, "no open window '%s'", name ? name : "(null)");
    }
    n_ch = wp_meter_n_channels(m->run.meter);
    if (!(e = calloc((size_t)(n_ch > 0 ? n_ch : 1), sizeof *e))) {
        release(m);
        return fail(WATTPRINT_ENOMEM, "out of memory");
    }
    wp_meter_sample(m->run.meter);
    wp_meter_energies(m->run.meter, e);
    for (int i = 0; i < n_ch; i++)
        e[i] -= w->e0[i];
    wp_meter_totals_of(m->run.meter, e, &t);
    fill_result(m, &t, wp_meter_duration_s(m->run.meter) - w->t0, m->run.work.done - w->work0,
                &w->result);
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
        *out = w->result;
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
        release(m);
        return fail(WATTPRINT_ESTATE, "the meter is not running");
    }
    /* the sampler's checkpoints take the lock: stop it first */
    release(m);
    wp_meter_stop(m->run.meter);
    if ((rc = acquire(m)))
        return rc;
    m->run.end_wall_s = wp_wall_s();
    m->run.status = WP_RUN_COMPLETED;
    wp_carbon_live(&m->run.assume, &m->carbon);
    wp_run_account(&m->run);
    m->rec.guard = NULL;
    wp_recorder_finish(&m->rec);
    m->state = STOPPED;
    release(m);
    return WATTPRINT_OK;
}

int wattprint_read(wattprint_meter *m, wattprint_result *out)
{
    struct wp_energy_totals t;
    int rc = acquire(m);

    if (rc)
        return rc;
    if (!out) {
        release(m);
        return fail(WATTPRINT_EINVAL, "no place for the result (out is NULL)");
    }
    if (m->state == RUNNING)
        wp_meter_sample(m->run.meter);
    wp_meter_totals(m->run.meter, &t);
    fill_result(m, &t, wp_meter_duration_s(m->run.meter), m->run.work.done, out);
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
    if (m->state == RUNNING) {
        wp_meter_sample(m->run.meter);
        wp_run_account(&m->run);
    }
    *json = wp_run_json_string(&m->run);
    release(m);
    return *json ? WATTPRINT_OK : fail(WATTPRINT_ENOMEM, "out of memory");
}

void wattprint_close(wattprint_meter *m)
{
    bool live = false;

    if (!m || acquire(m) != 0)
        return;
    if (m->state == RUNNING) {
        release(m);
        wattprint_stop(m);
        if (acquire(m) != 0)
            return;
    }
    /* leave the registry first: no call can reach m from now on */
    pthread_mutex_lock(&registry_mu);
    for (size_t i = 0; i < n_registry; i++)
        if (registry[i] == m) {
            registry[i] = registry[--n_registry];
            live = true;
            break;
        }
    pthread_mutex_unlock(&registry_mu);
    release(m);
    if (live)
        destroy(m);
}

void wattprint_free(void *p)
{
    free(p);
}

const char *wattprint_last_error(void)
{
    return last_error;
}

const char *wattprint_strerror(int code)
{
    switch (code) {
    case WATTPRINT_OK:
        return "success";
    case WATTPRINT_EINVAL:
        return "invalid argument";
    case WATTPRINT_ESTATE:
        return "not in this state";
    case WATTPRINT_ENOENT:
        return "not found";
    case WATTPRINT_ENOMEM:
        return "out of memory";
    case WATTPRINT_ESENSOR:
        return "no measured energy source";
    }
    return "unknown error";
}

const char *wattprint_version(void)
{
    return WP_VERSION;
}
