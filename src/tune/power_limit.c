/* An NVIDIA GPU's power limit, read and set through NVML (dlopen, as the
 * sensor loads it), and the record that lets a later wattprint put back a
 * limit that a killed one changed. */
#define _GNU_SOURCE
#include "power_limit.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct nvmlDevice_st *nvmlDevice_t;

static struct {
    int (*init)(void);
    int (*shutdown)(void);
    int (*handle)(unsigned i, nvmlDevice_t *d);
    int (*uuid)(nvmlDevice_t d, char *buf, unsigned len);
    int (*constraints)(nvmlDevice_t d, unsigned *lo, unsigned *hi);
    int (*get)(nvmlDevice_t d, unsigned *mw);
    int (*set)(nvmlDevice_t d, unsigned mw);
    int (*energy)(nvmlDevice_t d, unsigned long long *mj);
} api;

static void *lib;

int wp_gpu_limit_open(unsigned index, struct wp_gpu_limit *g, char *err, size_t cap)
{
    const struct wp_dl_sym syms[] = {
        {(void **)&api.init, "nvmlInit_v2"},
        {(void **)&api.shutdown, "nvmlShutdown"},
        {(void **)&api.handle, "nvmlDeviceGetHandleByIndex_v2"},
        {(void **)&api.uuid, "nvmlDeviceGetUUID"},
        {(void **)&api.constraints, "nvmlDeviceGetPowerManagementLimitConstraints"},
        {(void **)&api.get, "nvmlDeviceGetPowerManagementLimit"},
        {(void **)&api.set, "nvmlDeviceSetPowerManagementLimit"},
        {(void **)&api.energy, "nvmlDeviceGetTotalEnergyConsumption"},
    };
    nvmlDevice_t d;

    memset(g, 0, sizeof *g);
    if (!lib && !(lib = wp_dl_load("WATTPRINT_NVML_LIBRARY", "libnvidia-ml.so.1", syms,
                                   sizeof syms / sizeof *syms, "NVML", err, cap)))
        return -ENODEV;
    if (api.init() != 0 || api.handle(index, &d) != 0) {
        snprintf(err, cap, "NVML has no GPU %u", index);
        return -ENODEV;
    }
    g->dev = d;
    g->index = index;
    if (api.uuid(d, g->uuid, sizeof g->uuid) != 0)
        snprintf(g->uuid, sizeof g->uuid, "gpu%u", index);
    if (api.constraints(d, &g->min_mw, &g->max_mw) != 0 || api.get(d, &g->original_mw) != 0) {
        snprintf(err, cap, "GPU %u does not report its power limits", index);
        return -ENOTSUP;
    }
    return 0;
}

int wp_gpu_limit_set(const struct wp_gpu_limit *g, unsigned mw, char *err, size_t cap)
{
    int rc = api.set(g->dev, mw);

    if (rc == 0)
        return 0;
    snprintf(err, cap, "NVML refused a limit of %u W on GPU %u (%s)", mw / 1000, g->index,
             rc == 4 ? "no permission: needs root" : "not allowed");
    return -EPERM;
}

int wp_gpu_energy_mj(const struct wp_gpu_limit *g, unsigned long long *mj)
{
    return api.energy(g->dev, mj) == 0 ? 0 : -EIO;
}

/* $XDG_STATE_HOME/wattprint/power-limit-UUID (else ~/.local/state/...). */
static int record_path(const char *uuid, char *out, size_t cap)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
    char dir[4096];

    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/wattprint", xdg);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.local/state/wattprint", home);
    else
        return -1;
    if (snprintf(out, cap, "%s/power-limit-%s", dir, uuid) >= (int)cap)
        return -1;
    return wp_mkdir_parents(out, 0700) == 0 ? 0 : -1; /* the directories, private */
}

int wp_gpu_limit_record(const struct wp_gpu_limit *g)
{
    char path[4200];
    FILE *f;

    if (record_path(g->uuid, path, sizeof path) != 0 || !(f = fopen(path, "w")))
        return -1;
    fprintf(f, "%u\n", g->original_mw);
    return fclose(f) == 0 ? 0 : -1;
}

void wp_gpu_limit_forget(const struct wp_gpu_limit *g)
{
    char path[4200];

    if (record_path(g->uuid, path, sizeof path) == 0)
        unlink(path);
}

int wp_gpu_limit_recorded(struct wp_gpu_limit *g, unsigned *mw)
{
    char path[4200];
    FILE *f;
    int n;

    if (record_path(g->uuid, path, sizeof path) != 0 || !(f = fopen(path, "r")))
        return 0;
    n = fscanf(f, "%u", mw);
    fclose(f);
    return n == 1;
}
