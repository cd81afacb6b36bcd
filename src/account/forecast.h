/* Grid intensity forecasts and the greenest start in a window
 * (`wattprint run --defer-within`). */
#ifndef WP_FORECAST_H
#define WP_FORECAST_H

#include <stdbool.h>
#include <stddef.h>

#define WP_FORECAST_MAX 512

/* Points (epoch seconds, gCO2e/kWh) in time order; each holds until the next. */
struct wp_forecast {
    int n;
    double t[WP_FORECAST_MAX], g[WP_FORECAST_MAX];
};

struct wp_defer {
    double start; /* epoch seconds */
    double g;     /* the forecast mean over the run from start */
    double now_g; /* the same from now */
    bool beyond;  /* the window reaches past the forecast's end */
};

/* Parses either service's answer. Returns 0, or -EINVAL. */
int wp_forecast_parse(const char *body, size_t len, struct wp_forecast *f);

/* The start in [now, now + within_s] (now or a forecast point) with the
 * lowest forecast mean over duration_s. Returns 0, or -EINVAL (no points). */
int wp_forecast_choose(const struct wp_forecast *f, double now, double within_s, double duration_s,
                       struct wp_defer *out);

/* The forecast for a country (ISO alpha-2): GB from the Carbon Intensity API
 * (base URL $WATTPRINT_CARBONINTENSITY_UK_URL), else Electricity Maps with
 * $WATTPRINT_ELECTRICITYMAPS_TOKEN (base URL $WATTPRINT_ELECTRICITYMAPS_URL).
 * source names the service. Returns 0, or a negative errno with err
 * (-ESTALE for a forecast whose last point is older than WP_FORECAST_STALE_S
 * before now). */
#define WP_FORECAST_STALE_S 3600

int wp_forecast_fetch(const char *iso2, double now, struct wp_forecast *f, char *source,
                      size_t scap, char *err, size_t cap);

#endif
