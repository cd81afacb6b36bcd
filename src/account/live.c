/* Live grid intensity from the Electricity Maps API. Optional: used only
 * when WATTPRINT_ELECTRICITYMAPS_TOKEN is set, and any failure falls back to
 * the bundled table. */
#include "account.h"

#include "../util/http.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_URL "https://api.electricitymap.org/v3"
#define MAX_BODY    (64 * 1024) /* the real answer is a few hundred bytes */

int wp_emaps_parse(const char *body, size_t len, double *g, char *when, size_t when_cap)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr), *ci, *dt;
    int rc = -EINVAL;

    if (!root)
        return -EINVAL;
    ci = json_object_get(root, "carbonIntensity");
    if (json_is_number(ci)) {
        double v = json_number_value(ci);
        if (isfinite(v) && v >= 0 && v < 1e5) {
            *g = v;
            rc = 0;
        }
    }
    if (when && when_cap) {
        dt = json_object_get(root, "datetime");
        snprintf(when, when_cap, "%s", json_is_string(dt) ? json_string_value(dt) : "");
    }
    json_decref(root);
    return rc;
}

int wp_emaps_fetch(const char *zone, const char *token, double timeout_s, double *g, char *when,
                   size_t when_cap, char *err, size_t err_cap)
{
    const char *base = getenv("WATTPRINT_ELECTRICITYMAPS_URL");
    char url[1024], auth[1024];
    struct wp_http_request req = {.url = url, .headers = {auth}, .max_body = MAX_BODY};
    struct wp_http_response res;
    double at;
    int rc;

    if (!base || !*base)
        base = DEFAULT_URL;
    if (snprintf(url, sizeof url, "%s/carbon-intensity/latest?zone=%s", base, zone) >=
            (int)sizeof url ||
        snprintf(auth, sizeof auth, "auth-token: %s", token) >= (int)sizeof auth) {
        snprintf(err, err_cap, "URL or token too long");
        return -ENAMETOOLONG;
    }
    req.timeout_ms = (long)(timeout_s * 1000);
    if ((rc = wp_http_fetch(&req, &res, err, err_cap)) != 0)
        return rc;
    if (res.status != 200) {
        snprintf(err, err_cap, "HTTP status %ld", res.status);
        rc = -EIO;
    } else if (wp_emaps_parse(res.body, res.len, g, when, when_cap) != 0) {
        snprintf(err, err_cap, "the answer has no valid carbonIntensity");
        rc = -EINVAL;
    } else if (when && *when && wp_parse_utc(when, &at) == 0 && at < wp_wall_s() - 86400) {
        /* a "latest" value over a day old is not this run's grid */
        snprintf(err, err_cap, "its latest value is from %s, over a day ago: stale", when);
        rc = -ESTALE;
    }
    free(res.body);
    return rc;
}
