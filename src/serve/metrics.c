/* The Prometheus text format (version 0.0.4) and the socket snapshot. */
#include "serve.h"

#include "../util/buf.h"
#include "../util/jput.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Label values escape backslash, double quote and newline. */
static void label(struct wp_buf *b, const char *name, const char *value, bool first)
{
    wp_buf_printf(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"')
            wp_buf_printf(b, "\\%c", *c);
        else if (*c == '\n')
            wp_buf_printf(b, "\\n");
        else
            wp_buf_printf(b, "%c", *c);
    }
    wp_buf_printf(b, "\"");
}

const double wp_serve_window_s[WP_SERVE_WINDOWS] = {60, 900};
const char *const wp_serve_window_name[WP_SERVE_WINDOWS] = {"1m", "15m"};

/* A channel's labels, and what it overlaps where given (NULL: none). */
static void labels(struct wp_buf *b, const struct wp_channel *ch, const char *overlaps)
{
    wp_buf_printf(b, "{");
    label(b, "component", wp_component_name(ch->component), true);
    label(b, "device", ch->device, false);
    label(b, "sensor", ch->sensor, false);
    label(b, "method", wp_method_name(ch->method), false);
    if (overlaps)
        label(b, "overlaps", overlaps, false);
    wp_buf_printf(b, "}");
}

/* One metric's series: the counted channels, or the others (with what they
 * overlap: the package a sub-zone lies in, or the packages psys covers);
 * nothing when there are none. */
static void channel_series(struct wp_buf *b, const struct wp_reading *r, const char *name,
                           const char *type, const char *help, bool overlapping)
{
    bool any = false;

    for (int i = 0; i < r->n_channels; i++) {
        const struct wp_channel *ch = &r->channels[i].ch;
        double v = strstr(name, "power") ? r->channels[i].power_w : r->channels[i].energy_j;
        if (ch->counted == overlapping)
            continue;
        if (!any)
            wp_buf_printf(b, "# HELP wattprint_%s %s.\n# TYPE wattprint_%s %s\n", name, help, name,
                          type);
        any = true;
        wp_buf_printf(b, "wattprint_%s", name);
        labels(b, ch, !overlapping ? NULL : ch->part_of[0] ? ch->part_of : "the packages");
        wp_buf_printf(b, strstr(name, "power") ? " %.3f\n" : " %.6f\n", v);
    }
}

/* Per unit in each window: one series per counter and window with work in it. */
static void per_unit(struct wp_buf *b, const struct wp_serve_work *w,
                     const struct wp_assumptions *a, bool grams)
{
    for (int k = 0; k < w->n; k++)
        for (int i = 0; i < WP_SERVE_WINDOWS; i++) {
            struct wp_carbon c;
            double v = w->c[k].energy_per_unit_j[i];
            if (!w->c[k].has[i])
                continue;
            if (grams) {
                wp_account(v, a, &c);
                v = c.emissions_g;
            }
            wp_buf_printf(b, grams ? "wattprint_emissions_per_unit_grams{"
                                   : "wattprint_energy_per_unit_joules{");
            label(b, "unit", w->c[k].unit, true);
            label(b, "window", wp_serve_window_name[i], false);
            wp_buf_printf(b, "} %.9g\n", v);
        }
}

static void work_text(struct wp_buf *b, const struct wp_serve_work *w,
                      const struct wp_assumptions *a, bool carbon)
{
    wp_buf_printf(b, "# HELP wattprint_work_total Work read from the server's metrics since the "
                     "exporter started (its resets counted as Prometheus does).\n"
                     "# TYPE wattprint_work_total counter\n");
    for (int k = 0; k < w->n; k++) {
        wp_buf_printf(b, "wattprint_work_total{");
        label(b, "unit", w->c[k].unit, true);
        wp_buf_printf(b, "} %.6f\n", w->c[k].total);
    }
    wp_buf_printf(b,
                  "# HELP wattprint_work_scrapes_total Reads of the server's metrics page.\n"
                  "# TYPE wattprint_work_scrapes_total counter\nwattprint_work_scrapes_total %ld\n"
                  "# HELP wattprint_work_scrape_failures_total Reads that failed (no answer, not "
                  "200, not Prometheus text).\n# TYPE wattprint_work_scrape_failures_total "
                  "counter\nwattprint_work_scrape_failures_total %ld\n",
                  w->scrapes, w->failed);
    wp_buf_printf(b, "# HELP wattprint_energy_per_unit_joules Counted energy over the work done "
                     "in the window (1m, 15m).\n"
                     "# TYPE wattprint_energy_per_unit_joules gauge\n");
    per_unit(b, w, a, false);
    if (!carbon)
        return;
    wp_buf_printf(b, "# HELP wattprint_emissions_per_unit_grams CO2e of the energy per unit, "
                     "with PUE and grid intensity.\n"
                     "# TYPE wattprint_emissions_per_unit_grams gauge\n");
    per_unit(b, w, a, true);
}

