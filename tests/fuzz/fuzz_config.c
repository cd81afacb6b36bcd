/* Fuzz target: the configuration file parser. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wp_config c = {0};
    char err[512], *text = malloc(size + 1);

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    (void)wp_config_parse(&c, text, "fuzz", err, sizeof err);
    free(text);
    return 0;
}
