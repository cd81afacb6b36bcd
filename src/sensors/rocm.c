/* AMD GPUs through ROCm SMI, loaded at run time with dlopen: the energy
 * accumulator times its resolution (microjoules). A missing library means an
 * absent sensor. */
#define _GNU_SOURCE
#include "gpu_select.h"
#include "sensor.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int rsmi_status_t; /* RSMI_STATUS_SUCCESS is 0 */
#define MAX_GPUS 64

struct rocm_api {
    void *lib;
    rsmi_status_t (*init)(uint64_t);
    rsmi_status_t (*shutdown)(void);
    rsmi_status_t (*count)(uint32_t *);
    rsmi_status_t (*name)(uint32_t, char *, size_t);
    rsmi_status_t (*unique_id)(uint32_t, uint64_t *);
    rsmi_status_t (*energy)(uint32_t, uint64_t *, float *, uint64_t *);
    rsmi_status_t (*power_cap)(uint32_t, uint32_t, uint64_t *);
};

struct rocm {
    struct rocm_api api;
    int n;
    uint32_t idx[MAX_GPUS];
};

static int load(struct rocm_api *a, char *why, size_t cap)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&a->init, "rsmi_init"},
        {(void **)&a->shutdown, "rsmi_shut_down"},
        {(void **)&a->count, "rsmi_num_monitor_devices"},
        {(void **)&a->name, "rsmi_dev_name_get"},
        {(void **)&a->unique_id, "rsmi_dev_unique_id_get"},
        {(void **)&a->energy, "rsmi_dev_energy_count_get"},
        {(void **)&a->power_cap, "rsmi_dev_power_cap_get"},
    };

    a->lib = wp_dl_load("WATTPRINT_ROCM_SMI_LIBRARY", "librocm_smi64.so", syms,
                        sizeof syms / sizeof *syms, "ROCm SMI", why, cap);
    return a->lib ? 0 : -ENODEV;
}

static void release(struct rocm *r)
{
    if (!r)
        return;
    r->api.shutdown();
    dlclose(r->api.lib);
    free(r);
}

static void rocm_close(struct wp_sensor *s)
{
    release(s->priv);
    wp_sensor_free(s);
}

static int rocm_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    char why[256], err[512], names[MAX_GPUS][64], uuids[MAX_GPUS][32];
    const char *visible = getenv("ROCR_VISIBLE_DEVICES");
    struct wp_gpu_id ids[MAX_GPUS];
    uint64_t caps[MAX_GPUS];
    bool keep[MAX_GPUS];
    struct wp_sensor *s;
    struct rocm *r;
    uint32_t count = 0;
    int n = 0, k = 0;

    if (env->gpus && strcmp(env->gpus, "none") == 0)
        return -ENODEV;
    r = calloc(1, sizeof *r);
    if (!r)
        return -ENOMEM;
    if (load(&r->api, why, sizeof why)) {
        wp_sensor_gpu_why(env, "%s", why);
        free(r);
        return -ENODEV;
    }
    if (r->api.init(0) != 0) {
        wp_sensor_gpu_why(env, "ROCm SMI: rsmi_init failed");
        dlclose(r->api.lib);
        free(r);
        return -ENODEV;
    }
    if (r->api.count(&count) != 0)
        count = 0;
    for (uint32_t i = 0; i < count && n < MAX_GPUS; i++) {
        uint64_t e, ts, id;
        float res;
        if (r->api.energy(i, &e, &res, &ts) != 0)
            continue; /* no energy counter on this device */
        if (r->api.name(i, names[n], sizeof names[n]) != 0)
            snprintf(names[n], sizeof names[n], "AMD GPU");
        if (r->api.unique_id(i, &id) == 0)
            snprintf(uuids[n], sizeof uuids[n], "GPU-%016llx", (unsigned long long)id);
        else
            uuids[n][0] = '\0';
        if (r->api.power_cap(i, 0, &caps[n]) != 0)
            caps[n] = 0;
        ids[n].index = i;
        ids[n].uuid = uuids[n];
        n++;
    }
    if (!visible)
        visible = getenv("HIP_VISIBLE_DEVICES");
    if (wp_gpu_select(env->gpus, visible, ids, n, keep, err, sizeof err) != 0) {
        snprintf(env->gpu_err, sizeof env->gpu_err, "%s", err);
        env->gpu_error = WP_GPU_BAD_SELECTION;
        n = 0;
    }
    for (int i = 0; i < n; i++)
        k += keep[i];
    if (k == 0) {
        wp_sensor_gpu_why(env, "ROCm SMI: %u GPUs with energy counters, none selected", count);
        release(r);
        return -ENODEV;
    }
    s = wp_sensor_alloc(&wp_rocm_ops, k);
    if (!s) {
        release(r);
        return -ENOMEM;
    }
    for (int i = 0, c = 0; i < n; i++) {
        struct wp_channel *ch;
        if (!keep[i])
            continue;
        ch = &s->channels[c];
        ch->sensor = "rocm-smi";
        ch->component = WP_GPU;
        ch->method = WP_MEASURED;
        ch->counted = true;
        ch->power_limit_w = (double)caps[i] / 1e6;
        ch->max_power_w = caps[i] ? ch->power_limit_w : 1000.0;
        snprintf(ch->device, sizeof ch->device, "amdgpu%u", ids[i].index);
        snprintf(ch->model, sizeof ch->model, "%s", names[i]);
        snprintf(ch->uuid, sizeof ch->uuid, "%s", uuids[i]);
        snprintf(ch->detail, sizeof ch->detail, "ROCm SMI energy accumulator x resolution");
        r->idx[c++] = ids[i].index;
    }
    r->n = k;
    s->priv = r;
    *out = s;
    return 0;
}

static void rocm_read(struct wp_sensor *s, double now, uint64_t *energy_uj, bool *ok)
{
    struct rocm *r = s->priv;

    (void)now;
    for (int i = 0; i < r->n; i++) {
        uint64_t acc, ts;
        float res;
        ok[i] = r->api.energy(r->idx[i], &acc, &res, &ts) == 0 && res > 0;
        if (ok[i])
            energy_uj[i] = (uint64_t)((double)acc * (double)res);
    }
}

const struct wp_sensor_ops wp_rocm_ops = {
    .name = "rocm-smi",
    .components = (1u << WP_GPU),
    .probe = rocm_probe,
    .read = rocm_read,
    .close = rocm_close,
};
