/* The run JSON: SI base units, the unit in each name. */
#define _GNU_SOURCE
#include "run.h"

#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *channel_json(const struct wp_reading_channel *rc, double duration)
{
    const struct wp_channel *ch = &rc->ch;
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:b, s:i, s:b, s:s}", "sensor", ch->sensor,
                  "component", wp_component_name(ch->component), "device", ch->device, "energy_j",
                  rc->energy_j, "mean_power_w", duration > 0 ? rc->energy_j / duration : 0.0,
                  "method", wp_method_name(ch->method), "counted", ch->counted, "wraps",
                  (int)rc->wraps, "lost", rc->lost, "detail", ch->detail);

    if (o && rc->resets > 0) {
        json_object_set_new(o, "counter_resets", json_integer(rc->resets));
        json_object_set_new(o, "uncounted_s", json_real(rc->uncounted_s));
    }
    if (o && ch->part_of[0])
        json_object_set_new(o, "part_of", json_string(ch->part_of));
    if (o && ch->share_of[0])
        json_object_set_new(o, "share_of", json_string(ch->share_of));
    if (o && ch->range_lo > 0)
        json_object_set_new(
            o, "energy_range_j",
            json_pack("[f, f]", rc->energy_j * ch->range_lo, rc->energy_j * ch->range_hi));
    if (o && ch->component == WP_GPU) {
        json_object_set_new(o, "name", json_string(ch->model));
        json_object_set_new(o, "uuid", json_string(ch->uuid));
        json_object_set_new(o, "power_limit_w",
                            ch->power_limit_w > 0 ? json_real(ch->power_limit_w) : json_null());
    }
    return o;
}

static json_t *channels_json(const struct wp_reading *r)
{
    json_t *arr = json_array();

    for (int i = 0; arr && i < r->n_channels; i++)
        json_array_append_new(arr, channel_json(&r->channels[i], r->duration_s));
    return arr;
}

static json_t *mix_json(const struct wp_region *r)
{
    static const char *const names[WP_MIX_COUNT] = {"coal",  "gas",  "oil",   "nuclear",
                                                    "hydro", "wind", "solar", "other_renewable"};
    json_t *o;

    if (!r->has_mix)
        return json_null();
    o = json_object();
    for (int i = 0; o && i < WP_MIX_COUNT; i++)
        json_object_set_new(o, names[i], json_real(r->mix_twh[i] / r->mix_total_twh));
    return o;
}

static json_t *carbon_json(const struct wp_run *run)
{
    const struct wp_assumptions *a = &run->assume;
    const struct wp_region *r = &a->region;

    return json_pack("{s:s, s:s, s:f, s:s, s:f, s:b, s:o, s:o}", "region", r->code, "region_name",
                     r->name, "intensity_g_per_kwh", r->intensity_g_per_kwh, "intensity_source",
                     a->intensity_source, "emissions_g", run->carbon.emissions_g, "assumed",
                     r->assumed, "year", r->year ? json_integer(r->year) : json_null(), "mix",
                     mix_json(r));
}

double wp_json_num(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : 0.0;
}

const char *wp_json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : "";
}

void wp_run_command_text(json_t *run, char *out, size_t cap)
{
    size_t o = 0, i;
    json_t *a;

    if (cap == 0)
        return;
    out[0] = '\0';
    json_array_foreach(json_object_get(run, "command"), i, a)
    {
        int k = snprintf(out + o, cap - o, "%s%s", i ? " " : "", json_string_value(a));
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
    }
}

void wp_run_json_derive(json_t *run)
{
    json_t *carbon = json_object_get(run, "carbon"), *arr = json_array(), *ch;
    double facility = wp_json_num(run, "facility_energy_j"),
           emissions = wp_json_num(carbon, "emissions_g");
    double intensity = wp_json_num(carbon, "intensity_g_per_kwh"),
           embodied = wp_json_num(run, "embodied_g");
    json_t *work = json_object_get(run, "work");
    /* R: the work units when the run reported them, else the run itself */
    double units = wp_json_num(work, "done") > 0 ? wp_json_num(work, "done") : 1.0;
    const char *unit = wp_json_num(work, "done") > 0 ? wp_json_str(work, "unit") : "run";
    struct wp_equivalents q;
    char buf[512];
    size_t i;

    if (wp_equivalents(emissions, facility, &q) == 0)
        json_object_set_new(run, "equivalents",
                            json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "car_km_eu", q.car_km_eu,
                                      "flights_ny_sf", q.flights_ny_sf, "car_lifetime_share",
                                      q.car_lifetime_share, "american_year_share",
                                      q.american_year_share, "tree_years", q.tree_years,
                                      "reactor_1gw_s", q.reactor_s));
    json_object_set_new(
        run, "sci",
        json_pack("{s:f, s:s, s:f, s:f, s:f, s:f, s:s}", "score_g_per_unit",
                  wp_sci_g(facility, intensity, embodied, units), "functional_unit", unit, "units",
                  units, "energy_j", facility, "intensity_g_per_kwh", intensity, "embodied_g",
                  embodied, "boundary",
                  "operational: the machine's CPU packages, DRAM and GPUs as measured or "
                  "estimated, times PUE; embodied: as given, else 0"));
    snprintf(buf, sizeof buf, "PUE %.3g: %s", wp_json_num(run, "pue"),
             wp_json_str(run, "pue_source"));
    json_array_append_new(arr, json_string(buf));
    snprintf(buf, sizeof buf, "grid intensity %.4g g/kWh (%s): %s", intensity,
             wp_json_str(carbon, "region_name"), wp_json_str(carbon, "intensity_source"));
    json_array_append_new(arr, json_string(buf));
    json_array_foreach(json_object_get(run, "settings"), i, ch) json_array_append(arr, ch);
    json_array_foreach(json_object_get(run, "channels"), i, ch)
    {
        if (strcmp(wp_json_str(ch, "method"), "estimated") != 0)
            continue;
        snprintf(buf, sizeof buf, "%s %s estimated by %s: %s", wp_json_str(ch, "component"),
                 wp_json_str(ch, "device"), wp_json_str(ch, "sensor"), wp_json_str(ch, "detail"));
        json_array_append_new(arr, json_string(buf));
    }
    json_object_set_new(run, "assumptions", arr);
}

