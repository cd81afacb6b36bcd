/* The run JSON: SI base units, the unit in each name. */
#define _GNU_SOURCE
#include "run.h"

#include "../account/embodied.h"

#include "../util/jput.h"
#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
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
    int bad = 0;

    if (o && rc->resets > 0) {
        wp_jput(&bad, o, "counter_resets", json_integer(rc->resets));
        wp_jput(&bad, o, "uncounted_s", json_real(rc->uncounted_s));
    }
    if (o && ch->part_of[0])
        wp_jput(&bad, o, "part_of", json_string(ch->part_of));
    if (o && ch->share_of[0])
        wp_jput(&bad, o, "share_of", json_string(ch->share_of));
    if (o && ch->range_lo > 0)
        wp_jput(&bad, o, "energy_range_j",
                json_pack("[f, f]", rc->energy_j * ch->range_lo, rc->energy_j * ch->range_hi));
    if (o && ch->component == WP_GPU) {
        wp_jput(&bad, o, "name", json_string(ch->model));
        wp_jput(&bad, o, "uuid", json_string(ch->uuid));
        wp_jput(&bad, o, "power_limit_w",
                ch->power_limit_w > 0 ? json_real(ch->power_limit_w) : json_null());
    }
    return wp_jdone(bad, o);
}

static json_t *channels_json(const struct wp_reading *r)
{
    json_t *arr = json_array();
    int bad = 0;

    for (int i = 0; arr && i < r->n_channels; i++)
        wp_jpush(&bad, arr, channel_json(&r->channels[i], r->duration_s));
    return wp_jdone(bad, arr);
}

static json_t *mix_json(const struct wp_region *r)
{
    static const char *const names[WP_MIX_COUNT] = {"coal",  "gas",  "oil",   "nuclear",
                                                    "hydro", "wind", "solar", "other_renewable"};
    json_t *o;
    int bad = 0;

    if (!r->has_mix)
        return json_null();
    o = json_object();
    for (int i = 0; o && i < WP_MIX_COUNT; i++)
        wp_jput(&bad, o, names[i], json_real(r->mix_twh[i] / r->mix_total_twh));
    return wp_jdone(bad, o);
}

static json_t *carbon_json(const struct wp_run *run)
{
    const struct wp_assumptions *a = &run->assume;
    const struct wp_region *r = &a->region;
    json_t *c;

    c = json_pack("{s:s, s:s, s:f, s:s, s:f, s:b, s:o, s:o, s:o, s:o}", "region", r->code,
                  "region_name", r->name, "intensity_g_per_kwh", r->intensity_g_per_kwh,
                  "intensity_source", a->intensity_source, "emissions_g", run->carbon.emissions_g,
                  "assumed", r->assumed, "year", r->year ? json_integer(r->year) : json_null(),
                  "mix", mix_json(r), "water_l",
                  a->has_wue ? json_real(run->carbon.water_l) : json_null(), "wue_l_per_kwh",
                  a->has_wue ? json_real(a->wue_l_per_kwh) : json_null());
    if (c && a->has_wue && json_object_set_new(c, "wue_source", json_string(a->wue_source))) {
        json_decref(c);
        return NULL;
    }
    /* the power plants' water, beside the site's: null where no figure; its
     * source is stored when given, else derived from the table on reading */
    if (c && (json_object_set_new(c, "water_offsite_l",
                                  a->has_offsite_wue ? json_real(run->carbon.water_offsite_l)
                                                     : json_null()) ||
              json_object_set_new(c, "offsite_wue_l_per_kwh",
                                  a->has_offsite_wue ? json_real(a->offsite_wue_l_per_kwh)
                                                     : json_null()) ||
              (a->has_offsite_wue && strcmp(a->offsite_wue_source, "given") == 0 &&
               json_object_set_new(c, "offsite_wue_source", json_string("given"))))) {
        json_decref(c);
        return NULL;
    }
    return c;
}

