/* Estimated DRAM power where no counter can be read: power per DIMM, idle
 * plus a share of the busy figure that follows the machine's activity. The
 * DIMMs are read from SMBIOS when the kernel lets us, else guessed from the
 * installed size; a VM is billed its allocation's share of a host's DIMMs. */
#define _GNU_SOURCE
#include "sensor.h"

#include "../util/util.h"
#include "power_models.h"
#include "procfs.h"
#include "sysfs_parse.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct ram_model {
    struct wp_procstat *stat; /* for activity; NULL: activity assumed typical */
    double dimms;             /* DIMMs, or a VM's fractional share of a host's */
    bool started;
    double last_t, last_u, energy_j, lo_j, hi_j;
    struct wp_cpu_times last;
};

static void ram_close(struct wp_sensor *s)
{
    struct ram_model *m = s->priv;

    if (m) {
        wp_procstat_put(m->stat);
        free(m);
    }
    wp_sensor_free(s);
}

/* Installed DIMMs from SMBIOS type 17 entries (root-only on most systems).
 * Returns the count, 0 when none can be read. */
static int dmi_dimms(const char *sysfs, uint64_t *total_mb, char *type, size_t cap)
{
    char dir[4096];
    struct dirent *de;
    DIR *d;
    int n = 0;

    *total_mb = 0;
    if (wp_path(dir, sizeof dir, sysfs, "firmware/dmi/entries") || !(d = opendir(dir)))
        return 0;
    while ((de = readdir(d))) {
        char path[4400];
        unsigned char raw[256];
        struct wp_dimm dimm;
        ssize_t got;
        int fd;
        if (strncmp(de->d_name, "17-", 3) != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s/raw", dir, de->d_name);
        if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
            continue;
        got = read(fd, raw, sizeof raw);
        close(fd);
        if (got > 0 && wp_dmi_parse_memory_device(raw, (size_t)got, &dimm) == 0 && dimm.size_mb) {
            n++;
            *total_mb += dimm.size_mb;
            if (dimm.type[0])
                snprintf(type, cap, "%s", dimm.type);
        }
    }
    closedir(d);
    return n;
}

/* How many DIMMs, and how that was known, into the channel's detail. */
static void count_dimms(struct wp_sensor_env *env, struct ram_model *m, uint64_t bytes,
                        struct wp_channel *ch)
{
    char per[96];
    double gib = (double)bytes / (1024.0 * 1024.0 * 1024.0);
    struct wp_cpuinfo info;
    char type[8] = "";
    uint64_t mb;
    int n, size;

    snprintf(per, sizeof per, "%.1f W idle to %.1f W busy per DIMM, activity %.1f x CPU use",
             WP_DIMM_IDLE_W, WP_DIMM_ACTIVE_W, WP_RAM_ACTIVITY_PER_UTIL);
    wp_procfs_read_cpuinfo(env->procfs_root, &info);
    if (info.hypervisor) {
        m->dimms = gib / WP_HOST_DIMM_GB;
        snprintf(ch->detail, sizeof ch->detail,
                 "virtual machine: %.1f GiB allocated = %.2f of a %.0f GB host DIMM; %s", gib,
                 m->dimms, WP_HOST_DIMM_GB, per);
    } else if ((n = dmi_dimms(env->sysfs_root, &mb, type, sizeof type)) > 0) {
        m->dimms = n;
        snprintf(ch->detail, sizeof ch->detail, "%d %s DIMM%s (%.0f GB) from SMBIOS; %s", n,
                 type[0] ? type : "memory", n == 1 ? "" : "s", (double)mb / 1024.0, per);
    } else {
        m->dimms = n = wp_dimms_guess(gib, info.sockets, &size);
        snprintf(ch->detail, sizeof ch->detail,
                 "%d DIMMs guessed (%.1f GiB installed, %d GB modules); %s", n, gib, size, per);
    }
}

static int ram_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char text[8192];
    uint64_t bytes;
    struct wp_sensor *s;
    struct ram_model *m;
    struct wp_channel *ch;
    long n;

    if ((env->covered & (1u << WP_DRAM)) || !env->allow_estimates)
        return -ENODEV;
    n = wp_read_text(env->procfs_root, "meminfo", text, sizeof text);
    if (n <= 0 || wp_procfs_parse_meminfo_total(text, &bytes))
        return -ENODEV;
    m = calloc(1, sizeof *m);
    s = m ? wp_sensor_alloc(&wp_ram_model_ops, 1) : NULL;
    if (!s) {
        free(m);
        return -ENOMEM;
    }
    m->stat = wp_sensor_env_procstat(env);
    ch = &s->channels[0];
    ch->sensor = "ram-model";
    ch->component = WP_DRAM;
    ch->method = WP_ESTIMATED;
    ch->counted = true;
    snprintf(ch->device, sizeof ch->device, "dram");
    count_dimms(env, m, bytes, ch);
    s->priv = m;
    *out = s;
    return 0;
}

/* Machine-wide CPU utilisation since the last reading, the activity's proxy. */
static double utilisation(struct ram_model *m, double now_s)
{
    struct wp_cpu_times t;

    if (!m->stat || wp_procstat_read(m->stat, now_s, &t))
        return !m->stat ? 1.0 : m->last_u; /* unknown: activity 0.5, a typical job */
    double u = m->started ? wp_cpu_times_util(&m->last, &t, m->last_u) : 0;
    m->last = t;
    return u;
}

static void ram_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct ram_model *m = s->priv;
    double u = utilisation(m, now_s);

    if (m->started && now_s > m->last_t) {
        double dt = now_s - m->last_t, lo, hi;
        wp_dimm_power_range_w(m->dimms, u, &lo, &hi);
        m->energy_j += wp_dimm_power_w(m->dimms, WP_RAM_ACTIVITY_PER_UTIL * u) * dt;
        m->lo_j += lo * dt;
        m->hi_j += hi * dt;
        s->channels[0].range_lo = m->lo_j / m->energy_j;
        s->channels[0].range_hi = m->hi_j / m->energy_j;
    }
    m->started = true;
    m->last_u = u;
    m->last_t = now_s;
    energy_uj[0] = (uint64_t)(m->energy_j * 1e6);
    ok[0] = true;
}

const struct wp_sensor_ops wp_ram_model_ops = {
    .name = "ram-model",
    .components = (1u << WP_DRAM),
    .probe = ram_probe,
    .read = ram_read,
    .close = ram_close,
};
