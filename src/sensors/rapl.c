/* RAPL through the powercap sysfs interface (/sys/class/powercap).
 * Counts each joule once: core and uncore lie inside their package, psys
 * overlaps the packages, and an intel-rapl-mmio zone repeats an MSR package. */
#define _GNU_SOURCE
#include "sensor.h"

#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ZONES 64
/* Used to pace the sampler when a zone publishes no maximum power: above any
 * CPU package or DRAM domain shipping today, so wraps are never missed. */
#define DEFAULT_MAX_POWER_W 1000.0

struct zone {
    char id[64];   /* "intel-rapl:0:1" */
    char name[32]; /* "dram" */
    int fd;
    uint64_t range_uj;
    double max_power_w;
    bool mmio;
};

struct rapl {
    int n;
    int fds[MAX_ZONES];
};

static int cmp_zone(const void *a, const void *b)
{
    return strcmp(((const struct zone *)a)->id, ((const struct zone *)b)->id);
}

static void chomp(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' '))
        s[--n] = '\0';
}

static void say_unreadable(const struct wp_diag *d, const char *path, int err)
{
    wp_diag(d,
            (err == EACCES || err == EPERM) && geteuid() != 0 ? WP_HINT_SERVE_SOCKET : WP_HINT_NONE,
            "cannot read the RAPL counter %s: %s.%s", path, strerror(err),
            err == EACCES ? " Since Linux 5.10 these counters are readable by root only "
                            "(CVE-2020-8694)"
                          : "");
}

/* Opens one zone's counter and reads its attributes. Returns 0, or -errno. */
static int open_zone(const char *base, struct zone *z, struct wp_sensor_env *env, bool *said)
{
    char rel[256], path[4096], buf[64];
    uint64_t v;
    long n;

    snprintf(rel, sizeof rel, "%s/name", z->id);
    if (wp_read_text(base, rel, z->name, sizeof z->name) <= 0)
        return -ENOENT;
    chomp(z->name);

    snprintf(rel, sizeof rel, "%s/max_energy_range_uj", z->id);
    n = wp_read_text(base, rel, buf, sizeof buf);
    z->range_uj = (n > 0 && wp_parse_u64(buf, (size_t)n, &v) == 0) ? v : 0;

    z->max_power_w = DEFAULT_MAX_POWER_W;
    snprintf(rel, sizeof rel, "%s/constraint_0_max_power_uw", z->id);
    n = wp_read_text(base, rel, buf, sizeof buf);
    if (n > 0 && wp_parse_u64(buf, (size_t)n, &v) == 0 && v > 0)
        z->max_power_w = (double)v / 1e6;

    snprintf(rel, sizeof rel, "%s/energy_uj", z->id);
    if (wp_path(path, sizeof path, base, rel))
        return -ENAMETOOLONG;
    z->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (z->fd < 0) {
        int err = errno;
        env->unreadable++;
        if (!*said) {
            say_unreadable(&env->diag, path, err);
            *said = true;
        }
        return -err;
    }
    /* The first read proves the counter works; a zone that cannot be read now is left out. */
    n = wp_pread_text(z->fd, buf, sizeof buf);
    if (n < 0 || wp_parse_u64(buf, (size_t)n, &v)) {
        int err = n < 0 ? (int)-n : EINVAL;
        env->unreadable++;
        if (!*said) {
            say_unreadable(&env->diag, path, err);
            *said = true;
        }
        close(z->fd);
        z->fd = -1;
        return -err;
    }
    return 0;
}

/* The package index a zone belongs to: "intel-rapl:1:0" -> the name of
 * "intel-rapl:1" ("package-1") -> 1. Returns -1 when unknown. */
static int package_of(const struct zone *zones, int n, const struct zone *z)
{
    char parent[64];
    char *colon;

    snprintf(parent, sizeof parent, "%s", z->id);
    colon = strrchr(parent, ':');
    if (colon && strchr(parent, ':') != colon)
        *colon = '\0'; /* a subzone: look at its parent */
    for (int i = 0; i < n; i++) {
        int pkg;
        if (strcmp(zones[i].id, parent) == 0 && sscanf(zones[i].name, "package-%d", &pkg) == 1)
            return pkg;
    }
    return -1;
}

static bool msr_package_exists(const struct zone *zones, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!zones[i].mmio && zones[i].fd >= 0 && strcmp(zones[i].name, name) == 0)
            return true;
    return false;
}