void wp_run_command_text(json_t *run, char *out, size_t cap)
{
    wp_command_text(wp_json_get(run, WPF_COMMAND), out, cap);
}

int wp_run_json_gpus(json_t *run, const char **model)
{
    size_t k;
    json_t *ch;
    int n = 0;

    json_array_foreach(wp_json_get(run, WPF_CHANNELS), k, ch)
    {
        if (strcmp(wp_json_str(ch, WPF_COMPONENT), "gpu") == 0 && wp_json_true(ch, WPF_COUNTED)) {
            n++;
            if (model)
                *model = wp_json_str(ch, WPF_NAME);
        }
    }
    return n;
}

double wp_run_json_device_hours(json_t *run)
{
    int gpus = wp_run_json_gpus(run, NULL);
    return wp_json_num(run, WPF_DURATION_S) / 3600.0 * (gpus > 0 ? gpus : 1);
}

bool wp_run_json_shared(json_t *run)
{
    size_t k;
    json_t *ch;

    json_array_foreach(wp_json_get(run, WPF_CHANNELS), k, ch)
    {
        if (*wp_json_str(ch, WPF_SHARE_OF))
            return true;
    }
    return false;
}

void wp_command_text(json_t *argv, char *out, size_t cap)
{
    size_t o = 0, i;
    json_t *a;

    if (cap == 0)
        return;
    out[0] = '\0';
    json_array_foreach(argv, i, a)
    {
        int k = snprintf(out + o, cap - o, "%s%s", i ? " " : "", json_string_value(a));
        if (k < 0 || (size_t)k >= cap - o)
            break;
        o += (size_t)k;
    }
}

/* Where a run's off-site water intensity came from, when not given: its
 * region's row of the bundled table if that still holds the same figure.
 * The last region asked is kept (per thread): a ledger read of many runs
 * mostly asks the same one. */
static void offsite_source(json_t *carbon, int *bad)
{
    static _Thread_local char code[64], source[256];
    static _Thread_local double value = -1;
    const char *region = wp_json_str(carbon, WPF_REGION);
    double stored = wp_json_num(carbon, WPF_OFFSITE_WUE_L_PER_KWH);
    struct wp_region r;
    char sug[8];

    if (!json_is_number(wp_json_get(carbon, WPF_OFFSITE_WUE_L_PER_KWH)) ||
        json_is_string(json_object_get(carbon, "offsite_wue_source")))
        return;
    if (strcmp(code, region) != 0) {
        snprintf(code, sizeof code, "%s", region);
        value = -1;
        if (strcmp(region, "world") == 0)
            wp_region_world(&r);
        if ((strcmp(region, "world") == 0 || wp_region_find(region, &r, sug, sizeof sug) == 0) &&
            wp_region_offsite_wue(&r, &value, source, sizeof source) != 0)
            value = -1;
    }
    wp_jput(bad, carbon, "offsite_wue_source",
            json_string(value >= 0 && fabs(value - stored) < 1e-9
                            ? source
                            : "the bundled table of the wattprint that recorded the run"));
}

