/* Reports people read, from run JSON: the HTML documents (report_text.c has
 * the Markdown, the model card and SCI). */
#include "report.h"
#include "report_int.h"

#include "../util/buf.h"
#include "../util/util.h"
#include "../run/run.h"
#include "svg.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SERIES 12

/* Power over time by component from the stored samples: CPU and DRAM summed
 * over their counted channels, each GPU apart. */
struct series {
    int n, ns;
    double *x, *v[MAX_SERIES];
    char names[MAX_SERIES][64];
};

static void series_free(struct series *sr)
{
    free(sr->x);
    for (int i = 0; i < sr->ns; i++)
        free(sr->v[i]);
}

static int group_of(json_t *run, const char *device, struct series *sr)
{
    json_t *ch;
    size_t i;
    char name[64] = "";

    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        const char *comp = wp_json_str(ch, WPF_COMPONENT);
        if (strcmp(wp_json_str(ch, WPF_DEVICE), device) != 0 || !wp_json_true(ch, WPF_COUNTED))
            continue;
        if (strcmp(comp, "cpu") == 0)
            snprintf(name, sizeof name, "CPU");
        else if (strcmp(comp, "dram") == 0)
            snprintf(name, sizeof name, "DRAM");
        else if (strcmp(comp, "gpu") == 0)
            snprintf(name, sizeof name, "%.20s %.40s", device, wp_json_str(ch, WPF_NAME));
    }
    if (!name[0])
        return -1;
    for (int g = 0; g < sr->ns; g++)
        if (strcmp(sr->names[g], name) == 0)
            return g;
    if (sr->ns == MAX_SERIES || !(sr->v[sr->ns] = calloc((size_t)sr->n, sizeof(double))))
        return -1;
    snprintf(sr->names[sr->ns], sizeof sr->names[sr->ns], "%s", name);
    return sr->ns++;
}

static bool power_series(json_t *run, struct series *sr)
{
    json_t *smp = wp_json_get(run, WPF_SAMPLES), *t = wp_json_get(smp, WPF_T_S);
    json_t *e = wp_json_get(smp, WPF_ENERGY_J), *names = wp_json_get(smp, WPF_CHANNELS);
    size_t k = json_array_size(t), nc = json_array_size(names);

    memset(sr, 0, sizeof *sr);
    if (k < 2)
        return false;
    sr->n = (int)k - 1;
    if (!(sr->x = calloc((size_t)sr->n, sizeof *sr->x)))
        return false;
    for (size_t c = 0; c < nc; c++) {
        int g = group_of(run, json_string_value(json_array_get(names, c)), sr);
        if (g < 0)
            continue;
        for (size_t i = 1; i < k; i++) {
            double dt = json_number_value(json_array_get(t, i)) -
                        json_number_value(json_array_get(t, i - 1));
            double de = json_number_value(json_array_get(json_array_get(e, i), c)) -
                        json_number_value(json_array_get(json_array_get(e, i - 1), c));
            sr->v[g][i - 1] += dt > 0 ? de / dt : 0;
        }
    }
    for (size_t i = 1; i < k; i++)
        sr->x[i - 1] = json_number_value(json_array_get(t, i));
    return sr->ns > 0;
}

static const char style[] =
    "<style>body{font-family:sans-serif;max-width:980px;margin:2em auto;padding:0 1em;"
    "color:#222;line-height:1.45}h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.8em;"
    "border-bottom:1px solid #ccc}code{background:#f3f3f3;padding:1px 4px}"
    "table{border-collapse:collapse;margin:.5em 0}td,th{padding:4px 10px;border-bottom:1px "
    "solid #e3e3e3;text-align:left}td.n,th.n{text-align:right}.cards{display:flex;"
    "flex-wrap:wrap;gap:12px}.card{border:1px solid #ddd;border-radius:6px;padding:10px 16px;"
    "min-width:150px}td.cmd{word-break:break-all;max-width:340px}.card "
    "b{display:block;font-size:1.4em}.muted{color:#666}"
    ".est{color:#a05a00}.big{font-size:1.15em}svg{max-width:100%;height:auto}</style>";

