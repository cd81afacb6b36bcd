/* Fuzz target: the Electricity Maps API response parser. */
#include <stddef.h>
#include <stdint.h>

#include "account/account.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    double g;
    char when[64];
    (void)wp_emaps_parse((const char *)data, size, &g, when, sizeof when);
    return 0;
}