int wp_run_json_derive(json_t *run)
{
    json_t *carbon = wp_json_get(run, WPF_CARBON), *arr = json_array(), *ch;
    double facility = wp_json_num(run, WPF_FACILITY_ENERGY_J),
           emissions = wp_json_num(carbon, WPF_EMISSIONS_G);
    double intensity = wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH),
           embodied = wp_json_num(run, WPF_EMBODIED_G);
    /* M: as given, else the estimate of the GPUs' manufacture, else 0 */
    bool given = json_is_number(wp_json_get(run, WPF_EMBODIED_G)); /* runs before: 0 */
    bool estimated = !given && json_is_number(wp_json_get(run, WPF_EMBODIED_EMISSIONS_G));
    json_t *work = wp_json_get(run, WPF_WORK);
    /* R: the work units when the run reported them, else the run itself */
    double units = wp_json_num(work, WPF_DONE) > 0 ? wp_json_num(work, WPF_DONE) : 1.0;
    const char *unit = wp_json_num(work, WPF_DONE) > 0 ? wp_json_str(work, WPF_UNIT) : "run";
    struct wp_equivalents q;
    char buf[512];
    size_t i;
    int bad = 0;

    if (wp_equivalents(emissions, facility, &q) == 0)
        wp_jput(&bad, run, "equivalents",
                json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "car_km_eu", q.car_km_eu,
                          "flights_ny_sf", q.flights_ny_sf, "car_lifetime_share",
                          q.car_lifetime_share, "american_year_share", q.american_year_share,
                          "tree_years", q.tree_years, "reactor_1gw_s", q.reactor_s));
    if (estimated)
        embodied = wp_json_num(run, WPF_EMBODIED_EMISSIONS_G);
    offsite_source(carbon, &bad);
    /* stored runs before this version carry their source: kept */
    if ((given || estimated) && !json_is_string(wp_json_get(run, WPF_EMBODIED_SOURCE)))
        wp_jput(&bad, run, "embodied_source",
                json_string(given ? "given (--embodied-g)" : wp_embodied_source));
    wp_jput(&bad, run, "sci",
            json_pack("{s:f, s:s, s:f, s:f, s:f, s:f, s:s, s:s}", "score_g_per_unit",
                      wp_sci_g(facility, intensity, embodied, units), "functional_unit", unit,
                      "units", units, "energy_j", facility, "intensity_g_per_kwh", intensity,
                      "embodied_g", embodied, "embodied_from",
                      given       ? "given (--embodied-g)"
                      : estimated ? "estimated: the GPUs' share of their manufacture"
                                  : "none: no GPU (a CPU server's manufacture is not modelled; "
                                    "give --embodied-g)",
                      "boundary",
                      "operational: the machine's CPU packages, DRAM and GPUs as measured or "
                      "estimated, times PUE; embodied: as given, else the GPUs' and their "
                      "servers' manufacture amortised over their service life, else 0"));
    snprintf(buf, sizeof buf, "PUE %.3g: %s", wp_json_num(run, WPF_PUE),
             wp_json_str(run, WPF_PUE_SOURCE));
    wp_jpush(&bad, arr, json_string(buf));
    snprintf(buf, sizeof buf, "grid intensity %.4g g/kWh (%s): %s", intensity,
             wp_json_str(carbon, WPF_REGION_NAME), wp_json_str(carbon, WPF_INTENSITY_SOURCE));
    wp_jpush(&bad, arr, json_string(buf));
    json_array_foreach(json_object_get(run, "settings"), i, ch)
        wp_jpush(&bad, arr, json_incref(ch));
    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        if (strcmp(wp_json_str(ch, WPF_METHOD), "estimated") != 0)
            continue;
        snprintf(buf, sizeof buf, "%s %s estimated by %s: %s", wp_json_str(ch, WPF_COMPONENT),
                 wp_json_str(ch, WPF_DEVICE), wp_json_str(ch, WPF_SENSOR),
                 wp_json_str(ch, WPF_DETAIL));
        wp_jpush(&bad, arr, json_string(buf));
    }
    wp_jput(&bad, run, "assumptions", arr);
    return bad;
}

/* The counters read from a metrics endpoint: each one's work, and the whole
 * energy over it (prompt and generated tokens share the same joules). */
static void counters_json(json_t *o, const struct wp_work *w, double it, int *bad)
{
    json_t *arr = json_array();

    for (int k = 0; k < w->n_counters; k++)
        wp_jpush(
            bad, arr,
            json_pack("{s:s, s:s, s:f, s:o, s:I}", "metric", w->counters[k].metric, "unit",
                      w->counters[k].unit, "done", w->counters[k].done, "energy_per_unit_j",
                      w->counters[k].done > 0 ? json_real(it / w->counters[k].done) : json_null(),
                      "resets", (json_int_t)w->counters[k].resets));
    wp_jput(bad, o, "counters", arr);
    wp_jput(bad, o, "endpoint",
            json_pack("{s:s, s:I, s:I}", "url", w->endpoint, "scrapes", (json_int_t)w->scrapes,
                      "failed", (json_int_t)w->failed));
}

