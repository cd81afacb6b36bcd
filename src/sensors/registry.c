/* The sensor registry: which backends exist and the order they are tried in.
 * Measured backends come first; the estimating models fill only what no
 * counter could measure. */
#include "sensor.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct wp_sensor_ops *const registry[] = {
    &wp_rapl_ops, &wp_rapl_perf_ops, &wp_serve_client_ops, &wp_nvml_ops,
    &wp_rocm_ops, &wp_cpu_model_ops, &wp_ram_model_ops,
};

bool wp_sensors_listed(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len;
        if (*p == ',')
            p++;
    }
    return false;
}

int wp_sensors_check_list(const char *list, char *err, size_t cap)
{
    char name[32], known[160] = "";

    for (size_t i = 0; i < sizeof registry / sizeof *registry; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 registry[i]->name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ","), i;
        for (i = 0; i < sizeof registry / sizeof *registry; i++)
            if (strlen(registry[i]->name) == len && strncmp(p, registry[i]->name, len) == 0)
                break;
        if (len == 0 || i == sizeof registry / sizeof *registry) {
            snprintf(name, sizeof name, "%.*s", (int)(len < 31 ? len : 31), p);
            snprintf(err, cap, "unknown sensor '%s' (known: %s)", name, known);
            return -EINVAL;
        }
        p += len;
        if (*p == ',')
            p++;
    }
    return 0;
}

struct wp_procstat *wp_sensor_env_procstat(struct wp_sensor_env *env)
{
    if (!env->procstat)
        env->procstat = wp_procstat_open(env->procfs_root);
    return wp_procstat_ref(env->procstat);
}

static int probe_all(struct wp_sensor_env *env, struct wp_sensor **list, size_t n_reg)
{
    int n = 0;

    for (size_t i = 0; i < n_reg; i++) {
        struct wp_sensor *s = NULL;
        int rc;
        if (env->only && !wp_sensors_listed(env->only, registry[i]->name))
            continue;
        /* With another rank measuring the node, only GPUs are this one's. */
        if (env->gpus_only && !(registry[i]->components & (1u << WP_GPU)))
            continue;
        rc = registry[i]->probe(env, &s);
        if (rc == -ENOMEM) {
            wp_sensors_close(list, n);
            return rc;
        }
        if (rc || !s)
            continue;
        if (s->n_channels == 0) {
            s->ops->close(s);
            continue;
        }
        for (int c = 0; c < s->n_channels; c++)
            if (s->channels[c].method == WP_MEASURED)
                env->covered |= 1u << s->channels[c].component;
        if (wp_attribute_wrap(env, s, &s)) {
            wp_sensors_close(list, n);
            return -ENOMEM;
        }
        list[n++] = s;
    }
    return n;
}

int wp_sensors_probe(struct wp_sensor_env *env, struct wp_sensor ***out)
{
    size_t n_reg = sizeof registry / sizeof *registry;
    struct wp_sensor **list = calloc(n_reg, sizeof *list);
    int n;

    if (!list)
        return -ENOMEM;
    n = probe_all(env, list, n_reg);
    /* the sensors hold their references to /proc/stat; env's goes */
    wp_procstat_put(env->procstat);
    env->procstat = NULL;
    if (n < 0)
        return n;
    *out = list;
    return n;
}

void wp_sensors_close(struct wp_sensor **s, int n)
{
    if (!s)
        return;
    for (int i = 0; i < n; i++)
        if (s[i])
            s[i]->ops->close(s[i]);
    free(s);
}

struct wp_sensor *wp_sensor_alloc(const struct wp_sensor_ops *ops, int n)
{
    struct wp_sensor *s = calloc(1, sizeof *s);

    if (!s)
        return NULL;
    s->ops = ops;
    s->n_channels = n;
    if (n > 0 && !(s->channels = calloc((size_t)n, sizeof *s->channels))) {
        free(s);
        return NULL;
    }
    return s;
}

void wp_sensor_free(struct wp_sensor *s)
{
    if (!s)
        return;
    free(s->channels);
    free(s);
}

const char *wp_component_name(enum wp_component c)
{
    static const char *const names[] = {"cpu", "dram", "gpu", "psys", "core", "uncore"};
    return (unsigned)c < WP_COMPONENT_COUNT ? names[c] : "unknown";
}

const char *wp_method_name(enum wp_method m)
{
    return m == WP_MEASURED ? "measured" : "estimated";
}

void wp_sensor_gpu_why(struct wp_sensor_env *env, const char *fmt, ...)
{
    size_t o = strlen(env->gpu_why);
    va_list ap;

    if (o && o + 2 < sizeof env->gpu_why) {
        memcpy(env->gpu_why + o, "; ", 3);
        o += 2;
    }
    va_start(ap, fmt);
    vsnprintf(env->gpu_why + o, sizeof env->gpu_why - o, fmt, ap);
    va_end(ap);
}

bool wp_sensors_other_rank(void)
{
    static const char *const vars[] = {"LOCAL_RANK", "SLURM_LOCALID", "OMPI_COMM_WORLD_LOCAL_RANK",
                                       "MPI_LOCALRANKID"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v)
            return strcmp(v, "0") != 0;
    }
    return false;
}