static void card(struct wp_buf *b, const char *label, const char *value)
{
    wp_buf_printf(b, "<div class=\"card\"><b>");
    wp_buf_escape(b, value);
    wp_buf_printf(b, "</b>%s</div>", label);
}

static void head(struct wp_buf *b, const char *title)
{
    wp_buf_printf(b, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
                     "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    wp_buf_escape(b, title);
    wp_buf_printf(b, "</title>%s</head><body>", style);
}

static void mix_svg(struct wp_buf *b, json_t *carbon)
{
    static const char *const keys[] = {"coal",  "gas",  "oil",   "nuclear",
                                       "hydro", "wind", "solar", "other_renewable"};
    json_t *mix = wp_json_get(carbon, WPF_MIX);
    const char *labels[8];
    double v[8];
    int k = 0;

    if (!json_is_object(mix))
        return;
    for (int i = 0; i < 8; i++) {
        json_t *x = json_object_get(mix, keys[i]); /* every source, as run_json writes them */
        double share = json_is_number(x) ? json_number_value(x) * 100 : 0;
        if (share >= 0.5) {
            labels[k] = keys[i];
            v[k++] = share;
        }
    }
    wp_svg_shares(b, "Electricity generation of the region's country", labels, v, k, "%", 760);
}

static void assumptions_html(struct wp_buf *b, json_t *run)
{
    json_t *a;
    size_t i;

    wp_buf_printf(b, "<h2>Assumptions</h2><ul>");
    json_array_foreach(wp_json_get(run, WPF_ASSUMPTIONS), i, a)
    {
        wp_buf_printf(b, "<li>");
        wp_buf_escape(b, json_string_value(a));
        wp_buf_printf(b, "</li>");
    }
    wp_buf_printf(b, "</ul>");
}

/* The heading, the command, and the cards of the main figures. */
static void run_heading_html(struct wp_buf *b, json_t *run)
{
    json_t *energy = wp_json_get(run, WPF_ENERGY), *carbon = wp_json_get(run, WPF_CARBON);
    json_t *work = wp_json_get(run, WPF_WORK);
    char cmd[512], title[600], v[64], d[32];

    wp_run_command_text(run, cmd, sizeof cmd);
    snprintf(title, sizeof title, "wattprint report: %s", cmd);
    head(b, title);
    wp_buf_printf(b, "<h1>Energy and carbon of <code>");
    if (strlen(cmd) > 100) /* the heading names it; the whole command follows below */
        memcpy(cmd + 97, "...", 4);
    wp_buf_escape(b, cmd);
    wp_fmt_duration(wp_json_num(run, WPF_DURATION_S), d, sizeof d);
    wp_buf_printf(b, "</code></h1>");
    wp_run_command_text(run, cmd, sizeof cmd);
    if (strlen(cmd) > 100) {
        wp_buf_printf(b, "<p class=\"muted\">Command: <code>");
        wp_buf_escape(b, cmd);
        wp_buf_printf(b, "</code></p>");
    }
    wp_buf_printf(b, "<p class=\"muted\">Run ");
    wp_buf_escape(b, wp_json_str(run, WPF_RUN_ID));
    wp_buf_printf(b, " &middot; started ");
    wp_buf_escape(b, wp_json_str(run, WPF_START));
    wp_buf_printf(b, " on ");
    wp_buf_escape(b, wp_json_str(run, WPF_HOST));
    wp_buf_printf(b, " &middot; %s &middot; %s (exit %d)</p><div class=\"cards\">", d,
                  wp_json_str(run, WPF_STATUS), (int)wp_json_num(run, WPF_EXIT_CODE));
    wp_fmt_energy(wp_json_num(energy, WPF_TOTAL_J), v, sizeof v);
    card(b,
         strcmp(wp_json_str(run, WPF_METHOD), "measured") == 0 ? "energy (measured)"
                                                               : "energy (includes estimates)",
         v);
    wp_fmt_energy(wp_json_num(run, WPF_FACILITY_ENERGY_J), v, sizeof v);
    card(b, "with the data centre (PUE)", v);
    wp_fmt_mass(wp_json_num(carbon, WPF_EMISSIONS_G), v, sizeof v);
    card(b, "CO2e", v);
    if (json_is_object(work) && wp_json_num(work, WPF_DONE) > 0) {
        char per[64], one[32], n[48];
        wp_fmt_energy(wp_json_num(work, WPF_ENERGY_PER_UNIT_J), per, sizeof per);
        wp_unit_singular(wp_json_str(work, WPF_UNIT), one, sizeof one);
        wp_fmt_count(wp_json_num(work, WPF_DONE), n, sizeof n);
        wp_buf_printf(b, "<div class=\"card\"><b>");
        wp_buf_escape(b, per);
        wp_buf_printf(b, "</b>per ");
        wp_buf_escape(b, one);
        wp_buf_printf(b, " (%s done)</div>", n);
    }
    wp_buf_printf(b, "</div>");
}

/* Power over time, and energy by component with the channels' table. */
/* "likely 1.2 J to 3.4 J; " for an estimated channel that carries a range. */
static void range_note(struct wp_buf *b, json_t *ch)
{
    json_t *r = wp_json_get(ch, WPF_ENERGY_RANGE_J);
    char lo[32], hi[32];

    if (json_array_size(r) != 2)
        return;
    wp_fmt_energy(json_real_value(json_array_get(r, 0)), lo, sizeof lo);
    wp_fmt_energy(json_real_value(json_array_get(r, 1)), hi, sizeof hi);
    wp_buf_printf(b, "likely %s to %s; ", lo, hi);
}

static void run_energy_html(struct wp_buf *b, json_t *run)
{
    json_t *energy = wp_json_get(run, WPF_ENERGY), *ch;
    const char *all[3] = {"CPU", "DRAM", "GPU"}, *labels[3];
    double v3[3] = {wp_json_num(energy, WPF_CPU_J), wp_json_num(energy, WPF_DRAM_J),
                    wp_json_num(energy, WPF_GPU_J)},
           vals[3];
    struct series sr;
    size_t i;
    int k = 0;

    wp_buf_printf(b, "<h2>Power over time</h2>");
    if (power_series(run, &sr)) {
        const char *names[MAX_SERIES];
        for (int n = 0; n < sr.ns; n++)
            names[n] = sr.names[n];
        wp_svg_stacked(b, "Power by component (stacked)", sr.x, sr.n, (const double *const *)sr.v,
                       names, sr.ns, "time since start (s)", "power (W)", 760, 300);
    } else {
        wp_buf_printf(b, "<p class=\"muted\">No samples stored for this run (too short, or "
                         "recorded without samples).</p>");
    }
    series_free(&sr);
    wp_buf_printf(b, "<h2>Energy by component</h2>");
    for (int c = 0; c < 3; c++)
        if (v3[c] > 0) {
            labels[k] = all[c];
            vals[k++] = v3[c];
        }
    wp_svg_shares(b, "Energy by component", labels, vals, k, "J", 760);
    wp_buf_printf(b, "<table><tr><th>component</th><th>device</th><th>sensor</th>"
                     "<th class=\"n\">energy</th><th class=\"n\">mean power</th><th>method</th>"
                     "<th>note</th></tr>");
    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        char e[32];
        bool est = strcmp(wp_json_str(ch, WPF_METHOD), "estimated") == 0;
        wp_fmt_energy(wp_json_num(ch, WPF_ENERGY_J), e, sizeof e);
        wp_buf_printf(b, "<tr><td>%s</td><td>", wp_json_str(ch, WPF_COMPONENT));
        wp_buf_escape(b, wp_json_str(ch, WPF_DEVICE));
        wp_buf_printf(b,
                      "</td><td>%s</td><td class=\"n\">%s</td><td class=\"n\">%.3g W</td>"
                      "<td%s>%s</td><td>",
                      wp_json_str(ch, WPF_SENSOR), e, wp_json_num(ch, WPF_MEAN_POWER_W),
                      est ? " class=\"est\"" : "", wp_json_str(ch, WPF_METHOD));
        if (!wp_json_true(ch, WPF_COUNTED))
            wp_buf_printf(b, "not added (inside or overlapping others) ");
        if (wp_json_true(ch, WPF_LOST))
            wp_buf_printf(b, "lost mid-run ");
        range_note(b, ch);
        wp_buf_escape(b, wp_json_str(ch, WPF_DETAIL));
        wp_buf_printf(b, "</td></tr>");
    }
    wp_buf_printf(b, "</table>");
}

