/* Pushing to a Prometheus push gateway (its HTTP API: PUT
 * /metrics/job/<job>{/<label>@base64/<value>}, Prometheus text in the body). */
#include "pushgateway.h"

#include "../util/buf.h"
#include "../util/http.h"
#include "../util/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int wp_push_url_check(const char *url, char *err, size_t cap)
{
    const char *host = strncmp(url, "http://", 7) == 0    ? url + 7
                       : strncmp(url, "https://", 8) == 0 ? url + 8
                                                          : NULL;

    if (!host || !*host || *host == '/' || strpbrk(url, "?# \t\r\n") || strlen(url) > 1024) {
        snprintf(err, cap,
                 "'%.200s' is not a push gateway's base URL (http://HOST:PORT, no query; e.g. "
                 "http://127.0.0.1:9091)",
                 url);
        return -EINVAL;
    }
    return 0;
}

/* RFC 4648 base64url, padded, as the gateway reads a "@base64" value. */
static void base64url(struct wp_buf *b, const char *s)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)s[i] << 16 | (i + 1 < n ? (unsigned char)s[i + 1] << 8 : 0) |
                     (i + 2 < n ? (unsigned char)s[i + 2] : 0);
        wp_buf_printf(b, "%c%c%c%c", a[v >> 18 & 63], a[v >> 12 & 63],
                      i + 1 < n ? a[v >> 6 & 63] : '=', i + 2 < n ? a[v & 63] : '=');
    }
    if (n == 0)
        wp_buf_printf(b, "="); /* the gateway's spelling of an empty value */
}

static void group(struct wp_buf *b, const char *label, const char *value)
{
    if (!value || !*value)
        return;
    wp_buf_printf(b, "/%s@base64/", label);
    base64url(b, value);
}

static void gauge(struct wp_buf *b, const char *name, const char *help, double v)
{
    wp_buf_printf(b,
                  "# HELP wattprint_run_%s %s\n# TYPE wattprint_run_%s gauge\n"
                  "wattprint_run_%s %.9g\n",
                  name, help, name, name, v);
}

char *wp_push_text(const struct wp_run *run)
{
    const struct wp_energy_totals *t = &run->reading.totals;
    struct wp_buf b = {0};

    wp_buf_printf(&b, "# HELP wattprint_run_energy_joules The run's energy by component (each "
                      "joule once).\n# TYPE wattprint_run_energy_joules gauge\n");
    wp_buf_printf(&b,
                  "wattprint_run_energy_joules{component=\"cpu\"} %.9g\n"
                  "wattprint_run_energy_joules{component=\"dram\"} %.9g\n"
                  "wattprint_run_energy_joules{component=\"gpu\"} %.9g\n",
                  t->cpu_j, t->dram_j, t->gpu_j);
    gauge(&b, "energy_total_joules", "The run's IT energy.", t->total_j);
    gauge(&b, "facility_energy_joules", "The run's energy times PUE.",
          run->carbon.facility_energy_j);
    gauge(&b, "emissions_grams", "The run's CO2e: facility energy times grid intensity.",
          run->carbon.emissions_g);
    gauge(&b, "duration_seconds", "How long the command ran.", run->reading.duration_s);
    gauge(&b, "exit_code", "The command's exit status (128+N: signal N).", run->exit_status);
    gauge(&b, "estimated", "1 if any of the energy is estimated rather than measured.",
          t->any_estimated ? 1 : 0);
    gauge(&b, "end_timestamp_seconds", "When the run ended (Unix time).", run->end_wall_s);
    if (run->assume.has_wue)
        gauge(&b, "water_liters", "On-site water: IT energy times WUE.", run->carbon.water_l);
    if (run->assume.has_offsite_wue)
        gauge(&b, "water_offsite_liters",
              "Water the power plants consumed: facility energy times their L/kWh (estimated).",
              run->carbon.water_offsite_l);
    return wp_buf_take(&b, NULL);
}

int wp_push_run(const char *url, const struct wp_run *run, char *err, size_t cap)
{
    struct wp_buf path = {0};
    struct wp_http_response res = {0};
    char *text = wp_push_text(run);
    size_t n = strlen(url);
    int rc;

    wp_buf_printf(&path, "%.*s/metrics/job/wattprint", (int)(n && url[n - 1] == '/' ? n - 1 : n),
                  url);
    group(&path, "instance", run->host);
    group(&path, "project", run->labels.project);
    group(&path, "experiment", run->labels.experiment);
    group(&path, "wattprint_job", run->labels.job);
    if (!text || path.failed) {
        free(text);
        free(path.p);
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    rc = wp_http_fetch(&(struct wp_http_request){.method = "PUT",
                                                 .url = path.p,
                                                 .headers = {"Content-Type: text/plain; "
                                                             "version=0.0.4"},
                                                 .timeout_ms = 5000,
                                                 .body = text,
                                                 .body_len = strlen(text)},
                       &res, err, cap);
    if (rc == 0 && (res.status < 200 || res.status > 299)) {
        snprintf(err, cap, "the gateway answered %ld: %.200s", res.status,
                 res.body ? res.body : "");
        rc = -EPROTO;
    }
    free(res.body);
    free(text);
    free(path.p);
    return rc;
}
