/* NVIDIA GPUs through NVML, loaded at run time with dlopen: a machine without
 * the driver runs the same binary and the sensor is simply absent. Energy
 * comes from the GPU's own counter (Volta and newer) or, where that is not
 * supported, from power readings integrated over time. */
#define _GNU_SOURCE
#include "gpu_select.h"
#include "procfs.h"
#include "sensor.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The few NVML types and codes used, declared here so that no CUDA toolkit is
 * needed to build (values from nvml.h). */
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
#define NVML_SUCCESS             0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NO_PERMISSION 4
#define NVML_ERROR_GPU_IS_LOST   15
#define NVML_DEVICE_NAME_BUFFER  96
#define NVML_DEVICE_UUID_BUFFER  96

#define MAX_GPUS  64
#define MAX_WALK  4096 /* processes looked at in one walk of /proc */
#define MAX_PIDS  1024 /* the run's processes matched against NVML's */
#define MAX_PROCS 256

/* nvmlProcessUtilizationSample_t */
struct nvml_proc_sample {
    unsigned int pid;
    unsigned long long timestamp_us;
    unsigned int sm, mem, enc, dec;
};

struct nvml_api {
    void *lib;
    nvmlReturn_t (*init)(void);
    nvmlReturn_t (*shutdown)(void);
    const char *(*error_string)(nvmlReturn_t);
    nvmlReturn_t (*count)(unsigned *);
    nvmlReturn_t (*handle)(unsigned, nvmlDevice_t *);
    nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned);
    nvmlReturn_t (*limit)(nvmlDevice_t, unsigned *);
    nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long *);
    nvmlReturn_t (*power)(nvmlDevice_t, unsigned *);
    /* optional: per-process utilisation, for --attribute process */
    nvmlReturn_t (*procutil)(nvmlDevice_t, struct nvml_proc_sample *, unsigned *,
                             unsigned long long);
};

struct gpu {
    nvmlDevice_t dev;
    bool has_counter;
    bool started;
    double last_t;
    double last_power_w;
    unsigned long long counter_mj, last_counter_mj;
    double integral_uj;  /* the power-integrated part */
    uint64_t exposed_uj; /* what read returned last: never goes backwards */
    /* --attribute process */
    uint64_t attr_prev_uj;
    double attributed_uj, share;
    unsigned long long last_seen_us;
};

struct nvml {
    struct nvml_api api;
    int n;
    bool attribute;
    const _Atomic int *root_pid; /* the measured command, once started */
    char procfs[256];
    int pids[MAX_PIDS], n_pids;             /* the run's processes at the last look */
    struct wp_proc_usage scratch[MAX_WALK]; /* for the walk of the run's process tree */
    struct gpu gpus[MAX_GPUS];
};

static const char *errstr(const struct nvml_api *a, nvmlReturn_t rc)
{
    return a->error_string ? a->error_string(rc) : "NVML error";
}

static int load(struct nvml_api *a, char *why, size_t cap)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&a->init, "nvmlInit_v2"},
        {(void **)&a->shutdown, "nvmlShutdown"},
        {(void **)&a->error_string, "nvmlErrorString"},
        {(void **)&a->count, "nvmlDeviceGetCount_v2"},
        {(void **)&a->handle, "nvmlDeviceGetHandleByIndex_v2"},
        {(void **)&a->name, "nvmlDeviceGetName"},
        {(void **)&a->uuid, "nvmlDeviceGetUUID"},
        {(void **)&a->limit, "nvmlDeviceGetEnforcedPowerLimit"},
        {(void **)&a->energy, "nvmlDeviceGetTotalEnergyConsumption"},
        {(void **)&a->power, "nvmlDeviceGetPowerUsage"},
    };

    a->lib = wp_dl_load("WATTPRINT_NVML_LIBRARY", "libnvidia-ml.so.1", syms,
                        sizeof syms / sizeof *syms, "NVML", why, cap);
    if (a->lib)
        *(void **)&a->procutil = dlsym(a->lib, "nvmlDeviceGetProcessUtilization");
    return a->lib ? 0 : -ENODEV;
}

static void release(struct nvml *nv)
{
    if (!nv)
        return;
    nv->api.shutdown();
    dlclose(nv->api.lib);
    free(nv);
}

static void nvml_close(struct wp_sensor *s)
{
    release(s->priv);
    wp_sensor_free(s);
}

/* What NVML says of each GPU, before the selection. */
struct found {
    char names[MAX_GPUS][NVML_DEVICE_NAME_BUFFER], uuids[MAX_GPUS][NVML_DEVICE_UUID_BUFFER];
    unsigned limits_mw[MAX_GPUS];
    struct wp_gpu_id ids[MAX_GPUS];
    nvmlDevice_t devs[MAX_GPUS];
    bool keep[MAX_GPUS], counter[MAX_GPUS];
    unsigned count;
    int n;
};

