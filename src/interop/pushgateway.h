/* A finished run's totals pushed to a Prometheus push gateway: the
 * Prometheus convention for batch jobs, which end before a scrape. */
#ifndef WP_PUSHGATEWAY_H
#define WP_PUSHGATEWAY_H

#include "../run/run.h"

#include <stddef.h>

/* Checks a gateway's base URL (http:// or https://, a host, no query or
 * fragment) before anything starts. Returns 0, or -EINVAL with err. */
int wp_push_url_check(const char *url, char *err, size_t cap);

/* The run's totals as Prometheus text (wattprint_run_*), malloc'd, or NULL
 * without memory. */
char *wp_push_text(const struct wp_run *run);

/* PUTs the text to url's group job="wattprint", instance=the host, and the
 * run's project, experiment and job where set (label values base64url, as
 * the gateway's API allows any text): the group then holds this run, the
 * latest of its kind. Returns 0, or a negative errno with err. */
int wp_push_run(const char *url, const struct wp_run *run, char *err, size_t cap);

#endif
