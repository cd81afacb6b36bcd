/* Fuzz target: the safetensors and GGUF header parsers, through a memory
 * stream as the CLI reads files. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>

#include "estimate/model_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_model_info mi;
    char err[256];
    FILE *f;

    if (size == 0)
        return 0;
    f = fmemopen((void *)data, size, "rb");
    if (!f)
        return 0;
    (void)wp_model_read(f, &mi, err, sizeof err);
    fclose(f);
    return 0;
}