/* The counters read from a metrics endpoint: each one's work, and the whole
 * energy over it (prompt and generated tokens share the same joules). */
static void counters_json(json_t *o, const struct wp_work *w, double it)
{
    json_t *arr = json_array();

    for (int k = 0; k < w->n_counters; k++)
        json_array_append_new(
            arr,
            json_pack("{s:s, s:s, s:f, s:o, s:I}", "metric", w->counters[k].metric, "unit",
                      w->counters[k].unit, "done", w->counters[k].done, "energy_per_unit_j",
                      w->counters[k].done > 0 ? json_real(it / w->counters[k].done) : json_null(),
                      "resets", (json_int_t)w->counters[k].resets));
    json_object_set_new(o, "counters", arr);
    json_object_set_new(o, "endpoint",
                        json_pack("{s:s, s:I, s:I}", "url", w->endpoint, "scrapes",
                                  (json_int_t)w->scrapes, "failed", (json_int_t)w->failed));
}

/* The work object: present when the program reported work, the user named
 * a unit or total, or work was read from an endpoint; predictions when a
 * total is known. */
static json_t *work_json(const struct wp_run *run)
{
    const struct wp_work *w = &run->work;
    double e_total, d_total, it = run->reading.totals.total_j, duration = run->reading.duration_s;
    json_t *o;

    if (!w->reported && !w->total_from_cli && !w->unit_from_cli && w->n_quality == 0 &&
        !w->endpoint[0])
        return json_null();
    o = json_pack("{s:s, s:f, s:o, s:o}", "unit", w->unit[0] ? w->unit : "steps", "done", w->done,
                  "total", w->total > 0 ? json_real(w->total) : json_null(), "energy_per_unit_j",
                  w->done > 0 ? json_real(it / w->done) : json_null());
    if (o && w->endpoint[0])
        counters_json(o, w, it);
    if (o && w->n_quality > 0) {
        json_t *q = json_object();
        for (int k = 0; k < w->n_quality; k++)
            json_object_set_new(q, w->quality[k].name, json_real(w->quality[k].value));
        json_object_set_new(o, "quality", q);
    }
    if (o && wp_work_predict(w, it, duration, &e_total, &d_total)) {
        struct wp_carbon c;
        wp_account(e_total, &run->assume, &c);
        json_object_set_new(o, "predicted_energy_j", json_real(e_total));
        json_object_set_new(o, "predicted_emissions_g", json_real(c.emissions_g));
        json_object_set_new(o, "predicted_duration_s", json_real(d_total));
        json_object_set_new(o, "prediction",
                            json_string("linear in work: the rest at the energy and time per "
                                        "unit observed so far"));
    } else if (o) {
        json_object_set_new(o, "predicted_energy_j", json_null());
        json_object_set_new(o, "predicted_emissions_g", json_null());
        json_object_set_new(o, "predicted_duration_s", json_null());
    }
    return o;
}

/* What cloud detection found; null where it did not run or found no cloud. */
static json_t *cloud_json(const struct wp_cloud_info *c)
{
    if (c->cloud == WP_CLOUD_NONE)
        return json_null();
    return json_pack("{s:s, s:s, s:o, s:o, s:o}", "provider", c->provider, "evidence", c->evidence,
                     "region", c->region[0] ? json_string(c->region) : json_null(), "instance_type",
                     c->instance_type[0] ? json_string(c->instance_type) : json_null(),
                     "metadata_error", c->error[0] ? json_string(c->error) : json_null());
}

