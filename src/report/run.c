/* A finished run: its status names and its carbon account. */
#include "run.h"

const char *wp_run_status_name(enum wp_run_status s)
{
    switch (s) {
    case WP_RUN_COMPLETED:
        return "completed";
    case WP_RUN_FAILED:
        return "failed";
    case WP_RUN_INTERRUPTED:
        return "interrupted";
    }
    return "unknown";
}

void wp_run_account(struct wp_run *run)
{
    struct wp_energy_totals t;

    wp_meter_totals(run->meter, &t);
    wp_account(t.total_j, &run->assume, &run->carbon);
}