char *wp_metrics_text(const struct wp_reading *r, const struct wp_assumptions *a, bool carbon,
                      const struct wp_serve_work *work, size_t *len)
{
    struct wp_buf b = {0};

    /* counted channels in the sums' metrics, the rest apart: a sub-zone
     * (core, uncore) inside its package or psys over the packages would count
     * its joules twice in a plain sum() */
    channel_series(&b, r, "energy_joules_total", "counter",
                   "Energy used since the exporter started (wrap-corrected); each joule once: "
                   "sum() is the node's",
                   false);
    channel_series(&b, r, "power_watts", "gauge",
                   "Mean power between the last two readings; sum() is the node's", false);
    channel_series(&b, r, "overlapping_energy_joules_total", "counter",
                   "Energy of zones inside or over counted ones (core and uncore in their "
                   "package, psys over the packages): never add it to "
                   "wattprint_energy_joules_total",
                   true);
    channel_series(&b, r, "overlapping_power_watts", "gauge",
                   "Mean power of the zones inside or over counted ones", true);
    if (carbon) {
        struct wp_carbon c;
        wp_account(r->totals.total_j, a, &c);
        wp_buf_printf(&b,
                      "# HELP wattprint_emissions_grams_total CO2e of the counted energy since the "
                      "exporter started, with PUE and grid intensity.\n"
                      "# TYPE wattprint_emissions_grams_total counter\n"
                      "wattprint_emissions_grams_total");
        wp_buf_printf(&b, "{");
        label(&b, "region", a->region.code, true);
        wp_buf_printf(&b, "} %.6f\n", c.emissions_g);
        wp_buf_printf(
            &b, "# HELP wattprint_grid_intensity_grams_per_kilowatt_hour Grid carbon intensity "
                "used.\n# TYPE wattprint_grid_intensity_grams_per_kilowatt_hour gauge\n"
                "wattprint_grid_intensity_grams_per_kilowatt_hour");
        wp_buf_printf(&b, "{");
        label(&b, "region", a->region.code, true);
        wp_buf_printf(&b, "} %.3f\n", a->region.intensity_g_per_kwh);
        wp_buf_printf(&b,
                      "# HELP wattprint_pue Power usage effectiveness applied.\n"
                      "# TYPE wattprint_pue gauge\nwattprint_pue %.3f\n",
                      a->pue);
        if (a->has_wue) /* --wue: the water the counted energy took on site */
            wp_buf_printf(&b,
                          "# HELP wattprint_water_liters_total On-site water of the counted "
                          "energy since the exporter started (IT kWh x WUE).\n"
                          "# TYPE wattprint_water_liters_total counter\n"
                          "wattprint_water_liters_total %.9f\n",
                          c.water_l);
        if (a->has_offsite_wue) /* the power plants', from the region's country */
            wp_buf_printf(&b,
                          "# HELP wattprint_water_offsite_liters_total Water the power plants "
                          "consumed for the counted energy since the exporter started (facility "
                          "kWh x the grid's L/kWh, estimated).\n"
                          "# TYPE wattprint_water_offsite_liters_total counter\n"
                          "wattprint_water_offsite_liters_total %.9f\n",
                          c.water_offsite_l);
    }
    if (work)
        work_text(&b, work, a, carbon);
    wp_buf_printf(&b,
                  "# HELP wattprint_build_info The exporter's version.\n"
                  "# TYPE wattprint_build_info gauge\nwattprint_build_info{version=\"%s\"} 1\n",
                  WP_VERSION);
    return wp_buf_take(&b, len);
}

char *wp_snapshot_json(const struct wp_reading *r)
{
    json_t *root = json_object(), *arr = json_array();
    char *text;
    int bad = 0;

    for (int i = 0; i < r->n_channels; i++) {
        const struct wp_channel *ch = &r->channels[i].ch;
        if (ch->method != WP_MEASURED || ch->component == WP_GPU)
            continue; /* GPUs are read by each user directly; estimates are not shared */
        wp_jpush(&bad, arr,
                 json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:b}", "sensor", ch->sensor, "component",
                           wp_component_name(ch->component), "device", ch->device, "counted",
                           ch->counted, "part_of", ch->part_of, "energy_uj",
                           (json_int_t)(r->channels[i].energy_j * 1e6), "lost",
                           r->channels[i].lost));
    }
    wp_jput(&bad, root, "version", json_integer(1));
    wp_jput(&bad, root, "channels", arr);
    text = bad ? NULL : json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}
