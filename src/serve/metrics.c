/* The Prometheus text format (version 0.0.4) and the socket snapshot. */
#include "serve.h"

#include "../report/run.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct buf {
    char *p;
    size_t len, cap;
    bool failed;
};

static void put(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->failed)
        return;
    for (;;) {
        va_start(ap, fmt);
        n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->failed = true;
            return;
        }
        if ((size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        size_t cap = (b->cap + (size_t)n + 1) * 2;
        char *grown = realloc(b->p, cap);
        if (!grown) {
            b->failed = true;
            return;
        }
        b->p = grown;
        b->cap = cap;
    }
}

/* Label values escape backslash, double quote and newline. */
static void label(struct buf *b, const char *name, const char *value, bool first)
{
    put(b, "%s%s=\"", first ? "" : ",", name);
    for (const char *c = value; *c; c++) {
        if (*c == '\\' || *c == '"')
            put(b, "\\%c", *c);
        else if (*c == '\n')
            put(b, "\\n");
        else
            put(b, "%c", *c);
    }
    put(b, "\"");
}

static void labels(struct buf *b, const struct wp_channel *ch)
{
    put(b, "{");
    label(b, "component", wp_component_name(ch->component), true);
    label(b, "device", ch->device, false);
    label(b, "sensor", ch->sensor, false);
    label(b, "method", wp_method_name(ch->method), false);
    put(b, "}");
}

char *wp_metrics_text(struct wp_meter *m, const struct wp_assumptions *a, bool carbon, size_t *len)
{
    struct buf b = {malloc(4096), 0, 4096, false};
    int n = wp_meter_n_channels(m);

    if (!b.p)
        return NULL;
    put(&b, "# HELP wattprint_energy_joules_total Energy used since the exporter started "
            "(wrap-corrected).\n# TYPE wattprint_energy_joules_total counter\n");
    for (int i = 0; i < n; i++) {
        put(&b, "wattprint_energy_joules_total");
        labels(&b, wp_meter_channel(m, i));
        put(&b, " %.6f\n", wp_meter_energy_j(m, i));
    }
    put(&b, "# HELP wattprint_power_watts Mean power between the last two readings.\n"
            "# TYPE wattprint_power_watts gauge\n");
    for (int i = 0; i < n; i++) {
        put(&b, "wattprint_power_watts");
        labels(&b, wp_meter_channel(m, i));
        put(&b, " %.3f\n", wp_meter_channel_power_w(m, i));
    }
    if (carbon) {
        struct wp_energy_totals t;
        struct wp_carbon c;
        wp_meter_totals(m, &t);
        wp_account(t.total_j, a, &c);
        put(&b, "# HELP wattprint_emissions_grams_total CO2e of the counted energy since the "
                "exporter started, with PUE and grid intensity.\n"
                "# TYPE wattprint_emissions_grams_total counter\n"
                "wattprint_emissions_grams_total");
        put(&b, "{");
        label(&b, "region", a->region.code, true);
        put(&b, "} %.6f\n", c.emissions_g);
        put(&b, "# HELP wattprint_grid_intensity_grams_per_kilowatt_hour Grid carbon intensity "
                "used.\n# TYPE wattprint_grid_intensity_grams_per_kilowatt_hour gauge\n"
                "wattprint_grid_intensity_grams_per_kilowatt_hour");
        put(&b, "{");
        label(&b, "region", a->region.code, true);
        put(&b, "} %.3f\n", a->region.intensity_g_per_kwh);
        put(&b,
            "# HELP wattprint_pue Power usage effectiveness applied.\n"
            "# TYPE wattprint_pue gauge\nwattprint_pue %.3f\n",
            a->pue);
    }
    put(&b,
        "# HELP wattprint_build_info The exporter's version.\n"
        "# TYPE wattprint_build_info gauge\nwattprint_build_info{version=\"%s\"} 1\n",
        WP_VERSION);
    if (b.failed) {
        free(b.p);
        return NULL;
    }
    *len = b.len;
    return b.p;
}

char *wp_snapshot_json(struct wp_meter *m)
{
    json_t *root = json_object(), *arr = json_array();
    char *text;

    for (int i = 0; i < wp_meter_n_channels(m); i++) {
        const struct wp_channel *ch = wp_meter_channel(m, i);
        if (ch->method != WP_MEASURED || ch->component == WP_GPU)
            continue; /* GPUs are read by each user directly; estimates are not shared */
        json_array_append_new(arr,
                              json_pack("{s:s, s:s, s:s, s:b, s:s, s:I, s:b}", "sensor", ch->sensor,
                                        "component", wp_component_name(ch->component), "device",
                                        ch->device, "counted", ch->counted, "part_of", ch->part_of,
                                        "energy_uj", (json_int_t)(wp_meter_energy_j(m, i) * 1e6),
                                        "lost", wp_meter_lost(m, i)));
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "channels", arr);
    text = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return text;
}
