/* RAPL through the perf_event "power" PMU: used where powercap cannot be read
 * but perf is allowed (perf_event_paranoid <= 0, or CAP_PERFMON). Its counts
 * are 64-bit, kept by the kernel, so they never wrap here. */
#define _GNU_SOURCE
#include "sensor.h"
#include "sysfs_parse.h"

#include "../util/util.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define MAX_PKGS 16
#define MAX_FDS  (MAX_PKGS * 5)
#define PMU_DIR  "bus/event_source/devices/power"

struct perf_rapl {
    int n;
    int fds[MAX_FDS];
    double scale_uj[MAX_FDS]; /* microjoules per count */
};

static const struct {
    const char *event;
    enum wp_component comp;
    const char *prefix;
    bool counted;
} events[] = {
    {"energy-pkg", WP_CPU, "package", true},  {"energy-ram", WP_DRAM, "dram", true},
    {"energy-cores", WP_CORE, "core", false}, {"energy-gpu", WP_UNCORE, "uncore", false},
    {"energy-psys", WP_PSYS, "psys", false},
};

static long perf_open(struct perf_event_attr *attr, int cpu)
{
    return syscall(SYS_perf_event_open, attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static void perf_close(struct wp_sensor *s)
{
    struct perf_rapl *p = s->priv;

    if (p) {
        for (int i = 0; i < p->n; i++)
            close(p->fds[i]);
        free(p);
    }
    wp_sensor_free(s);
}

/* An event's config and scale from the PMU's sysfs files. Returns 0 or a negative errno. */
static int event_of(const struct wp_sensor_env *env, const char *event, uint64_t *config,
                    double *scale)
{
    char buf[256], rel[256];
    long n;

    snprintf(rel, sizeof rel, PMU_DIR "/events/%s", event);
    n = wp_read_text(env->sysfs_root, rel, buf, sizeof buf);
    if (n <= 0 || wp_perf_parse_config(buf, config))
        return -ENODEV;
    snprintf(rel, sizeof rel, PMU_DIR "/events/%s.scale", event);
    n = wp_read_text(env->sysfs_root, rel, buf, sizeof buf);
    if (n <= 0)
        return -ENODEV;
    buf[strcspn(buf, "\n")] = '\0';
    return wp_parse_double(buf, scale) || *scale <= 0 ? -ENODEV : 0;
}

/* Opens event e on package c's CPU into channel slot p->n. Returns 0 or a negative errno. */
static int open_channel(struct wp_sensor_env *env, struct perf_rapl *p, struct wp_channel *ch,
                        size_t e, int c, int cpu, uint64_t type, uint64_t config, double scale,
                        bool *said)
{
    struct perf_event_attr attr = {.type = (uint32_t)type, .size = sizeof attr, .config = config};
    long fd = perf_open(&attr, cpu);

    if (fd < 0) {
        int err = errno;
        if ((err == EACCES || err == EPERM) && !*said) {
            env->unreadable++;
            wp_diag(&env->diag, WP_HINT_NONE,
                    "cannot open the perf power PMU (%s): %s. Allow it with "
                    "`sysctl kernel.perf_event_paranoid=0` or CAP_PERFMON.",
                    events[e].event, strerror(err));
            *said = true;
        }
        return -ENODEV;
    }
    memset(ch, 0, sizeof *ch);
    ch->sensor = "rapl-perf";
    ch->component = events[e].comp;
    ch->method = WP_MEASURED;
    ch->counted = events[e].counted;
    ch->max_power_w = 1000.0;
    if (events[e].comp == WP_PSYS)
        snprintf(ch->device, sizeof ch->device, "psys");
    else
        snprintf(ch->device, sizeof ch->device, "%s-%d", events[e].prefix, c);
    if (!ch->counted && events[e].comp != WP_PSYS)
        snprintf(ch->part_of, sizeof ch->part_of, "package-%d", c);
    snprintf(ch->detail, sizeof ch->detail, "perf power/%s/ on cpu %d", events[e].event, cpu);
    p->fds[p->n] = (int)fd;
    p->scale_uj[p->n] = scale * 1e6;
    p->n++;
    return 0;
}

static int perf_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char buf[256];
    struct wp_channel chans[MAX_FDS];
    struct perf_rapl *p;
    struct wp_sensor *s;
    uint64_t type;
    int cpus[MAX_PKGS], ncpu;
    long n;
    bool said = false;

    if (env->covered & (1u << WP_CPU))
        return -ENODEV;
    n = wp_read_text(env->sysfs_root, PMU_DIR "/type", buf, sizeof buf);
    if (n <= 0 || wp_parse_u64(buf, (size_t)n, &type))
        return -ENODEV;
    n = wp_read_text(env->sysfs_root, PMU_DIR "/cpumask", buf, sizeof buf);
    if (n <= 0 || (ncpu = wp_sysfs_parse_cpulist(buf, cpus, MAX_PKGS)) <= 0)
        return -ENODEV;
    if (!(p = calloc(1, sizeof *p)))
        return -ENOMEM;
    for (size_t e = 0; e < sizeof events / sizeof *events; e++) {
        uint64_t config;
        double scale;
        if (event_of(env, events[e].event, &config, &scale))
            continue;
        /* psys is one domain for the platform; the others are one per package. */
        for (int c = 0; c < (events[e].comp == WP_PSYS ? 1 : ncpu) && p->n < MAX_FDS; c++)
            open_channel(env, p, &chans[p->n], e, c, cpus[c], type, config, scale, &said);
    }
    if (p->n == 0) {
        free(p);
        return -ENODEV;
    }
    s = wp_sensor_alloc(&wp_rapl_perf_ops, p->n);
    if (!s) {
        for (int i = 0; i < p->n; i++)
            close(p->fds[i]);
        free(p);
        return -ENOMEM;
    }
    memcpy(s->channels, chans, (size_t)p->n * sizeof *chans);
    s->priv = p;
    *out = s;
    return 0;
}

static void perf_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct perf_rapl *p = s->priv;

    (void)now_s;
    for (int i = 0; i < p->n; i++) {
        uint64_t count;
        ok[i] = read(p->fds[i], &count, sizeof count) == (ssize_t)sizeof count;
        if (ok[i])
            energy_uj[i] = (uint64_t)((double)count * p->scale_uj[i]);
    }
}

const struct wp_sensor_ops wp_rapl_perf_ops = {
    .name = "rapl-perf",
    .components = (1u << WP_CPU) | (1u << WP_DRAM) | (1u << WP_PSYS),
    .probe = perf_probe,
    .read = perf_read,
    .close = perf_close,
};
