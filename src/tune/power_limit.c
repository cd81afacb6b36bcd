/* An NVIDIA GPU's power limit, read and set through NVML (dlopen, as the
 * sensor loads it), and the record that lets a later wattprint put back a
 * limit that a killed one changed. */
#define _GNU_SOURCE
#include "power_limit.h"

#include "../util/dl.h"
#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
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
    int (*count)(unsigned *n);
} api;

static void *lib;

static int load(char *err, size_t cap)
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
        {(void **)&api.count, "nvmlDeviceGetCount_v2"},
    };

    if (!lib && !(lib = wp_dl_load("WATTPRINT_NVML_LIBRARY", "libnvidia-ml.so.1", syms,
                                   sizeof syms / sizeof *syms, "NVML", err, cap)))
        return -ENODEV;
    return 0;
}

int wp_gpu_limit_open(unsigned index, struct wp_gpu_limit *g, char *err, size_t cap)
{
    nvmlDevice_t d;

    memset(g, 0, sizeof *g);
    if (load(err, cap) != 0)
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

int wp_gpu_limit_get(const struct wp_gpu_limit *g, unsigned *mw)
{
    return api.get(g->dev, mw) == 0 ? 0 : -EIO;
}

int wp_gpu_energy_mj(const struct wp_gpu_limit *g, unsigned long long *mj)
{
    return api.energy(g->dev, mj) == 0 ? 0 : -EIO;
}

/* $XDG_STATE_HOME/wattprint (else ~/.local/state/wattprint). */
static int state_dir(char *dir, size_t cap)
{
    const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");

    if (xdg && *xdg)
        snprintf(dir, cap, "%s/wattprint", xdg);
    else if (home && *home)
        snprintf(dir, cap, "%s/.local/state/wattprint", home);
    else
        return -ENOENT;
    return 0;
}

/* STATE/power-limit-UUID. */
static int record_path(const char *uuid, char *out, size_t cap)
{
    char dir[4096];

    int rc;

    if ((rc = state_dir(dir, sizeof dir)) != 0)
        return rc;
    if (snprintf(out, cap, "%s/power-limit-%s", dir, uuid) >= (int)cap)
        return -ENAMETOOLONG;
    return wp_mkdir_parents(out, 0700); /* the directories, private */
}

int wp_gpu_limit_record(const struct wp_gpu_limit *g)
{
    char path[4200];
    FILE *f;

    int rc;

    if ((rc = record_path(g->uuid, path, sizeof path)) != 0)
        return rc;
    if (!(f = fopen(path, "w")))
        return -errno;
    fprintf(f, "%u\n", g->original_mw);
    return fclose(f) == 0 ? 0 : -errno;
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

/* An exclusive lock on STATE/power-limit-UUID.lock, not waited for. */
static int lock_uuid(const char *uuid)
{
    char path[4200];
    int fd;

    if (record_path(uuid, path, sizeof path - 8) != 0)
        return -EIO;
    strcat(path, ".lock");
    if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0)
        return -errno;
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK ? -EBUSY : -e;
    }
    return fd;
}

int wp_gpu_limit_lock(const struct wp_gpu_limit *g)
{
    return lock_uuid(g->uuid);
}

bool wp_gpu_limit_believable(const struct wp_gpu_limit *g, unsigned mw)
{
    return mw >= g->min_mw && mw <= g->max_mw;
}

/* The GPU whose UUID is uuid, opened; 0 or -ENODEV. */
static int open_uuid(const char *uuid, struct wp_gpu_limit *g, char *err, size_t cap)
{
    unsigned n = 0;

    if (load(err, cap) != 0 || api.init() != 0 || api.count(&n) != 0)
        return -ENODEV;
    for (unsigned i = 0; i < n; i++)
        if (wp_gpu_limit_open(i, g, err, cap) == 0 && strcmp(g->uuid, uuid) == 0)
            return 0;
    snprintf(err, cap, "no GPU %s here", uuid);
    return -ENODEV;
}

/* One record left by a killed tune-power: put back unless a tune-power
 * still holds its lock. Appends a line to said. */
static void restore_one(const char *uuid, char *said, size_t cap)
{
    struct wp_gpu_limit g;
    char err[512];
    unsigned mw, now = 0;
    size_t used = strlen(said);
    int fd = lock_uuid(uuid);

    if (fd < 0)
        return; /* tuning now, or no state: nothing to put back */
    if (open_uuid(uuid, &g, err, sizeof err) == 0 && wp_gpu_limit_recorded(&g, &mw)) {
        bool done = true;
        wp_gpu_limit_get(&g, &now);
        if (!wp_gpu_limit_believable(&g, mw))
            snprintf(said + used, cap - used,
                     "a record of GPU %u's limit (%u W) is outside its range: not believed, the "
                     "limit stays %u W\n",
                     g.index, mw / 1000, now / 1000);
        else if (wp_gpu_limit_set(&g, mw, err, sizeof err) == 0)
            snprintf(said + used, cap - used,
                     "put back GPU %u's power limit of %u W, which a killed wattprint "
                     "tune-power had left at %u W\n",
                     g.index, mw / 1000, now / 1000);
        else
            done = !snprintf(said + used, cap - used,
                             "GPU %u's limit was left at %u W by a killed wattprint tune-power "
                             "and cannot be put back to %u W: %s\n",
                             g.index, now / 1000, mw / 1000, err);
        if (done) /* the record is kept for a later try when it could not be */
            wp_gpu_limit_forget(&g);
    }
    close(fd);
}

int wp_gpu_limit_restore_left(char *said, size_t cap)
{
    char dir[4096];
    struct dirent *e;
    DIR *d;

    said[0] = '\0';
    if (state_dir(dir, sizeof dir) != 0 || !(d = opendir(dir)))
        return 0;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (strncmp(e->d_name, "power-limit-", 12) != 0 || n <= 12 ||
            (n > 5 && strcmp(e->d_name + n - 5, ".lock") == 0))
            continue;
        restore_one(e->d_name + 12, said, cap);
    }
    closedir(d);
    return said[0] != '\0';
}
