/* Parameter counts from model files, read from their headers without loading
 * any weights: safetensors and GGUF. */
#ifndef WP_MODEL_FILE_H
#define WP_MODEL_FILE_H

#include <stddef.h>
#include <stdio.h>

struct wp_model_info {
    double params;  /* total parameter count */
    char dtype[16]; /* the most common tensor type ("BF16", "Q4_K", ...) */
    long tensors;
    char format[16]; /* "safetensors" or "gguf" */
    /* Mixture of experts: the experts' own parameters, how many experts a
     * layer has and how many each token uses (0: not said). */
    double expert_params;
    long experts, experts_used;
    /* The shape, where the file says it (0: not said): layers, width, and
     * the width of one K (or V) projection (KV heads x head size). */
    long layers, hidden, kv_dim;
};

/* The parameters each token passes through: all but the unused experts'.
 * 0 when the file declares experts without saying how many are used. */
double wp_model_active_params(const struct wp_model_info *m);

/* Reads f (positioned at its start). Returns 0, or -EINVAL with the reason in
 * err for a malformed, truncated or hostile file. Never allocates more than
 * the header it was told about, and refuses headers over 100 MB. */
int wp_model_read(FILE *f, struct wp_model_info *out, char *err, size_t cap);

#endif