/* Text from outside (arguments, paths, names) as a JSON string: bytes that
 * are not UTF-8 are kept, written "\xNN", never dropped (jansson refuses
 * them). NULL stays null. */
static json_t *text(const char *s)
{
    size_t cap;
    char *buf;
    json_t *j;

    if (!s)
        return json_null();
    cap = 4 * strlen(s) + 1;
    if (!(buf = malloc(cap)))
        return json_null();
    wp_utf8_clean(s, buf, cap);
    j = json_string(buf);
    free(buf);
    return j ? j : json_null();
}

/* Who ran what, where, under which labels. */
static void identity_json(const struct wp_run *run, json_t *root)
{
    json_t *cmd = json_array(), *tags = json_object(), *settings = json_array();

    for (int i = 0; i < run->argc; i++)
        json_array_append_new(cmd, text(run->argv[i]));
    json_object_set_new(root, "command", cmd);
    json_object_set_new(root, "cwd", text(run->cwd));
    json_object_set_new(root, "host", text(run->host));
    if (run->checkpoint_every_s > 0)
        json_object_set_new(root, "checkpoint_interval_s", json_real(run->checkpoint_every_s));
    json_object_set_new(root, "machine",
                        json_pack("{s:o, s:i, s:f, s:o}", "cpu_model", text(run->machine.cpu_model),
                                  "cpu_count", run->machine.cpu_count, "ram_total_gib",
                                  run->machine.ram_gib, "os", text(run->machine.os)));
    json_object_set_new(root, "user", text(run->user));
    json_object_set_new(root, "project", text(run->labels.project));
    json_object_set_new(root, "experiment", text(run->labels.experiment));
    json_object_set_new(root, "job", text(run->labels.job));
    for (int i = 0; i < run->labels.n_tags; i++) {
        char key[4 * sizeof run->labels.tags[i].key];
        wp_utf8_clean(run->labels.tags[i].key, key, sizeof key);
        json_object_set_new(tags, key, text(run->labels.tags[i].value));
    }
    json_object_set_new(root, "tags", tags);
    for (int i = 0; i < run->n_settings; i++)
        json_array_append_new(settings, text(run->settings[i]));
    json_object_set_new(root, "settings", settings);
}

static json_t *run_to_json(const struct wp_run *run)
{
    const struct wp_energy_totals *t = &run->reading.totals;
    char start[32], end[32];
    json_t *root;

    wp_iso8601(run->start_wall_s, start, sizeof start);
    wp_iso8601(run->end_wall_s, end, sizeof end);
    root = json_pack("{s:s, s:s, s:o, s:o, s:s, s:s, s:f, s:f, s:s, "
                     "s:{s:f, s:f, s:f, s:f, s:o}, s:s, s:o}",
                     "run_id", run->run_id, "status", wp_run_status_name(run->status), "exit_code",
                     json_integer(run->exit_status), "signal",
                     run->signal ? json_integer(run->signal) : json_null(), "start", start, "end",
                     end, "duration_s", run->reading.duration_s, "interval_s",
                     run->reading.interval_s, "wattprint_version", WP_VERSION, "energy", "total_j",
                     t->total_j, "cpu_j", t->cpu_j, "dram_j", t->dram_j, "gpu_j", t->gpu_j,
                     "psys_j", t->has_psys ? json_real(t->psys_j) : json_null(), "method",
                     t->any_estimated ? "estimated" : "measured", "channels",
                     channels_json(&run->reading));
    if (!root)
        return NULL;
    identity_json(run, root);
    json_object_set_new(json_object_get(root, "energy"), "total_range_j",
                        json_pack("[f, f]", t->low_j, t->high_j));
    json_object_set_new(root, "pue", json_real(run->assume.pue));
    json_object_set_new(root, "facility_energy_j", json_real(run->carbon.facility_energy_j));
    json_object_set_new(root, "carbon", carbon_json(run));
    json_object_set_new(root, "pue_source", text(run->assume.pue_source));
    json_object_set_new(root, "embodied_g", json_real(run->assume.embodied_g));
    json_object_set_new(root, "work", work_json(run));
    json_object_set_new(root, "cloud", cloud_json(&run->cloud));
    wp_run_json_derive(root);
    return root;
}

json_t *wp_run_json(const struct wp_run *run)
{
    return run_to_json(run);
}

char *wp_run_json_string(const struct wp_run *run)
{
    json_t *root = run_to_json(run);
    char *s = root ? json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) : NULL;
    json_decref(root);
    return s;
}

int wp_run_write_json(const struct wp_run *run, const char *path, char *err, size_t cap)
{
    char *s = wp_run_json_string(run);
    size_t n;
    int rc;

    if (!s) {
        snprintf(err, cap, "out of memory");
        return -ENOMEM;
    }
    n = strlen(s);
    s[n] = '\n'; /* the NUL becomes the last line's end: the text is written by length */
    rc = wp_out_write(path, s, n + 1, err, cap);
    free(s);
    return rc;
}
