/* Fuzz target: a run document as a ledger returns it (a shared ledger's rows
 * are other people's text): parsed, checked against the schema, its derived
 * parts recomputed, and read through the typed accessors. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger/ledger_int.h"
#include "run/run.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), err[512];
    json_t *run, *ch;
    size_t i;

    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    if ((run = wp_ledger_run_of_text(text, "fuzz", err, sizeof err))) {
        char cmd[256];
        struct wp_ledger_row row;
        wp_run_command_text(run, cmd, sizeof cmd);
        wp_ledger_row_of_json(run, &row);
        json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
        {
            (void)wp_json_num(ch, WPF_ENERGY_J);
        }
        json_decref(run);
    }
    free(text);
    return 0;
}
