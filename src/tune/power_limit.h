/* A GPU's power limit through NVML, and its recorded original. */
#ifndef WP_POWER_LIMIT_H
#define WP_POWER_LIMIT_H

#include <stddef.h>

struct wp_gpu_limit {
    void *dev;
    unsigned index;
    char uuid[96];
    unsigned min_mw, max_mw, original_mw;
};

/* Opens GPU index and reads its allowed range and current limit. Returns 0,
 * or a negative errno with err. */
int wp_gpu_limit_open(unsigned index, struct wp_gpu_limit *g, char *err, size_t cap);

/* Sets the limit (root). Returns 0, or -EPERM with err. */
int wp_gpu_limit_set(const struct wp_gpu_limit *g, unsigned mw, char *err, size_t cap);

/* The GPU's energy counter, mJ. Returns 0 or -EIO. */
int wp_gpu_energy_mj(const struct wp_gpu_limit *g, unsigned long long *mj);

/* The original limit written down before any change, so that a wattprint
 * killed meanwhile leaves it for the next one to put back; forgotten once
 * restored. recorded returns 1 with *mw when one is waiting. */
int wp_gpu_limit_record(const struct wp_gpu_limit *g);
void wp_gpu_limit_forget(const struct wp_gpu_limit *g);
int wp_gpu_limit_recorded(struct wp_gpu_limit *g, unsigned *mw);

#endif
