/* Which GPUs belong to a run: --gpus all|visible|none|LIST, and the
 * CUDA_VISIBLE_DEVICES / ROCR_VISIBLE_DEVICES rules behind "visible". */
#ifndef WP_GPU_SELECT_H
#define WP_GPU_SELECT_H

#include <stdbool.h>
#include <stddef.h>

struct wp_gpu_id {
    unsigned index;   /* the vendor library's order (NVML: PCI bus order) */
    const char *uuid; /* "GPU-8f6a..." or "" */
};

/* Decides keep[0..n) for n GPUs. spec is the --gpus value (NULL means
 * "visible"); visible is the value of CUDA_VISIBLE_DEVICES (NULL if unset).
 * "visible" follows CUDA: a comma-separated list of indices or UUID
 * prefixes, read up to the first entry that names no GPU; an empty value
 * hides every GPU. An explicit LIST must match: an entry that names no GPU
 * returns -EINVAL with the reason in err. Returns 0 otherwise. */
int wp_gpu_select(const char *spec, const char *visible, const struct wp_gpu_id *gpus, int n,
                  bool *keep, char *err, size_t err_cap);

#endif