/* CO2e, its equivalents and the region's electricity. */
static void run_carbon_html(struct wp_buf *b, json_t *run)
{
    json_t *carbon = wp_json_get(run, WPF_CARBON), *eq = wp_json_get(run, WPF_EQUIVALENTS);
    char v[64];

    wp_buf_printf(b, "<h2>Carbon</h2><p>");
    wp_fmt_mass(wp_json_num(carbon, WPF_EMISSIONS_G), v, sizeof v);
    wp_buf_printf(b,
                  "%s CO2e: the facility energy (IT energy &times; PUE %.3g) at %.4g "
                  "gCO2e/kWh for ",
                  v, wp_json_num(run, WPF_PUE), wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH));
    wp_buf_escape(b, wp_json_str(carbon, WPF_REGION_NAME));
    wp_buf_printf(b, " (");
    wp_buf_escape(b, wp_json_str(carbon, WPF_INTENSITY_SOURCE));
    wp_buf_printf(b, ").</p>");
    wp_rep_footprint(b, run, true);
    if (json_is_object(eq))
        wp_buf_printf(b,
                      "<ul><li>%.3g km driven by an average EU car</li><li>%.3g%% of one "
                      "passenger's New York&ndash;San Francisco flight</li><li>%.3g%% of an "
                      "average American's yearly footprint</li><li>a 1 GW reactor runs %.3g s "
                      "to supply this energy</li></ul>",
                      wp_json_num(eq, WPF_CAR_KM_EU), 100 * wp_json_num(eq, WPF_FLIGHTS_NY_SF),
                      100 * wp_json_num(eq, WPF_AMERICAN_YEAR_SHARE),
                      wp_json_num(eq, WPF_REACTOR_1GW_S));
    if (json_is_object(wp_json_get(carbon, WPF_MIX))) {
        wp_buf_printf(b, "<h2>The region's electricity</h2>");
        mix_svg(b, carbon);
    }
}

