/* Estimated CPU power where no counter can be read (VMs, containers, no
 * permission): machine-wide utilisation from /proc/stat through a published
 * model. The boundary is the whole machine, as RAPL's is. */
#define _GNU_SOURCE
#include "sensor.h"

#include "../data/tables.h"
#include "../util/util.h"
#include "power_models.h"
#include "procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cpu_model {
    struct wp_procstat *stat;
    double tdp_w;              /* > 0: fitted curve x TDP; 0: per-thread model */
    double threads_per_socket; /* sets the curve's full-load share */
    int n_threads;
    bool started;
    double last_t, energy_j, last_u;
    struct wp_cpu_times last;
};

static void cpu_close(struct wp_sensor *s)
{
    struct cpu_model *m = s->priv;

    if (m) {
        wp_procstat_put(m->stat);
        free(m);
    }
    wp_sensor_free(s);
}

/* Chooses the model and says which and why in the channel's detail. */
static void describe(struct wp_channel *ch, struct cpu_model *m, const struct wp_cpuinfo *info,
                     double given_tdp_w)
{
    char matched[128], shape[64];
    double tdp = 0, full;

    m->threads_per_socket = (double)m->n_threads / info->sockets; /* sockets: at least 1 */
    full = wp_cpu_full_of_tdp(m->threads_per_socket);
    snprintf(shape, sizeof shape, "%d socket%s, %d cores, %d threads", info->sockets,
             info->sockets == 1 ? "" : "s", info->cores, m->n_threads);
    if (given_tdp_w > 0) {
        m->tdp_w = given_tdp_w;
        snprintf(ch->detail, sizeof ch->detail,
                 "fitted RAPL curve x TDP %.0f W, %.2f of it at full load (as given); %s", m->tdp_w,
                 full, shape);
    } else if (!info->hypervisor && info->model[0] &&
               wp_cpu_tdp_lookup(info->model, &tdp, matched, sizeof matched) == 0) {
        m->tdp_w = tdp * info->sockets;
        snprintf(ch->detail, sizeof ch->detail,
                 "fitted RAPL curve x TDP %.0f W, %.2f of it at full load (%d x %.40s, bare "
                 "metal); %s",
                 m->tdp_w, full, info->sockets, matched, shape);
    } else {
        /* A VM owns an unknown share of its host's chip, so a whole-chip TDP
         * would overstate; the per-thread model scales with what it was given. */
        snprintf(ch->detail, sizeof ch->detail,
                 "per-thread model %.2f-%.2f W x %d threads (%.40s%s)", WP_CCF_MIN_W_PER_VCPU,
                 WP_CCF_MAX_W_PER_VCPU, m->n_threads, info->model[0] ? info->model : "unknown CPU",
                 info->hypervisor ? ", virtual machine: host share unknown"
                                  : ", not in the TDP table");
    }
    ch->range_lo = m->tdp_w > 0 ? WP_CPU_TDP_RANGE_LO : WP_CCF_RANGE_LO;
    ch->range_hi = m->tdp_w > 0 ? WP_CPU_TDP_RANGE_HI : WP_CCF_RANGE_HI;
}

static int cpu_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char path[4096];
    struct wp_cpuinfo info;
    struct wp_cpu_times t;
    struct wp_sensor *s;
    struct cpu_model *m;
    struct wp_channel *ch;

    if ((env->covered & (1u << WP_CPU)) || !env->allow_estimates)
        return -ENODEV;
    if (wp_path(path, sizeof path, env->procfs_root, "stat"))
        return -ENODEV;
    m = calloc(1, sizeof *m);
    if (!m)
        return -ENOMEM;
    m->stat = wp_sensor_env_procstat(env);
    if (!m->stat || wp_procstat_read(m->stat, -1, &t)) {
        wp_diag(&env->diag, WP_HINT_NONE, "cannot read %s: CPU energy cannot be estimated", path);
        wp_procstat_put(m->stat);
        free(m);
        return -ENODEV;
    }
    m->n_threads = t.n_cpus;

    wp_procfs_read_cpuinfo(env->procfs_root, &info);

    s = wp_sensor_alloc(&wp_cpu_model_ops, 1);
    if (!s) {
        wp_procstat_put(m->stat);
        free(m);
        return -ENOMEM;
    }
    ch = &s->channels[0];
    ch->sensor = "cpu-model";
    ch->component = WP_CPU;
    ch->method = WP_ESTIMATED;
    ch->counted = true;
    snprintf(ch->device, sizeof ch->device, "cpu");

    describe(ch, m, &info, env->cpu_tdp_w);
    s->priv = m;
    *out = s;
    return 0;
}

static double model_power(const struct cpu_model *m, double u)
{
    return m->tdp_w > 0 ? m->tdp_w * wp_cpu_tdp_factor(u, m->threads_per_socket)
                        : wp_ccf_cpu_power_w(m->n_threads, u);
}

static void cpu_read(struct wp_sensor *s, double now_s, uint64_t *energy_uj, bool *ok)
{
    struct cpu_model *m = s->priv;
    struct wp_cpu_times t;

    if (wp_procstat_read(m->stat, now_s, &t)) {
        ok[0] = false;
        return;
    }
    if (m->started && now_s > m->last_t) {
        double u = wp_cpu_times_util(&m->last, &t, m->last_u);
        m->energy_j += model_power(m, u) * (now_s - m->last_t);
        m->last_u = u;
    }
    m->started = true;
    m->last = t;
    m->last_t = now_s;
    energy_uj[0] = (uint64_t)(m->energy_j * 1e6);
    ok[0] = true;
}

const struct wp_sensor_ops wp_cpu_model_ops = {
    .name = "cpu-model",
    .components = (1u << WP_CPU),
    .probe = cpu_probe,
    .read = cpu_read,
    .close = cpu_close,
};
