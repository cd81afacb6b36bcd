/* A fake libnvidia-ml.so.1 implementing the real NVML C ABI for the calls
 * wattprint makes. State: $WATTPRINT_FAKE_NVML_DIR/count and gpuN/{name,
 * uuid, limit_mw, power_mw, energy_mj (absent: NOT_SUPPORTED), lost}. */
#include "fake_state.h"

#include <time.h>

#define ENV "WATTPRINT_FAKE_NVML_DIR"

typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;

enum { OK = 0, UNINIT = 1, INVALID = 2, NOT_SUPPORTED = 3, NOT_FOUND = 6, LOST = 15 };

static int inited;

static int gpu_of(nvmlDevice_t d)
{
    return (int)(long)d - 1;
}

nvmlReturn_t nvmlInit_v2(void)
{
    if (fake_exists(ENV, -1, "init_fails"))
        return 9; /* DRIVER_NOT_LOADED */
    inited = 1;
    return OK;
}

nvmlReturn_t nvmlShutdown(void)
{
    inited = 0;
    return OK;
}

const char *nvmlErrorString(nvmlReturn_t r)
{
    return r == LOST ? "GPU is lost" : r == NOT_SUPPORTED ? "Not Supported" : "fake NVML error";
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned *n)
{
    unsigned long long v = 0; /* 0 where the state file lacks it */
    if (!inited)
        return UNINIT;
    if (fake_u64(ENV, -1, "count", &v))
        v = 0;
    *n = (unsigned)v;
    return OK;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned i, nvmlDevice_t *d)
{
    unsigned n;
    nvmlDeviceGetCount_v2(&n);
    if (i >= n)
        return INVALID;
    *d = (nvmlDevice_t)(long)(i + 1);
    return OK;
}

static nvmlReturn_t text(nvmlDevice_t d, const char *what, char *buf, unsigned len)
{
    if (fake_exists(ENV, gpu_of(d), "lost"))
        return LOST;
    return fake_read(ENV, gpu_of(d), what, buf, len) == 0 ? OK : NOT_SUPPORTED;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char *buf, unsigned len)
{
    return text(d, "name", buf, len);
}

nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char *buf, unsigned len)
{
    return text(d, "uuid", buf, len);
}

static nvmlReturn_t number(nvmlDevice_t d, const char *what, unsigned long long *v)
{
    if (fake_exists(ENV, gpu_of(d), "lost"))
        return LOST;
    return fake_u64(ENV, gpu_of(d), what, v) == 0 ? OK : NOT_SUPPORTED;
}

nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned *mw)
{
    unsigned long long v = 0; /* 0 where the state file lacks it */
    nvmlReturn_t r = number(d, "limit_mw", &v);
    *mw = (unsigned)v;
    return r;
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned *mw)
{
    unsigned long long v = 0;
    nvmlReturn_t r = number(d, "power_mw", &v);
    *mw = (unsigned)v;
    return r;
}

nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long *mj)
{
    return number(d, "energy_mj", mj);
}

/* gpuN/procs: lines of "pid sm_util"; every call reports them as fresh. */
struct sample {
    unsigned int pid;
    unsigned long long ts;
    unsigned int sm, mem, enc, dec;
};

nvmlReturn_t nvmlDeviceGetProcessUtilization(nvmlDevice_t d, struct sample *out, unsigned *count,
                                             unsigned long long last_seen)
{
    char buf[4096], *line, *save = NULL;
    unsigned n = 0;
    struct timespec ts;

    (void)last_seen;
    if (fake_exists(ENV, gpu_of(d), "lost"))
        return LOST;
    if (fake_read(ENV, gpu_of(d), "procs", buf, sizeof buf) != 0)
        return NOT_FOUND;
    clock_gettime(CLOCK_REALTIME, &ts);
    for (line = strtok_r(buf, ";", &save); line && n < *count; line = strtok_r(NULL, ";", &save)) {
        unsigned pid, sm;
        if (sscanf(line, "%u %u", &pid, &sm) != 2)
            continue;
        out[n].pid = pid;
        out[n].ts =
            (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
        out[n].sm = sm;
        out[n].mem = out[n].enc = out[n].dec = 0;
        n++;
    }
    *count = n;
    return n ? OK : NOT_FOUND;
}

/* Power limits: gpuN/{limit_mw, min_limit_mw, max_limit_mw}; setting one
 * needs gpuN/settable (as root does on a real GPU). */
nvmlReturn_t nvmlDeviceGetPowerManagementLimitConstraints(nvmlDevice_t d, unsigned *min_mw,
                                                          unsigned *max_mw)
{
    unsigned long long lo, hi;
    if (number(d, "min_limit_mw", &lo) != OK || number(d, "max_limit_mw", &hi) != OK)
        return NOT_SUPPORTED;
    *min_mw = (unsigned)lo;
    *max_mw = (unsigned)hi;
    return OK;
}

nvmlReturn_t nvmlDeviceGetPowerManagementLimit(nvmlDevice_t d, unsigned *mw)
{
    return nvmlDeviceGetEnforcedPowerLimit(d, mw);
}

nvmlReturn_t nvmlDeviceSetPowerManagementLimit(nvmlDevice_t d, unsigned mw)
{
    unsigned lo, hi;
    char text[32];
    if (!fake_exists(ENV, gpu_of(d), "settable"))
        return 4; /* NO_PERMISSION */
    if (nvmlDeviceGetPowerManagementLimitConstraints(d, &lo, &hi) != OK || mw < lo || mw > hi)
        return INVALID;
    snprintf(text, sizeof text, "%u\n", mw);
    return fake_write(ENV, gpu_of(d), "limit_mw", text) == 0 ? OK : 999;
}
