/* Fuzz target: the CSV reader and the CPU model-name matcher. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_csv c;
    char *s;

    wp_csv_init(&c, (const char *)data, size);
    for (int i = 0; i < 10000 && wp_csv_next(&c) != 0; i++)
        (void)wp_csv_column(&c, "name");
    if (size < 512) {
        char out[128];
        double tdp;
        s = malloc(size + 1);
        if (!s)
            return 0;
        memcpy(s, data, size);
        s[size] = '\0';
        wp_cpu_normalize(s, out, sizeof out);
        (void)wp_cpu_tdp_lookup(s, &tdp, out, sizeof out);
        free(s);
    }
    return 0;
}
