/* A fake librocm_smi64.so implementing the ROCm SMI C ABI for the calls
 * wattprint makes. State: $WATTPRINT_FAKE_ROCM_DIR/count and gpuN/{name,
 * unique_id, power_cap_uw, energy_count, resolution_uj}. */
#include "fake_state.h"

#include <stdint.h>

#define ENV "WATTPRINT_FAKE_ROCM_DIR"

typedef int rsmi_status_t;
enum { OK = 0, INVALID = 1, NOT_SUPPORTED = 2 };

rsmi_status_t rsmi_init(uint64_t flags)
{
    (void)flags;
    return OK;
}

rsmi_status_t rsmi_shut_down(void)
{
    return OK;
}

rsmi_status_t rsmi_num_monitor_devices(uint32_t *n)
{
    unsigned long long v;
    *n = fake_u64(ENV, -1, "count", &v) == 0 ? (uint32_t)v : 0;
    return OK;
}

rsmi_status_t rsmi_dev_name_get(uint32_t i, char *buf, size_t len)
{
    return fake_read(ENV, (int)i, "name", buf, len) == 0 ? OK : NOT_SUPPORTED;
}

rsmi_status_t rsmi_dev_unique_id_get(uint32_t i, uint64_t *id)
{
    unsigned long long v;
    if (fake_u64(ENV, (int)i, "unique_id", &v))
        return NOT_SUPPORTED;
    *id = v;
    return OK;
}

rsmi_status_t rsmi_dev_power_cap_get(uint32_t i, uint32_t sensor, uint64_t *cap)
{
    unsigned long long v;
    (void)sensor;
    if (fake_u64(ENV, (int)i, "power_cap_uw", &v))
        return NOT_SUPPORTED;
    *cap = v;
    return OK;
}

rsmi_status_t rsmi_dev_energy_count_get(uint32_t i, uint64_t *acc, float *res, uint64_t *ts)
{
    unsigned long long v;
    char buf[32];
    if (fake_u64(ENV, (int)i, "energy_count", &v) ||
        fake_read(ENV, (int)i, "resolution_uj", buf, sizeof buf))
        return NOT_SUPPORTED;
    *acc = v;
    *res = strtof(buf, NULL);
    *ts = 0;
    return OK;
}