/* The work object: present when the program reported work, the user named
 * a unit or total, or work was read from an endpoint; predictions when a
 * total is known. */
static json_t *work_json(const struct wp_run *run)
{
    const struct wp_work *w = &run->work;
    double e_total, d_total, it = run->reading.totals.total_j, duration = run->reading.duration_s;
    json_t *o;
    int bad = 0;

    if (!w->reported && !w->total_from_cli && !w->unit_from_cli && w->n_quality == 0 &&
        !w->endpoint[0])
        return json_null();
    o = json_pack("{s:s, s:f, s:o, s:o}", "unit", w->unit[0] ? w->unit : "steps", "done", w->done,
                  "total", w->total > 0 ? json_real(w->total) : json_null(), "energy_per_unit_j",
                  w->done > 0 ? json_real(it / w->done) : json_null());
    if (o && w->endpoint[0])
        counters_json(o, w, it, &bad);
    if (o && w->n_quality > 0) {
        json_t *q = json_object();
        for (int k = 0; k < w->n_quality; k++)
            wp_jput(&bad, q, w->quality[k].name, json_real(w->quality[k].value));
        wp_jput(&bad, o, "quality", q);
    }
    if (o && wp_work_predict(w, it, duration, &e_total, &d_total)) {
        struct wp_carbon c;
        wp_account(e_total, &run->assume, &c);
        wp_jput(&bad, o, "predicted_energy_j", json_real(e_total));
        wp_jput(&bad, o, "predicted_emissions_g", json_real(c.emissions_g));
        wp_jput(&bad, o, "predicted_duration_s", json_real(d_total));
        wp_jput(&bad, o, "prediction",
                json_string("linear in work: the rest at the energy and time per "
                            "unit observed so far"));
    } else if (o) {
        wp_jput(&bad, o, "predicted_energy_j", json_null());
        wp_jput(&bad, o, "predicted_emissions_g", json_null());
        wp_jput(&bad, o, "predicted_duration_s", json_null());
    }
    return wp_jdone(bad, o);
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
 * them). NULL stays null; out of memory gives NULL. */
static json_t *text(const char *s)
{
    size_t cap;
    char *buf;
    json_t *j;

    if (!s)
        return json_null();
    cap = 4 * strlen(s) + 1;
    if (!(buf = malloc(cap)))
        return NULL; /* the insertion fails: the document is refused, not altered */
    wp_utf8_clean(s, buf, cap);
    j = json_string(buf);
    free(buf);
    return j;
}

/* Who ran what, where, under which labels. */
static void identity_json(const struct wp_run *run, json_t *root, int *bad)
{
    json_t *cmd = json_array(), *tags = json_object(), *settings = json_array();

    for (int i = 0; i < run->argc; i++)
        wp_jpush(bad, cmd, text(run->argv[i]));
    wp_jput(bad, root, "command", cmd);
    wp_jput(bad, root, "cwd", text(run->cwd));
    wp_jput(bad, root, "host", text(run->host));
    if (run->checkpoint_every_s > 0)
        wp_jput(bad, root, "checkpoint_interval_s", json_real(run->checkpoint_every_s));
    wp_jput(bad, root, "machine",
            json_pack("{s:o, s:i, s:f, s:o}", "cpu_model", text(run->machine.cpu_model),
                      "cpu_count", run->machine.cpu_count, "ram_total_gib", run->machine.ram_gib,
                      "os", text(run->machine.os)));
    wp_jput(bad, root, "user", text(run->user));
    wp_jput(bad, root, "project", text(run->labels.project));
    wp_jput(bad, root, "experiment", text(run->labels.experiment));
    wp_jput(bad, root, "job", text(run->labels.job));
    for (int i = 0; i < run->labels.n_tags; i++) {
        char key[4 * sizeof run->labels.tags[i].key];
        wp_utf8_clean(run->labels.tags[i].key, key, sizeof key);
        wp_jput(bad, tags, key, text(run->labels.tags[i].value));
    }
    wp_jput(bad, root, "tags", tags);
    for (int i = 0; i < run->n_settings; i++)
        wp_jpush(bad, settings, text(run->settings[i]));
    wp_jput(bad, root, "settings", settings);
}