static void enumerate(struct nvml *nv, struct wp_sensor_env *env, struct found *f)
{
    nvmlReturn_t rc;

    if (nv->api.count(&f->count) != NVML_SUCCESS)
        f->count = 0;
    for (unsigned i = 0; i < f->count && f->n < MAX_GPUS; i++) {
        unsigned long long e;
        int n = f->n;
        if (nv->api.handle(i, &f->devs[n]) != NVML_SUCCESS)
            continue;
        if (nv->api.name(f->devs[n], f->names[n], sizeof f->names[n]) != NVML_SUCCESS)
            snprintf(f->names[n], sizeof f->names[n], "NVIDIA GPU");
        if (nv->api.uuid(f->devs[n], f->uuids[n], sizeof f->uuids[n]) != NVML_SUCCESS)
            f->uuids[n][0] = '\0';
        if (nv->api.limit(f->devs[n], &f->limits_mw[n]) != NVML_SUCCESS)
            f->limits_mw[n] = 0;
        rc = nv->api.energy(f->devs[n], &e);
        f->counter[n] = rc == NVML_SUCCESS;
        if (rc == NVML_ERROR_NO_PERMISSION)
            wp_diag(&env->diag, WP_HINT_NONE,
                    "GPU %u: NVML refuses the energy counter (no permission); integrating its "
                    "power readings instead",
                    i);
        f->ids[n].index = i;
        f->ids[n].uuid = f->uuids[n];
        f->n++;
    }
}

/* The channels of the selected GPUs: with attribution two each, the run's
 * share (counted) and the whole device (not added). */
static void describe(struct nvml *nv, const struct found *f, struct wp_sensor *s)
{
    for (int i = 0, c = 0; i < f->n; i++) {
        struct wp_channel *ch;
        unsigned idx = f->ids[i].index;
        if (!f->keep[i])
            continue;
        ch = &s->channels[nv->attribute ? 2 * c : c];
        ch->sensor = "nvml";
        ch->component = WP_GPU;
        ch->method = WP_MEASURED;
        ch->counted = true;
        ch->max_power_w = f->limits_mw[i] ? f->limits_mw[i] / 1000.0 : 1000.0;
        ch->power_limit_w = f->limits_mw[i] / 1000.0;
        snprintf(ch->device, sizeof ch->device, "gpu%u", idx);
        snprintf(ch->model, sizeof ch->model, "%s", f->names[i]);
        snprintf(ch->uuid, sizeof ch->uuid, "%s", f->uuids[i]);
        snprintf(ch->detail, sizeof ch->detail, "%s",
                 f->counter[i] ? "NVML total energy counter (mJ)"
                               : "NVML power readings (mW) integrated by the trapezoid rule");
        if (nv->attribute) {
            ch[1] = ch[0];
            ch[1].counted = false;
            snprintf(ch[1].device, sizeof ch[1].device, "gpu%u-all", idx);
            snprintf(ch[0].share_of, sizeof ch[0].share_of, "gpu%u-all", idx);
            snprintf(ch[0].detail, sizeof ch[0].detail,
                     "the run's share of gpu%u by SM utilisation of its process tree "
                     "(nvmlDeviceGetProcessUtilization); gpu%u-all is the whole GPU",
                     idx, idx);
        }
        nv->gpus[c].dev = f->devs[i];
        nv->gpus[c].has_counter = f->counter[i];
        c++;
    }
}

/* Loads and initialises NVML. Returns 0, or -ENODEV (why said in env). */
static int start_nvml(struct nvml *nv, struct wp_sensor_env *env)
{
    char why[256];
    nvmlReturn_t rc;

    if (load(&nv->api, why, sizeof why)) {
        wp_sensor_gpu_why(env, "%s", why);
        return -ENODEV;
    }
    if ((rc = nv->api.init()) != NVML_SUCCESS) {
        wp_sensor_gpu_why(env, "NVML: nvmlInit failed: %s", errstr(&nv->api, rc));
        dlclose(nv->api.lib);
        return -ENODEV;
    }
    return 0;
}

static int nvml_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    struct found *f;
    struct wp_sensor *s;
    struct nvml *nv;
    int k = 0, rc = -ENODEV;

    if (env->gpus && strcmp(env->gpus, "none") == 0)
        return -ENODEV;
    nv = calloc(1, sizeof *nv);
    f = calloc(1, sizeof *f);
    if (!nv || !f || start_nvml(nv, env) != 0) {
        rc = !nv || !f ? -ENOMEM : -ENODEV;
        free(nv);
        free(f);
        return rc;
    }
    enumerate(nv, env, f);
    if (wp_gpu_select(env->gpus, getenv("CUDA_VISIBLE_DEVICES"), f->ids, f->n, f->keep,
                      env->gpu_err, sizeof env->gpu_err) != 0) {
        env->gpu_error = WP_GPU_BAD_SELECTION;
        f->n = 0;
    }
    for (int i = 0; i < f->n; i++)
        k += f->keep[i];
    if (k == 0 && !env->gpu_error)
        wp_sensor_gpu_why(env, "NVML: %u GPUs, none selected", f->count);
    if (k > 0 && env->attribute_process && !nv->api.procutil) {
        snprintf(env->gpu_err, sizeof env->gpu_err,
                 "this NVML has no nvmlDeviceGetProcessUtilization");
        env->gpu_error = WP_GPU_NO_ATTRIBUTION;
        k = 0;
    }
    nv->attribute = env->attribute_process;
    nv->root_pid = env->root_pid;
    snprintf(nv->procfs, sizeof nv->procfs, "%s", env->procfs_root);
    if (k == 0 || !(s = wp_sensor_alloc(&wp_nvml_ops, nv->attribute ? 2 * k : k))) {
        rc = k == 0 ? -ENODEV : -ENOMEM;
        release(nv);
        free(f);
        return rc;
    }
    describe(nv, f, s);
    nv->n = k;
    s->priv = nv;
    free(f);
    *out = s;
    return 0;
}

