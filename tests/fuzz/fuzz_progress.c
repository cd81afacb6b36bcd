/* Fuzz target: progress lines as programs write them to WATTPRINT_PROGRESS. */
#include <stddef.h>
#include <stdint.h>

#include "work/progress.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_work w = {0};
    (void)wp_progress_line(&w, (const char *)data, size, 1.0);
    return 0;
}
