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
};

/* Reads f (positioned at its start). Returns 0, or -EINVAL with the reason in
 * err for a malformed, truncated or hostile file. Never allocates more than
 * the header it was told about, and refuses headers over 100 MB. */
int wp_model_read(FILE *f, struct wp_model_info *out, char *err, size_t cap);

#endif