int wp_run_embodied_g(const struct wp_run *run, double *g)
{
    const struct wp_reading *rd = &run->reading;
    int gpus = 0;

    if (run->assume.has_embodied) { /* --embodied-g overrides the estimate */
        *g = run->assume.embodied_g;
        return -1;
    }
    for (int i = 0; i < rd->n_channels; i++)
        gpus += rd->channels[i].ch.component == WP_GPU && rd->channels[i].ch.counted;
    if (gpus > 0)
        *g = wp_embodied_g_per_device_hour(run->assume.lifetime_years) * gpus * rd->duration_s /
             3600.0;
    return gpus;
}

/* embodied_emissions_g (wp_run_embodied_g), null for a run without a GPU;
 * its source is derived (wp_run_json_derive), not stored: the same 230
 * characters in every GPU run's document. */
static void embodied_json(const struct wp_run *run, json_t *root, int *bad)
{
    double lifetime = run->assume.lifetime_years, g = 0;
    int gpus = wp_run_embodied_g(run, &g);

    if (gpus < 0) {
        wp_jput(bad, root, "embodied_emissions_g", json_real(g));
        return;
    }
    if (gpus == 0) {
        wp_jput(bad, root, "embodied_emissions_g", json_null());
        return;
    }
    wp_jput(bad, root, "embodied_emissions_g", json_real(g));
    wp_jput(bad, root, "embodied_lifetime_years",
            json_real(lifetime > 0 ? lifetime : WP_EMBODIED_LIFETIME_YEARS));
}

static json_t *run_to_json(const struct wp_run *run, bool derived)
{
    const struct wp_energy_totals *t = &run->reading.totals;
    char start[32], end[32];
    json_t *root;
    int bad = 0;

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
    identity_json(run, root, &bad);
    wp_jput(&bad, wp_json_get(root, WPF_ENERGY), "total_range_j",
            json_pack("[f, f]", t->low_j, t->high_j));
    wp_jput(&bad, root, "pue", json_real(run->assume.pue));
    wp_jput(&bad, root, "facility_energy_j", json_real(run->carbon.facility_energy_j));
    wp_jput(&bad, root, "carbon", carbon_json(run));
    wp_jput(&bad, root, "pue_source", text(run->assume.pue_source));
    /* M as given (null: not given), and the estimate of the GPUs' share of
     * their manufacture (null without a GPU: a CPU server is not modelled) */
    wp_jput(&bad, root, "embodied_g",
            run->assume.has_embodied ? json_real(run->assume.embodied_g) : json_null());
    embodied_json(run, root, &bad);
    wp_jput(&bad, root, "work", work_json(run));
    wp_jput(&bad, root, "cloud", cloud_json(&run->cloud));
    if (!bad && derived)
        bad = wp_run_json_derive(root);
    return wp_jdone(bad, root);
}

json_t *wp_run_json(const struct wp_run *run)
{
    return run_to_json(run, true);
}

json_t *wp_run_json_stored(const struct wp_run *run)
{
    return run_to_json(run, false);
}

char *wp_run_json_string(const struct wp_run *run)
{
    json_t *root = run_to_json(run, true);
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