/* Fills ch from zone z; returns false when the zone is to be left out. */
static bool classify(const struct zone *zones, int n, const struct zone *z, struct wp_channel *ch)
{
    int depth = 0, pkg = package_of(zones, n, z);

    for (const char *p = z->id; *p; p++)
        depth += *p == ':';
    ch->sensor = "rapl";
    ch->method = WP_MEASURED;
    ch->counted = true;
    ch->range_uj = z->range_uj;
    ch->max_power_w = z->max_power_w;
    snprintf(ch->detail, sizeof ch->detail, "powercap %s energy_uj", z->id);

    if (strncmp(z->name, "package-", 8) == 0 && depth == 1) {
        if (z->mmio && msr_package_exists(zones, n, z->name))
            return false; /* the MMIO interface repeats the MSR counter */
        ch->component = WP_CPU;
        snprintf(ch->device, sizeof ch->device, "%s", z->name);
    } else if (strcmp(z->name, "psys") == 0) {
        ch->component = WP_PSYS;
        ch->counted = false;
        snprintf(ch->device, sizeof ch->device, "psys");
    } else if (strcmp(z->name, "dram") == 0) {
        if (z->mmio)
            return false;
        ch->component = WP_DRAM;
        if (pkg >= 0)
            snprintf(ch->device, sizeof ch->device, "dram-%d", pkg);
        else
            snprintf(ch->device, sizeof ch->device, "dram");
    } else if (depth == 2 && pkg >= 0 && !z->mmio) {
        /* core, uncore and any other subzone lie inside their package */
        ch->component = strcmp(z->name, "core") == 0 ? WP_CORE : WP_UNCORE;
        ch->counted = false;
        snprintf(ch->device, sizeof ch->device, "%.20s-%d", z->name, pkg);
        snprintf(ch->part_of, sizeof ch->part_of, "package-%d", pkg);
    } else {
        return false;
    }
    return true;
}

static void rapl_close(struct wp_sensor *s)
{
    struct rapl *r = s->priv;

    if (r) {
        for (int i = 0; i < r->n; i++)
            if (r->fds[i] >= 0)
                close(r->fds[i]);
        free(r);
    }
    wp_sensor_free(s);
}

static int rapl_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char base[4096];
    struct zone zones[MAX_ZONES];
    struct wp_channel chans[MAX_ZONES];
    struct wp_sensor *s;
    struct rapl *r;
    struct dirent *de;
    DIR *d;
    int n = 0, nc = 0;
    bool said = false;

    if (wp_path(base, sizeof base, env->sysfs_root, "class/powercap"))
        return -ENODEV;
    d = opendir(base);
    if (!d)
        return -ENODEV;
    while ((de = readdir(d)) && n < MAX_ZONES) {
        bool mmio = strncmp(de->d_name, "intel-rapl-mmio:", 16) == 0;
        if (!mmio && strncmp(de->d_name, "intel-rapl:", 11) != 0)
            continue;
        if (strlen(de->d_name) >= sizeof zones[n].id)
            continue;
        memset(&zones[n], 0, sizeof zones[n]);
        snprintf(zones[n].id, sizeof zones[n].id, "%s", de->d_name);
        zones[n].mmio = mmio;
        zones[n].fd = -1;
        n++;
    }
    closedir(d);
    if (n == 0)
        return -ENODEV;
    qsort(zones, (size_t)n, sizeof *zones, cmp_zone);
    for (int i = 0; i < n; i++)
        if (open_zone(base, &zones[i], env, &said))
            zones[i].fd = -1;

    r = calloc(1, sizeof *r);
    if (!r)
        goto nomem;
    for (int i = 0; i < n; i++) {
        if (zones[i].fd < 0)
            continue;
        memset(&chans[nc], 0, sizeof chans[nc]);
        if (!classify(zones, n, &zones[i], &chans[nc])) {
            close(zones[i].fd);
            zones[i].fd = -1;
            continue;
        }
        r->fds[nc++] = zones[i].fd;
        zones[i].fd = -1;
    }
    r->n = nc;
    if (nc == 0) {
        free(r);
        return -ENODEV; /* zones exist, none readable: the message was given */
    }
    s = wp_sensor_alloc(&wp_rapl_ops, nc);
    if (!s)
        goto nomem;
    memcpy(s->channels, chans, (size_t)nc * sizeof *chans);
    s->priv = r;
    *out = s;
    return 0;

nomem:
    for (int i = 0; i < n; i++)
        if (zones[i].fd >= 0)
            close(zones[i].fd);
    if (r) {
        for (int i = 0; i < r->n; i++)
            close(r->fds[i]);
        free(r);
    }
    return -ENOMEM;
}

static void rapl_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct rapl *r = s->priv;
    char buf[32];

    (void)now_s;
    for (int i = 0; i < r->n; i++) {
        long n = wp_pread_text(r->fds[i], buf, sizeof buf);
        ok[i] = n > 0 && wp_parse_u64(buf, (size_t)n, &energy_uj[i]) == 0;
    }
}

const struct wp_sensor_ops wp_rapl_ops = {
    .name = "rapl",
    .components = (1u << WP_CPU) | (1u << WP_DRAM) | (1u << WP_PSYS),
    .probe = rapl_probe,
    .read = rapl_read,
    .close = rapl_close,
};