/* The work done, per unit, and the prediction. */
void wp_rep_other_counters(struct wp_buf *b, json_t *work, bool html)
{
    json_t *c;
    size_t i;

    json_array_foreach(wp_json_get(work, WPF_COUNTERS), i, c)
    {
        char n[48], one[32], v[64];
        if (i == 0 || wp_json_num(c, WPF_DONE) <= 0)
            continue;
        wp_fmt_count(wp_json_num(c, WPF_DONE), n, sizeof n);
        wp_fmt_energy(wp_json_num(c, WPF_ENERGY_PER_UNIT_J), v, sizeof v);
        wp_unit_singular(wp_json_str(c, WPF_UNIT), one, sizeof one);
        wp_buf_printf(b, html ? " Beside it, %s " : "| %s ", n);
        wp_buf_escape(b, wp_json_str(c, WPF_UNIT));
        wp_buf_printf(b, html ? ": %s per " : " | %s per ", v);
        wp_buf_escape(b, one);
        wp_buf_printf(b, html ? " (the same energy)." : " (the same energy) |\n");
    }
}

static void run_work_html(struct wp_buf *b, json_t *work)
{
    char n[48], one[32], v[64];

    if (!json_is_object(work))
        return;
    wp_fmt_count(wp_json_num(work, WPF_DONE), n, sizeof n);
    wp_buf_printf(b, "<h2>Work</h2><p>%s ", n);
    wp_buf_escape(b, wp_json_str(work, WPF_UNIT));
    wp_buf_printf(b, " done");
    if (wp_json_num(work, WPF_TOTAL) > 0) {
        wp_fmt_count(wp_json_num(work, WPF_TOTAL), n, sizeof n);
        wp_buf_printf(b, " of %s", n);
    }
    wp_fmt_energy(wp_json_num(work, WPF_ENERGY_PER_UNIT_J), v, sizeof v);
    wp_unit_singular(wp_json_str(work, WPF_UNIT), one, sizeof one);
    wp_buf_printf(b, "; %s per ", v);
    wp_buf_escape(b, one);
    wp_buf_printf(b, ".");
    wp_rep_other_counters(b, work, true);
    if (wp_json_num(work, WPF_PREDICTED_ENERGY_J) > 0) {
        wp_fmt_energy(wp_json_num(work, WPF_PREDICTED_ENERGY_J), v, sizeof v);
        wp_buf_printf(b, " The whole job, at this rate: %s (", v);
        wp_buf_escape(b, wp_json_str(work, WPF_PREDICTION));
        wp_buf_printf(b, ").");
    }
    wp_buf_printf(b, "</p>");
}

