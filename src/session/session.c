/* The session: options checked against one table, sensors opened, GPUs
 * chosen, the meter owned. */
#include "session.h"

#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct wp_session {
    struct wp_meter *meter;
    _Atomic int root_pid; /* the measured command, read by attributing sensors */
};

static const struct wp_limit limits[] = {
    {WP_FIELD_INTERVAL, 0.001, 3600, "a number of seconds from 0.001 to 3600"},
    {WP_FIELD_CPU_TDP, 0.001, 5000, "a power in watts above 0 and at most 5000"},
    {WP_FIELD_PUE, 1.0, 3.0, "a PUE from 1.0 to 3.0"},
    {WP_FIELD_INTENSITY, 0, 5000, "a grid intensity in gCO2e/kWh from 0 to 5000"},
    {WP_FIELD_CHECKPOINT, 0.1, 3600, "a number of seconds from 0.1 to 3600"},
};

const struct wp_limit *wp_limit_of(enum wp_field field)
{
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++)
        if (limits[i].field == field)
            return &limits[i];
    return NULL;
}

int wp_limit_check(enum wp_field field, double v)
{
    const struct wp_limit *l = wp_limit_of(field);
    return l && isfinite(v) && v >= l->min && v <= l->max ? 0 : -EINVAL;
}

static int fail(struct wp_session_error *e, enum wp_field f, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(struct wp_session_error *e, enum wp_field f, int code, const char *fmt, ...)
{
    va_list ap;
    e->field = f;
    e->code = code;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

static int check(const struct wp_session_opts *o, struct wp_session_error *e)
{
    const struct wp_limit *l;
    char why[256];

    if (wp_limit_check(WP_FIELD_INTERVAL, o->interval_s)) {
        l = wp_limit_of(WP_FIELD_INTERVAL);
        return fail(e, WP_FIELD_INTERVAL, -EINVAL, "%g is not %s", o->interval_s, l->what);
    }
    if (o->cpu_tdp_w != 0 && wp_limit_check(WP_FIELD_CPU_TDP, o->cpu_tdp_w)) {
        l = wp_limit_of(WP_FIELD_CPU_TDP);
        return fail(e, WP_FIELD_CPU_TDP, -EINVAL, "%g is not %s", o->cpu_tdp_w, l->what);
    }
    if (o->sensors && wp_sensors_check_list(o->sensors, why, sizeof why))
        return fail(e, WP_FIELD_SENSORS, -EINVAL, "%s", why);
    if (o->gpus && (!*o->gpus || strspn(o->gpus, ", ") == strlen(o->gpus)))
        return fail(e, WP_FIELD_GPUS, -EINVAL,
                    "'%s' is not all, visible, none or a list of indices and UUIDs", o->gpus);
    return 0;
}

/* What the probe found, against what the options asked for. */
static int judge(const struct wp_session_opts *o, const struct wp_sensor_env *env,
                 struct wp_session_error *e)
{
    if (env->gpu_error)
        return fail(e, env->gpu_error == WP_GPU_NO_ATTRIBUTION ? WP_FIELD_ATTRIBUTE : WP_FIELD_GPUS,
                    -EINVAL, "%s", env->gpu_err);
    if (o->gpus && !o->gpus_if_any && strcmp(o->gpus, "none") != 0 &&
        !(env->covered & (1u << WP_GPU)))
        return fail(e, WP_FIELD_GPUS, -ENODEV, "no GPU could be opened (%s)",
                    env->gpu_why[0] ? env->gpu_why : "no GPU library found");
    if (o->require_measured && !(env->covered & (1u << WP_CPU)))
        return fail(e, WP_FIELD_REQUIRE_MEASURED, -ENODEV, "%s",
                    env->unreadable ? "the energy counters exist but cannot be read"
                                    : "no CPU energy counter (RAPL) can be read on this machine");
    return 0;
}

int wp_session_open(const struct wp_session_opts *o, struct wp_session **out,
                    struct wp_session_error *e)
{
    struct wp_session *s;
    struct wp_sensor **sensors;
    struct wp_sensor_env env = {
        .sysfs_root = wp_sysfs_root(),
        .procfs_root = wp_procfs_root(),
        .cpu_tdp_w = o->cpu_tdp_w,
        .allow_estimates = !o->require_measured,
        .gpus = o->gpus,
        .gpus_only = wp_sensors_other_rank(),
        .attribute_process = o->attribute_process,
        .no_socket = o->no_socket,
        .only = o->sensors,
        .diag = o->diag,
    };
    int n, rc;

    memset(e, 0, sizeof *e);
    *out = NULL;
    if ((rc = check(o, e)) != 0)
        return rc;
    if (!(s = calloc(1, sizeof *s)))
        return fail(e, WP_FIELD_NONE, -ENOMEM, "out of memory");
    env.root_pid = &s->root_pid;
    if ((n = wp_sensors_probe(&env, &sensors)) < 0) {
        free(s);
        return fail(e, WP_FIELD_NONE, n, "cannot open the sensors: %s", strerror(-n));
    }
    if ((rc = judge(o, &env, e)) != 0) {
        wp_sensors_close(sensors, n);
        free(s);
        return rc;
    }
    if (wp_meter_create(sensors, n, o->interval_s, &o->diag, &s->meter) != 0) {
        free(s);
        return fail(e, WP_FIELD_NONE, -ENOMEM, "out of memory");
    }
    *out = s;
    return 0;
}

int wp_session_on_tick(struct wp_session *s, double every_s, void (*fn)(void *), void *arg)
{
    return wp_meter_on_tick(s->meter, every_s, fn, arg);
}

int wp_session_start(struct wp_session *s)
{
    return wp_meter_start(s->meter);
}

int wp_session_total_j(void *session, double *energy_j)
{
    struct wp_reading r;

    if (wp_session_read(session, false, &r) != 0)
        return -ENOMEM;
    *energy_j = r.totals.total_j;
    wp_reading_free(&r);
    return 0;
}

void wp_session_attach(struct wp_session *s, pid_t pid)
{
    atomic_store(&s->root_pid, (int)pid);
}

void wp_session_sample(struct wp_session *s)
{
    wp_meter_sample(s->meter);
}

void wp_session_stop(struct wp_session *s)
{
    wp_meter_stop(s->meter);
}

int wp_session_read(struct wp_session *s, bool with_samples, struct wp_reading *out)
{
    return wp_meter_read(s->meter, with_samples, out);
}

int wp_session_read_fresh(void *arg, double max_age_s, struct wp_reading *out)
{
    struct wp_session *s = arg;

    if (max_age_s >= 0 && wp_meter_age_s(s->meter) >= max_age_s)
        wp_meter_sample(s->meter);
    return wp_meter_read(s->meter, false, out);
}

double wp_session_elapsed_s(struct wp_session *s)
{
    return wp_meter_elapsed_s(s->meter);
}

void wp_session_free(struct wp_session *s)
{
    if (!s)
        return;
    wp_meter_free(s->meter);
    free(s);
}
