/* A GPU's power limit through NVML, and its recorded original. */
#ifndef WP_POWER_LIMIT_H
#define WP_POWER_LIMIT_H

#include <stdbool.h>
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

/* The limit now, mW. Returns 0 or -EIO. */
int wp_gpu_limit_get(const struct wp_gpu_limit *g, unsigned *mw);

/* The GPU's energy counter, mJ. Returns 0 or -EIO. */
int wp_gpu_energy_mj(const struct wp_gpu_limit *g, unsigned long long *mj);

/* The original limit written down before any change, so that a wattprint
 * killed meanwhile leaves it for the next one to put back; forgotten once
 * restored. recorded returns 1 with *mw when one is waiting. */
int wp_gpu_limit_record(const struct wp_gpu_limit *g);
void wp_gpu_limit_forget(const struct wp_gpu_limit *g);
int wp_gpu_limit_recorded(struct wp_gpu_limit *g, unsigned *mw);

/* One tune-power per GPU: an exclusive lock (not waited for) held until the
 * descriptor is closed, or the process ends however it ends. Returns the
 * descriptor, -EBUSY when another holds it, or a negative errno. */
int wp_gpu_limit_lock(const struct wp_gpu_limit *g);

/* Whether a recorded limit lies in the GPU's allowed range: a record outside
 * it (a corrupted file, another GPU's) is not put back. */
bool wp_gpu_limit_believable(const struct wp_gpu_limit *g, unsigned mw);

/* For run and serve: the limits that killed tune-powers left (records with
 * no tune-power holding their lock) put back, one line each in said. Loads
 * NVML only when a record exists. Returns 1 when it said something. */
int wp_gpu_limit_restore_left(char *said, size_t cap);

#endif