char *wp_report_run_html(json_t *run)
{
    struct wp_buf b = {0};

    run_heading_html(&b, run);
    run_energy_html(&b, run);
    run_carbon_html(&b, run);
    run_work_html(&b, wp_json_get(run, WPF_WORK));
    assumptions_html(&b, run);
    wp_buf_printf(&b,
                  "<h2>Method</h2><p>Energy is read from the hardware's own counters where "
                  "they can be read (RAPL for CPU packages and DRAM, NVML or ROCm SMI for "
                  "GPUs) and integrated over the run; where they cannot, it is estimated "
                  "from published models and labelled <span class=\"est\">estimated</span> "
                  "above. Facility energy multiplies by the PUE, and CO2e by the grid's "
                  "carbon intensity (Strubell et al. 2019; Patterson et al. 2021). Every "
                  "model and constant is cited in wattprint's docs/methodology.md.</p>"
                  "<p class=\"muted\">wattprint %s</p></body></html>\n",
                  WP_VERSION);
    return wp_buf_take(&b, NULL);
}

/* Appends v to list (", "-separated) unless it is there; returns how many. */
static int distinct(char *list, size_t cap, const char *v, int n)
{
    char item[80];
    const char *p = list;

    snprintf(item, sizeof item, "%s", v);
    while (n > 0 && (p = strstr(p, item)) != NULL) {
        size_t k = strlen(item);
        if ((p == list || p[-1] == ' ') && (p[k] == ',' || p[k] == '\0'))
            return n;
        p += k;
    }
    if (strlen(list) + strlen(item) + 3 < cap)
        snprintf(list + strlen(list), cap - strlen(list), "%s%s", n ? ", " : "", item);
    return n + 1;
}

void wp_rep_totals_add_run(struct wp_rep_totals *t, const struct wp_rep_run *r)
{
    char pue[32];

    t->runs++;
    t->duration += r->duration;
    t->device_hours += r->device_hours;
    t->energy += r->energy;
    t->facility += r->facility;
    t->emissions += r->emissions;
    t->energy_lo += r->has_range ? r->lo : r->energy;
    t->energy_hi += r->has_range ? r->hi : r->energy;
    t->estimated_runs += strcmp(r->method, "measured") != 0;
    if (r->has_embodied) {
        t->embodied += r->embodied;
        t->embodied_runs++;
    }
    if (r->has_water) {
        t->water_l += r->water_l;
        t->water_runs++;
    }
    if (r->has_offsite) {
        t->water_offsite_l += r->water_offsite_l;
        t->offsite_runs++;
    }
    snprintf(pue, sizeof pue, "%.3g", r->pue);
    t->n_pue = distinct(t->pue, sizeof t->pue, pue, t->n_pue);
    t->n_region = distinct(t->region, sizeof t->region, r->region, t->n_region);
    t->n_method = distinct(t->method, sizeof t->method, r->method, t->n_method);
}

