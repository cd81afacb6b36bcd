/* Fuzz target: CodeCarbon's emissions.csv as `wattprint import` reads it,
 * each row read back into a run and written out again as a row. */
#include <stdint.h>
#include <stdlib.h>

#include "interop/codecarbon.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct wp_csv hdr, row;
    char err[256];

    wp_csv_init(&hdr, (const char *)data, size);
    if (wp_csv_next(&hdr) != 1)
        return 0;
    (void)wp_cc_header_matches(&hdr);
    wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
    for (int i = 0; i < 1000; i++) {
        const char *at = row.p;
        int rc = wp_csv_next(&row);
        json_t *run;
        if (rc == 0)
            break;
        if (rc < 0)
            continue;
        run = wp_cc_run_from_row(&hdr, &row, at, (size_t)(row.p - at), err, sizeof err);
        if (run) {
            struct wp_buf b = {0};
            wp_cc_row(&b, run, wp_cc_columns, WP_CC_COLUMNS);
            free(b.p);
            json_decref(run);
        }
    }
    return 0;
}