/* The run's share of one GPU's SM time since the last look: SM utilisation
 * of the run's processes over that of all processes. Idle time (no process
 * using SMs) is nobody's, so it is not attributed. */
static double run_share(struct nvml *nv, struct gpu *g, const int *pids, int n_pids)
{
    struct nvml_proc_sample smp[MAX_PROCS];
    unsigned count = MAX_PROCS;
    unsigned long long newest = g->last_seen_us;
    double mine = 0, all = 0;

    if (nv->api.procutil(g->dev, smp, &count, g->last_seen_us) != NVML_SUCCESS)
        return 0; /* NOT_FOUND: no process ran on it since the last look */
    for (unsigned k = 0; k < count && k < MAX_PROCS; k++) {
        all += smp[k].sm;
        for (int p = 0; p < n_pids; p++)
            if ((int)smp[k].pid == pids[p]) {
                mine += smp[k].sm;
                break;
            }
        if (smp[k].timestamp_us > newest)
            newest = smp[k].timestamp_us;
    }
    g->last_seen_us = newest;
    return all > 0 ? mine / all : 0;
}

static void nvml_read(struct wp_sensor *s, double now, uint64_t *energy_uj, bool *ok)
{
    struct nvml *nv = s->priv;
    int root = nv->root_pid ? atomic_load(nv->root_pid) : 0;

    if (nv->attribute && root > 0) {
        struct wp_proc_usage sum;
        int n = wp_procfs_tree_usage(nv->procfs, root, nv->scratch, MAX_WALK, &sum);
        /* After the command has exited, its last known processes still own the
         * SM time reported since the previous look. */
        if (n > 0) {
            nv->n_pids = n < MAX_PIDS ? n : MAX_PIDS;
            for (int i = 0; i < nv->n_pids; i++)
                nv->pids[i] = nv->scratch[i].pid;
        }
    }
    for (int i = 0; i < nv->n; i++) {
        struct gpu *g = &nv->gpus[i];
        unsigned mw = 0;
        nvmlReturn_t prc = nv->api.power(g->dev, &mw);
        double p = prc == NVML_SUCCESS ? mw / 1000.0 : g->last_power_w;
        double dt = g->started ? now - g->last_t : 0;
        double total;

        int at = nv->attribute ? 2 * i : i; /* this GPU's (first) channel */

        ok[at] = true;
        if (nv->attribute)
            ok[at + 1] = true;
        if (g->has_counter) {
            unsigned long long e;
            nvmlReturn_t rc = nv->api.energy(g->dev, &e);
            if (rc != NVML_SUCCESS) {
                /* GPU_IS_LOST and the like: the meter keeps what was counted */
                ok[at] = false;
                if (nv->attribute)
                    ok[at + 1] = false;
                continue;
            }
            if (!g->started)
                g->last_counter_mj = e;
            if (e != g->last_counter_mj) {
                /* The counter moved: it covers everything so far. */
                g->counter_mj += e - g->last_counter_mj;
                g->last_counter_mj = e;
                g->integral_uj = 0;
            } else {
                /* Not updated yet (a window shorter than the counter's update period):
                 * bridge the gap with power, so short windows never read as zero. */
                g->integral_uj += (p + g->last_power_w) / 2.0 * dt * 1e6;
            }
            total = (double)g->counter_mj * 1000.0 + g->integral_uj;
        } else {
            if (prc != NVML_SUCCESS) {
                ok[at] = false;
                if (nv->attribute)
                    ok[at + 1] = false;
                continue;
            }
            if (g->started)
                g->integral_uj += (p + g->last_power_w) / 2.0 * dt * 1e6;
            total = g->integral_uj;
        }
        g->started = true;
        g->last_t = now;
        g->last_power_w = p;
        if ((uint64_t)total > g->exposed_uj)
            g->exposed_uj = (uint64_t)total;
        if (!nv->attribute) {
            energy_uj[at] = g->exposed_uj;
            continue;
        }
        g->share = run_share(nv, g, nv->pids, nv->n_pids);
        g->attributed_uj += (double)(g->exposed_uj - g->attr_prev_uj) * g->share;
        g->attr_prev_uj = g->exposed_uj;
        energy_uj[at] = (uint64_t)g->attributed_uj;
        energy_uj[at + 1] = g->exposed_uj;
    }
}

const struct wp_sensor_ops wp_nvml_ops = {
    .name = "nvml",
    .components = (1u << WP_GPU),
    .probe = nvml_probe,
    .read = nvml_read,
    .close = nvml_close,
};