void wp_rep_totals_add(struct wp_rep_totals *t, json_t *r)
{
    json_t *energy = wp_json_get(r, WPF_ENERGY), *carbon = wp_json_get(r, WPF_CARBON);
    json_t *range = wp_json_get(energy, WPF_TOTAL_RANGE_J);
    struct wp_rep_run one = {
        .duration = wp_json_num(r, WPF_DURATION_S),
        .device_hours = wp_run_json_device_hours(r), /* as the ledger counts */
        .energy = wp_json_num(energy, WPF_TOTAL_J),
        .facility = wp_json_num(r, WPF_FACILITY_ENERGY_J),
        .emissions = wp_json_num(carbon, WPF_EMISSIONS_G),
        .pue = wp_json_num(r, WPF_PUE),
        .has_range = json_array_size(range) == 2,
        .lo = json_number_value(json_array_get(range, 0)),
        .hi = json_number_value(json_array_get(range, 1)),
        .has_embodied = json_is_number(wp_json_get(r, WPF_EMBODIED_EMISSIONS_G)),
        .embodied = wp_json_num(r, WPF_EMBODIED_EMISSIONS_G),
        .has_water = json_is_number(wp_json_get(carbon, WPF_WATER_L)),
        .water_l = wp_json_num(carbon, WPF_WATER_L),
        .has_offsite = json_is_number(wp_json_get(carbon, WPF_WATER_OFFSITE_L)),
        .water_offsite_l = wp_json_num(carbon, WPF_WATER_OFFSITE_L),
        .method = wp_json_str(r, WPF_METHOD),
        .region = wp_json_str(carbon, WPF_REGION),
    };
    wp_rep_totals_add_run(t, &one);
}

void wp_rep_totals(json_t *runs, struct wp_rep_totals *t)
{
    json_t *r;
    size_t i;

    memset(t, 0, sizeof *t);
    json_array_foreach(runs, i, r) wp_rep_totals_add(t, r);
}

bool wp_rep_range(const struct wp_rep_totals *t, char *out, size_t cap)
{
    char lo[32], hi[32];

    if (!(t->energy_hi > t->energy_lo))
        return false;
    wp_fmt_energy(t->energy_lo, lo, sizeof lo);
    wp_fmt_energy(t->energy_hi, hi, sizeof hi);
    snprintf(out, cap, "%s to %s", lo, hi);
    return true;
}

void wp_rep_differences(const struct wp_rep_totals *t, char *out, size_t cap)
{
    bool p = t->n_pue > 1, r = t->n_region > 1, m = t->n_method > 1;

    snprintf(out, cap, "%s%s%s%s%s%s%s%s%s%s%s", p ? "PUE (" : "", p ? t->pue : "", p ? ")" : "",
             p && (r || m) ? ", " : "", r ? "region (" : "", r ? t->region : "", r ? ")" : "",
             r && m ? ", " : "", m ? "method (" : "", m ? t->method : "", m ? ")" : "");
}

/* The quality key every run reported (progress channel), or NULL. */
static const char *common_quality(json_t *runs, size_t n)
{
    json_t *q0 = wp_json_get(wp_json_get(json_array_get(runs, 0), WPF_WORK), WPF_QUALITY), *v;
    const char *key;

    json_object_foreach(q0, key, v)
    {
        size_t i = 1;
        while (i < n &&
               json_is_number(json_object_get(
                   wp_json_get(wp_json_get(json_array_get(runs, i), WPF_WORK), WPF_QUALITY), key)))
            i++;
        if (i == n)
            return key;
    }
    return NULL;
}

/* Energy against quality for a sweep, its Pareto front marked: the runs no
 * other beats on both (less energy per unit, better quality: lower loss,
 * higher anything else). */
