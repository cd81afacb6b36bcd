/* The human summary printed on stderr after a run: readable units, every
 * estimate labelled, and what to set where something was assumed. */
#include "run_summary.h"

#include "../account/embodied.h"
#include "../util/util.h"

#include <string.h>

static void fmt_power(double w, char *out, size_t cap)
{
    if (w >= 1000.0)
        snprintf(out, cap, "%.3g kW", w / 1000.0);
    else
        snprintf(out, cap, "%.3g W", w);
}

static void print_mix(const struct wp_region *r, FILE *f)
{
    static const char *const names[WP_MIX_COUNT] = {"coal",  "gas",  "oil",   "nuclear",
                                                    "hydro", "wind", "solar", "other renewables"};
    int order[WP_MIX_COUNT];

    if (!r->has_mix)
        return;
    for (int i = 0; i < WP_MIX_COUNT; i++)
        order[i] = i;
    for (int i = 0; i < WP_MIX_COUNT; i++) /* largest share first */
        for (int j = i + 1; j < WP_MIX_COUNT; j++)
            if (r->mix_twh[order[j]] > r->mix_twh[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    fprintf(f, "  grid mix %s:", r->mix_year_country);
    for (int i = 0; i < WP_MIX_COUNT; i++) {
        double share = 100.0 * r->mix_twh[order[i]] / r->mix_total_twh;
        if (share >= 0.5)
            fprintf(f, "%s %s %.0f%%", i ? "," : "", names[order[i]], share);
    }
    fprintf(f, "\n");
}

static void print_cloud(const struct wp_cloud_info *c, FILE *f)
{
    if (c->cloud == WP_CLOUD_NONE)
        return;
    fprintf(f, "  cloud   %s%s%s%s%s (detected: %s; ", c->provider, c->region[0] ? " " : "",
            c->region, c->instance_type[0] ? ", " : "", c->instance_type, c->evidence);
    if (c->error[0])
        fprintf(f, "the metadata service gave no region: %s)\n", c->error);
    else
        fprintf(f, "the instance metadata service)\n");
}

/* The hardware's manufacture: as given, or the GPUs' share estimated. */
static void print_embodied(const struct wp_run *run, FILE *f)
{
    char m[32];
    double g = 0;
    int gpus = wp_run_embodied_g(run, &g);

    if (gpus == 0)
        return;
    wp_fmt_mass(g, m, sizeof m);
    if (gpus < 0) {
        fprintf(f, "  embodied %s CO2e (--embodied-g)\n", m);
        return;
    }
    fprintf(f,
            "  embodied %s CO2e: the %s share of their manufacture over %.3g years "
            "(estimated; --lifetime-years)\n",
            m, gpus == 1 ? "GPU's" : "GPUs'", run->assume.lifetime_years);
}

static void print_carbon(const struct wp_run *run, FILE *f)
{
    const struct wp_assumptions *a = &run->assume;
    struct wp_equivalents q;
    char e[32], m[32], t[32], w[32];

    wp_fmt_energy(run->carbon.facility_energy_j, e, sizeof e);
    fprintf(f, "  facility %s at PUE %.3g (%s)\n", e, a->pue, a->pue_source);
    wp_fmt_mass(run->carbon.emissions_g, m, sizeof m);
    fprintf(f, "  carbon  %s CO2e at %.4g g/kWh, %s (%s)\n", m, a->region.intensity_g_per_kwh,
            a->region.name, a->intensity_source);
    print_mix(&a->region, f);
    if (a->has_wue) {
        wp_fmt_volume(run->carbon.water_l, w, sizeof w);
        fprintf(f, "  water   %s on site at WUE %.3g L/kWh (%s)\n", w, a->wue_l_per_kwh,
                strcmp(a->wue_source, "given") == 0 ? "--wue" : a->wue_source);
    }
    if (a->has_offsite_wue) {
        wp_fmt_volume(run->carbon.water_offsite_l, w, sizeof w);
        fprintf(f, "  water   %s off site, at the power plants: %.3g L/kWh (%s; estimated)\n", w,
                a->offsite_wue_l_per_kwh,
                strcmp(a->offsite_wue_source, "given") == 0 ? "--offsite-wue"
                                                            : a->offsite_wue_source);
    }
    print_embodied(run, f);
    /* below about a gram the comparisons are all zeros */
    if (wp_equivalents(run->carbon.emissions_g, run->carbon.facility_energy_j, &q) == 0 &&
        q.car_km_eu >= 0.01) {
        wp_fmt_duration(q.reactor_s, t, sizeof t);
        fprintf(f,
                "  that is %.3g km by car (EU average), %.3g%% of a New York-San Francisco "
                "flight;\n          a 1 GW reactor supplies this energy in %s\n",
                q.car_km_eu, 100.0 * q.flights_ny_sf, q.reactor_s < 1e-3 ? "under 1 ms" : t);
    }
    if (a->region.assumed)
        fprintf(f, "  assumed: the world-average grid; set --region (e.g. --region FR or "
                   "--region gcp:europe-west1) for yours\n");
}

/* The answer to "what does my work cost": energy and CO2e per unit, and the
 * whole job's when its total is known. */
static void print_work(const struct wp_run *run, double it_j, double duration_s, FILE *f)
{
    const struct wp_work *w = &run->work;
    char done[48], total[48], one[32], e[32], m[32], d[32];
    struct wp_carbon c;
    double pe, pd;

    if (w->endpoint[0] && w->scrapes == w->failed)
        fprintf(f, "  work    none read: %s never answered with a metrics page\n", w->endpoint);
    if (!w->reported || w->done <= 0)
        return;
    wp_fmt_count(w->done, done, sizeof done);
    wp_unit_singular(w->unit, one, sizeof one);
    wp_account(it_j / w->done, &run->assume, &c);
    wp_fmt_energy(it_j / w->done, e, sizeof e);
    wp_fmt_mass(c.emissions_g, m, sizeof m);
    fprintf(f, "  work    %s %s: %s and %s CO2e per %s\n", done, w->unit, e, m, one);
    for (int k = 1; k < w->n_counters; k++) {
        if (w->counters[k].done <= 0)
            continue;
        wp_fmt_count(w->counters[k].done, done, sizeof done);
        wp_unit_singular(w->counters[k].unit, one, sizeof one);
        wp_fmt_energy(it_j / w->counters[k].done, e, sizeof e);
        fprintf(f, "          %s %s: %s per %s (the same energy over them)\n", done,
                w->counters[k].unit, e, one);
    }
    if (w->total > w->done && wp_work_predict(w, it_j, duration_s, &pe, &pd)) {
        wp_fmt_count(w->total, total, sizeof total);
        wp_account(pe, &run->assume, &c);
        wp_fmt_energy(pe, e, sizeof e);
        wp_fmt_mass(c.emissions_g, m, sizeof m);
        wp_fmt_duration(pd, d, sizeof d);
        fprintf(f, "  predicted for all %s %s: %s, %s CO2e, %s (linear in work)\n", total, w->unit,
                e, m, d);
    }
}

static void print_channel(const struct wp_reading_channel *rc, double d, FILE *f)
{
    const struct wp_channel *ch = &rc->ch;
    char e[32], p[32], note[64] = "";

    wp_fmt_energy(rc->energy_j, e, sizeof e);
    fmt_power(d > 0 ? rc->energy_j / d : 0, p, sizeof p);
    if (ch->part_of[0])
        snprintf(note, sizeof note, ", inside %s", ch->part_of);
    else if (ch->model[0])
        snprintf(note, sizeof note, ", %.50s", ch->model);
    else if (ch->component == WP_PSYS)
        snprintf(note, sizeof note, ", overlaps the packages");
    if (!ch->counted)
        strncat(note, ", not added", sizeof note - strlen(note) - 1);
    if (rc->lost)
        strncat(note, ", LOST mid-run", sizeof note - strlen(note) - 1);
    fprintf(f, "    %-6s %-12s %10s %10s  %s%s\n", wp_component_name(ch->component), ch->device, e,
            p, wp_method_name(ch->method), note);
    if (ch->method == WP_ESTIMATED && ch->range_lo > 0 && rc->energy_j > 0) {
        char lo[32], hi[32];
        wp_fmt_energy(rc->energy_j * ch->range_lo, lo, sizeof lo);
        wp_fmt_energy(rc->energy_j * ch->range_hi, hi, sizeof hi);
        fprintf(f, "           estimated by %s (likely %s to %s): %s\n", ch->sensor, lo, hi,
                ch->detail);
    } else if (ch->method == WP_ESTIMATED) {
        fprintf(f, "           estimated by %s: %s\n", ch->sensor, ch->detail);
    }
}

void wp_summary_print(const struct wp_run *run, FILE *f)
{
    const struct wp_reading *r = &run->reading;
    char e[32], p[32], dur[32], cmd[128] = "";
    double d = r->duration_s;
    size_t o = 0;

    for (int i = 0; i < run->argc && o < sizeof cmd - 1; i++) {
        int k = snprintf(cmd + o, sizeof cmd - o, "%s%s", i ? " " : "", run->argv[i]);
        if (k < 0)
            break;
        o += (size_t)k;
    }
    if (o >= sizeof cmd - 1)
        memcpy(cmd + sizeof cmd - 4, "...", 4);
    {
        char raw[sizeof cmd], safe[sizeof cmd];
        memcpy(raw, cmd, sizeof raw);
        wp_term_safe(raw, safe, sizeof safe);
        wp_utf8_clean(safe, cmd, sizeof cmd);
    }
    wp_fmt_energy(r->totals.total_j, e, sizeof e);
    fmt_power(d > 0 ? r->totals.total_j / d : 0, p, sizeof p);
    wp_fmt_duration(d, dur, sizeof dur);
    fprintf(f, "wattprint: %s %s in %s (exit %d)\n", cmd, wp_run_status_name(run->status), dur,
            run->exit_status);
    if (r->totals.any_estimated && r->totals.high_j > r->totals.low_j) {
        char lo[32], hi[32];
        wp_fmt_energy(r->totals.low_j, lo, sizeof lo);
        wp_fmt_energy(r->totals.high_j, hi, sizeof hi);
        fprintf(f, "  energy  %s (likely %s to %s), mean %s (includes estimates)\n", e, lo, hi, p);
    } else {
        fprintf(f, "  energy  %s, mean %s (%s)\n", e, p,
                r->totals.any_estimated ? "includes estimates" : "measured");
    }
    for (int i = 0; i < r->n_channels; i++)
        print_channel(&r->channels[i], d, f);
    if (r->n_channels == 0)
        fprintf(f, "    no energy source could be read or estimated on this machine\n");
    print_work(run, r->totals.total_j, d, f);
    print_cloud(&run->cloud, f);
    print_carbon(run, f);
}
