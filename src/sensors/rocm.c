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

/* What ROCm SMI says of each GPU with an energy counter, before selection. */
struct found {
    char names[MAX_GPUS][64], uuids[MAX_GPUS][32];
    struct wp_gpu_id ids[MAX_GPUS];
    uint64_t caps[MAX_GPUS];
    bool keep[MAX_GPUS];
    uint32_t count;
    int n;
};

static void enumerate(struct rocm *r, struct found *f)
{
    if (r->api.count(&f->count) != 0)
        f->count = 0;
    for (uint32_t i = 0; i < f->count && f->n < MAX_GPUS; i++) {
        uint64_t e, ts, id;
        float res;
        int n = f->n;
        if (r->api.energy(i, &e, &res, &ts) != 0)
            continue; /* no energy counter on this device */
        if (r->api.name(i, f->names[n], sizeof f->names[n]) != 0)
            snprintf(f->names[n], sizeof f->names[n], "AMD GPU");
        if (r->api.unique_id(i, &id) == 0)
            snprintf(f->uuids[n], sizeof f->uuids[n], "GPU-%016llx", (unsigned long long)id);
        else
            f->uuids[n][0] = '\0';
        if (r->api.power_cap(i, 0, &f->caps[n]) != 0)
            f->caps[n] = 0;
        f->ids[n].index = i;
        f->ids[n].uuid = f->uuids[n];
        f->n++;
    }
}

static void describe(struct rocm *r, const struct found *f, struct wp_sensor *s)
{
    for (int i = 0, c = 0; i < f->n; i++) {
        struct wp_channel *ch;
        if (!f->keep[i])
            continue;
        ch = &s->channels[c];
        ch->sensor = "rocm-smi";
        ch->component = WP_GPU;
        ch->method = WP_MEASURED;
        ch->counted = true;
        ch->power_limit_w = (double)f->caps[i] / 1e6;
        ch->max_power_w = f->caps[i] ? ch->power_limit_w : 1000.0;
        snprintf(ch->device, sizeof ch->device, "amdgpu%u", f->ids[i].index);
        snprintf(ch->model, sizeof ch->model, "%s", f->names[i]);
        snprintf(ch->uuid, sizeof ch->uuid, "%s", f->uuids[i]);
        snprintf(ch->detail, sizeof ch->detail, "ROCm SMI energy accumulator x resolution");
        r->idx[c++] = f->ids[i].index;
    }
}

/* Loads and initialises ROCm SMI. Returns 0, or -ENODEV (why said in env). */
static int start_rocm(struct rocm *r, struct wp_sensor_env *env)
{
    char why[256];

    if (load(&r->api, why, sizeof why)) {
        wp_sensor_gpu_why(env, "%s", why);
        return -ENODEV;
    }
    if (r->api.init(0) != 0) {
        wp_sensor_gpu_why(env, "ROCm SMI: rsmi_init failed");
        dlclose(r->api.lib);
        return -ENODEV;
    }
    return 0;
}

static int rocm_probe(struct wp_sensor_env *env, struct wp_sensor **out)
{
    const char *visible = getenv("ROCR_VISIBLE_DEVICES");
    struct wp_sensor *s;
    struct found *f;
    struct rocm *r;
    int k = 0, rc;

    if (env->gpus && strcmp(env->gpus, "none") == 0)
        return -ENODEV;
    r = calloc(1, sizeof *r);
    f = calloc(1, sizeof *f);
    if (!r || !f || start_rocm(r, env) != 0) {
        rc = !r || !f ? -ENOMEM : -ENODEV;
        free(r);
        free(f);
        return rc;
    }
    enumerate(r, f);
    if (!visible)
        visible = getenv("HIP_VISIBLE_DEVICES");
    if (wp_gpu_select(env->gpus, visible, f->ids, f->n, f->keep, env->gpu_err,
                      sizeof env->gpu_err) != 0) {
        env->gpu_error = WP_GPU_BAD_SELECTION;
        f->n = 0;
    }
    for (int i = 0; i < f->n; i++)
        k += f->keep[i];
    if (k == 0)
        wp_sensor_gpu_why(env, "ROCm SMI: %u GPUs with energy counters, none selected", f->count);
    if (k == 0 || !(s = wp_sensor_alloc(&wp_rocm_ops, k))) {
        rc = k == 0 ? -ENODEV : -ENOMEM;
        release(r);
        free(f);
        return rc;
    }
    describe(r, f, s);
    r->n = k;
    s->priv = r;
    free(f);
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