static void quality_chart(struct wp_buf *b, json_t *runs, size_t n)
{
    static double x[200], y[200];
    static const char *labels[200];
    static bool front[200];
    const char *key = n >= 2 ? common_quality(runs, n) : NULL;
    char xl[64], yl[64], title[160];
    bool lower_better;

    if (!key)
        return;
    lower_better = strcmp(key, "loss") == 0;
    for (size_t i = 0; i < n && i < 200; i++) {
        json_t *r = json_array_get(runs, i), *w = wp_json_get(r, WPF_WORK);
        double done = wp_json_num(w, WPF_DONE);
        labels[i] = wp_json_str(r, WPF_RUN_ID);
        x[i] = wp_json_num(wp_json_get(r, WPF_ENERGY), WPF_TOTAL_J) / (done > 0 ? done : 1);
        y[i] = json_number_value(json_object_get(wp_json_get(w, WPF_QUALITY), key));
    }
    for (size_t i = 0; i < n && i < 200; i++) {
        front[i] = true;
        for (size_t j = 0; j < n && j < 200 && front[i]; j++) {
            bool better_q = lower_better ? y[j] < y[i] : y[j] > y[i];
            bool as_good_q = lower_better ? y[j] <= y[i] : y[j] >= y[i];
            front[i] = !(j != i && x[j] <= x[i] && as_good_q && (x[j] < x[i] || better_q));
        }
    }
    {
        const char *unit = wp_json_str(wp_json_get(json_array_get(runs, 0), WPF_WORK), WPF_UNIT);
        size_t len = strlen(unit);
        /* "per token" */
        snprintf(xl, sizeof xl, "energy per %.*s (J)",
                 (int)(len > 1 && unit[len - 1] == 's' ? len - 1 : len), *unit ? unit : "run");
    }
    snprintf(yl, sizeof yl, "%s (%s is better)", key, lower_better ? "lower" : "higher");
    snprintf(title, sizeof title, "Energy against %s: the Pareto front in red", key);
    wp_buf_printf(b, "<h2>Energy and quality</h2>");
    wp_svg_scatter(b, title, x, y, labels, front, (int)(n < 200 ? n : 200), xl, yl, 760, 320);
}

/* The group's totals as cards: energy (with its likely range where runs are
 * estimated), facility energy, CO2e, embodied and water where runs carry them. */
static void group_cards(struct wp_buf *b, const struct wp_rep_totals *t)
{
    char v[64], label[96];

    wp_fmt_energy(t->energy, v, sizeof v);
    card(b, t->estimated_runs ? "energy (partly estimated)" : "energy", v);
    if (wp_rep_range(t, v, sizeof v)) {
        snprintf(label, sizeof label, "likely energy range (%d estimated run%s)", t->estimated_runs,
                 t->estimated_runs == 1 ? "" : "s");
        card(b, label, v);
    }
    wp_fmt_energy(t->facility, v, sizeof v);
    card(b, "with the data centre (PUE)", v);
    wp_fmt_mass(t->emissions, v, sizeof v);
    card(b, "CO2e", v);
    if (t->embodied_runs) {
        wp_fmt_mass(t->embodied, v, sizeof v);
        snprintf(label, sizeof label, "embodied CO2e (%d of %d runs, estimated)", t->embodied_runs,
                 t->runs);
        card(b, label, v);
    }
    if (t->water_runs) {
        wp_fmt_volume(t->water_l, v, sizeof v);
        snprintf(label, sizeof label, "water on site (%d of %d runs)", t->water_runs, t->runs);
        card(b, label, v);
    }
    if (t->offsite_runs) {
        wp_fmt_volume(t->water_offsite_l, v, sizeof v);
        snprintf(label, sizeof label, "water at the power plants (%d of %d runs, estimated)",
                 t->offsite_runs, t->runs);
        card(b, label, v);
    }
}

/* The runs table (the 500 newest), numbered as the chart numbers the
 * newest shown runs (oldest 1), and what the runs differ in. */
