/* A finished run: its status names and its carbon account. */
#include "run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

const char *wp_run_status_name(enum wp_run_status s)
{
    switch (s) {
    case WP_RUN_COMPLETED:
        return "completed";
    case WP_RUN_FAILED:
        return "failed";
    case WP_RUN_INTERRUPTED:
        return "interrupted";
    case WP_RUN_RUNNING:
        return "running";
    }
    return "unknown";
}

void wp_run_account(struct wp_run *run)
{
    struct wp_energy_totals t;

    wp_meter_totals(run->meter, &t);
    wp_account(t.total_j, &run->assume, &run->carbon);
}

int wp_tag_parse(const char *text, struct wp_tag *out)
{
    const char *eq = strchr(text, '=');
    size_t klen = eq ? (size_t)(eq - text) : 0;

    if (!eq || klen == 0 || klen >= sizeof out->key || strlen(eq + 1) >= sizeof out->value)
        return -EINVAL;
    memcpy(out->key, text, klen);
    out->key[klen] = '\0';
    snprintf(out->value, sizeof out->value, "%s", eq + 1);
    return 0;
}
