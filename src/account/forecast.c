/* Grid intensity forecasts, and the start in a window that minimises the
 * forecast intensity over a run: Electricity Maps' /carbon-intensity/forecast
 * (a token), and for Great Britain the Carbon Intensity API's
 * /intensity/{from}/fw48h (no token). */
#define _GNU_SOURCE
#include "forecast.h"

#include "../util/http.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BODY (1024 * 1024)

static int add(struct wp_forecast *f, double t, double g)
{
    if (f->n == WP_FORECAST_MAX || !isfinite(g) || g < 0 || g > 1e5)
        return -ERANGE;
    f->t[f->n] = t;
    f->g[f->n] = g;
    f->n++;
    return 0;
}

int wp_forecast_parse(const char *body, size_t len, struct wp_forecast *f)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je), *arr, *item;
    size_t i;

    f->n = 0;
    if (!root)
        return -EINVAL;
    if ((arr = json_object_get(root, "forecast"))) { /* Electricity Maps */
        json_array_foreach(arr, i, item)
        {
            double t;
            json_t *ci = json_object_get(item, "carbonIntensity");
            if (json_is_number(ci) && json_is_string(json_object_get(item, "datetime")) &&
                wp_parse_utc(json_string_value(json_object_get(item, "datetime")), &t) == 0)
                add(f, t, json_number_value(ci));
        }
    } else if ((arr = json_object_get(root, "data"))) { /* GB Carbon Intensity API */
        json_array_foreach(arr, i, item)
        {
            double t;
            json_t *ci = json_object_get(json_object_get(item, "intensity"), "forecast");
            if (json_is_number(ci) && json_is_string(json_object_get(item, "from")) &&
                wp_parse_utc(json_string_value(json_object_get(item, "from")), &t) == 0)
                add(f, t, json_number_value(ci));
        }
    }
    json_decref(root);
    for (int k = 1; k < f->n; k++) /* in time order; each point holds until the next */
        if (!(f->t[k] > f->t[k - 1]))
            return f->n = 0, -EINVAL;
    return f->n >= 1 ? 0 : -EINVAL;
}

/* The forecast intensity averaged over [a, b): step function of the points. */
static double mean_over(const struct wp_forecast *f, double a, double b)
{
    double sum = 0;

    for (int k = 0; k < f->n; k++) {
        double lo = f->t[k], hi = k + 1 < f->n ? f->t[k + 1] : INFINITY;
        double x = fmax(a, lo), y = fmin(b, hi);
        if (k == 0)
            x = a < lo ? a : x; /* before the first point: the first holds */
        if (y > x)
            sum += f->g[k] * (y - x);
    }
    return b > a ? sum / (b - a) : f->g[0];
}

int wp_forecast_choose(const struct wp_forecast *f, double now, double within_s, double duration_s,
                       struct wp_defer *out)
{
    double last = now + within_s;

    if (f->n == 0)
        return -EINVAL;
    out->now_g = mean_over(f, now, now + duration_s);
    out->start = now;
    out->g = out->now_g;
    /* candidate starts: now, and every point's time within the window */
    for (int k = 0; k < f->n; k++) {
        double s = f->t[k], m;
        if (s <= now || s > last)
            continue;
        if ((m = mean_over(f, s, s + duration_s)) < out->g) {
            out->g = m;
            out->start = s;
        }
    }
    /* covered by the forecast at all? past its end the last point holds */
    out->beyond = now + within_s + duration_s > f->t[f->n - 1] + 3600;
    return 0;
}

static int fetch(const char *url, const char *auth, struct wp_forecast *f, char *err, size_t cap)
{
    struct wp_http_request req = {
        .url = url, .headers = {auth}, .timeout_ms = 3000, .max_body = MAX_BODY};
    struct wp_http_response res;
    int rc;

    if ((rc = wp_http_fetch(&req, &res, err, cap)) != 0)
        return rc;
    if (res.status != 200) {
        snprintf(err, cap, "HTTP status %ld from %s", res.status, url);
        rc = -EIO;
    } else if (wp_forecast_parse(res.body, res.len, f) != 0) {
        snprintf(err, cap, "%s gave no forecast this can read", url);
        rc = -EINVAL;
    }
    free(res.body);
    return rc;
}

static int fetch_any(const char *iso2, double now, struct wp_forecast *f, char *source, size_t scap,
                     char *err, size_t cap)
{
    const char *token = getenv("WATTPRINT_ELECTRICITYMAPS_TOKEN");
    char url[1024], auth[1024] = "", from[32];
    time_t t = (time_t)now;
    struct tm tm;

    if (strcmp(iso2, "GB") == 0) {
        const char *base = getenv("WATTPRINT_CARBONINTENSITY_UK_URL");
        gmtime_r(&t, &tm);
        strftime(from, sizeof from, "%Y-%m-%dT%H:%MZ", &tm);
        snprintf(url, sizeof url, "%s/intensity/%s/fw48h",
                 base && *base ? base : "https://api.carbonintensity.org.uk", from);
        snprintf(source, scap, "the GB Carbon Intensity API (National Grid ESO)");
        return fetch(url, NULL, f, err, cap);
    }
    if (!token || !*token) {
        snprintf(err, cap, "no forecast for %s without WATTPRINT_ELECTRICITYMAPS_TOKEN", iso2);
        return -ENOENT;
    }
    {
        const char *base = getenv("WATTPRINT_ELECTRICITYMAPS_URL");
        snprintf(url, sizeof url, "%s/carbon-intensity/forecast?zone=%s",
                 base && *base ? base : "https://api.electricitymap.org/v3", iso2);
        snprintf(auth, sizeof auth, "auth-token: %s", token);
    }
    snprintf(source, scap, "the Electricity Maps forecast");
    return fetch(url, auth, f, err, cap);
}

/* A forecast must reach the present: one whose last point is over an hour
 * old (a cache, a stopped feed, a clock gone wrong) says nothing about the
 * coming hours, and would be taken for them. */
static int check_fresh(const struct wp_forecast *f, double now, char *err, size_t cap)
{
    char last[32];

    if (f->n == 0 || f->t[f->n - 1] >= now - WP_FORECAST_STALE_S)
        return 0;
    wp_iso8601(f->t[f->n - 1], last, sizeof last);
    snprintf(err, cap, "the forecast ends at %s UTC, before the present: stale, not used", last);
    return -ESTALE;
}

int wp_forecast_fetch(const char *iso2, double now, struct wp_forecast *f, char *source,
                      size_t scap, char *err, size_t cap)
{
    int rc = fetch_any(iso2, now, f, source, scap, err, cap);

    return rc ? rc : check_fresh(f, now, err, cap);
}