static void group_runs_html(struct wp_buf *b, json_t *runs, const struct wp_rep_totals *t,
                            size_t shown)
{
    size_t count = json_array_size(runs);
    char diff[512];

    wp_rep_differences(t, diff, sizeof diff);
    wp_buf_printf(b, "<h2>Runs</h2>");
    if (*diff) {
        wp_buf_printf(b, "<p class=\"est\">These runs differ in ");
        wp_buf_escape(b, diff);
        wp_buf_printf(b, ": each run's figures use its own; the assumptions below are "
                         "the most recent run's.</p>");
    }
    wp_buf_printf(b, "<table><tr><th class=\"n\">#</th><th>run</th><th>start</th>"
                     "<th>status</th><th class=\"n\">duration</th><th class=\"n\">energy</th>"
                     "<th>method</th><th class=\"n\">CO2e</th><th>command</th></tr>");
    for (size_t i = 0; i < count && i < 500; i++) {
        json_t *r = json_array_get(runs, i);
        char d[32], e[32], m[32], cmd[256], num[16] = "";
        wp_run_command_text(r, cmd, sizeof cmd);
        if (strlen(cmd) > 80)
            memcpy(cmd + 77, "...", 4);
        wp_fmt_duration(wp_json_num(r, WPF_DURATION_S), d, sizeof d);
        wp_fmt_energy(wp_json_num(wp_json_get(r, WPF_ENERGY), WPF_TOTAL_J), e, sizeof e);
        wp_fmt_mass(wp_json_num(wp_json_get(r, WPF_CARBON), WPF_EMISSIONS_G), m, sizeof m);
        if (i < shown)
            snprintf(num, sizeof num, "%zu", shown - i);
        wp_buf_printf(b,
                      "<tr><td class=\"n\">%s</td><td><code>%.18s</code></td><td>%s</td>"
                      "<td>%s</td><td class=\"n\">%s</td><td class=\"n\">%s</td><td>%s</td>"
                      "<td class=\"n\">%s</td><td class=\"cmd\">",
                      num, wp_json_str(r, WPF_RUN_ID), wp_json_str(r, WPF_START),
                      wp_json_str(r, WPF_STATUS), d, e, wp_json_str(r, WPF_METHOD), m);
        wp_buf_escape(b, cmd);
        wp_buf_printf(b, "</td></tr>");
    }
    wp_buf_printf(b, "</table>%s",
                  t->runs > 500 ? "<p class=\"muted\">The 500 most recent runs "
                                  "are listed; the totals cover all.</p>"
                                : "");
}

char *wp_report_group_html(json_t *runs, const struct wp_rep_totals *tp, const char *title)
{
    struct wp_buf b = {0};
    const struct wp_rep_totals t = *tp;
    size_t count = json_array_size(runs), shown = count > 200 ? 200 : count;
    const char **labels = calloc(shown ? shown : 1, sizeof *labels);
    double *vals = calloc(shown ? shown : 1, sizeof *vals);
    char v[64], full[300];

    if (!labels || !vals) {
        free(labels);
        free(vals);
        return NULL;
    }
    snprintf(full, sizeof full, "wattprint report: %s", title);
    head(&b, full);
    wp_buf_printf(&b, "<h1>Energy and carbon of ");
    wp_buf_escape(&b, title);
    wp_fmt_duration(t.duration, v, sizeof v);
    wp_buf_printf(&b,
                  "</h1><p class=\"big\"><b>%d run%s</b>, %s of running, %.4g device-days "
                  "(%.4g device-hours)</p><div class=\"cards\">",
                  t.runs, t.runs == 1 ? "" : "s", v, t.device_hours / 24, t.device_hours);
    group_cards(&b, &t);
    wp_buf_printf(&b, "</div><h2>Energy per run</h2>");
    /* runs come newest first; the chart reads oldest first */
    for (size_t i = 0; i < shown; i++) {
        json_t *r = json_array_get(runs, shown - 1 - i);
        labels[i] = wp_json_str(r, WPF_RUN_ID);
        vals[i] = wp_json_num(wp_json_get(r, WPF_ENERGY), WPF_TOTAL_J);
    }
    wp_svg_bars(
        &b, (size_t)t.runs > shown ? "Energy of the 200 most recent runs" : "Energy of each run",
        labels, vals, (int)shown, "energy (J)", 760, 280);
    quality_chart(&b, runs, shown);
    group_runs_html(&b, runs, &t, shown);
    if (count > 0)
        assumptions_html(&b, json_array_get(runs, 0));
    wp_buf_printf(&b,
                  "<p class=\"muted\">Assumptions shown are the most recent run's; each run "
                  "keeps its own (wattprint show RUN). wattprint %s</p></body></html>\n",
                  WP_VERSION);
    free(labels);
    free(vals);
    return wp_buf_take(&b, NULL);
}
