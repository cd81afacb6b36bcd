/* Reports as text, from run JSON: Markdown for a run and a group, a model
 * card's environmental section, and the SCI score. */
#include "report.h"
#include "report_int.h"

#include "../run/run.h"
#include "../util/buf.h"
#include "../util/util.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One "- item" line of a Markdown list, its text escaped. */
static void list_item(struct wp_buf *b, const char *text)
{
    char safe[2048];

    wp_md_text(text, safe, sizeof safe);
    wp_buf_printf(b, "- %s\n", safe);
}

char *wp_report_run_markdown(json_t *run)
{
    struct wp_buf b = {0};
    json_t *energy = wp_json_get(run, WPF_ENERGY), *carbon = wp_json_get(run, WPF_CARBON);
    json_t *work = wp_json_get(run, WPF_WORK), *a, *ch;
    char cmd[512], e[32], f[32], m[32], d[32], code[1200], host[800], id[300], start[200];
    char region[600];
    size_t i;

    wp_run_command_text(run, cmd, sizeof cmd);
    wp_md_code(cmd, false, code, sizeof code);
    wp_md_text(wp_json_str(run, WPF_HOST), host, sizeof host);
    wp_md_code(wp_json_str(run, WPF_RUN_ID), false, id, sizeof id);
    wp_md_text(wp_json_str(run, WPF_START), start, sizeof start);
    wp_md_text(wp_json_str(carbon, WPF_REGION_NAME), region, sizeof region);
    wp_fmt_energy(wp_json_num(energy, WPF_TOTAL_J), e, sizeof e);
    wp_fmt_energy(wp_json_num(run, WPF_FACILITY_ENERGY_J), f, sizeof f);
    wp_fmt_mass(wp_json_num(carbon, WPF_EMISSIONS_G), m, sizeof m);
    wp_fmt_duration(wp_json_num(run, WPF_DURATION_S), d, sizeof d);
    wp_buf_printf(&b,
                  "## Energy and carbon\n\n%s ran for %s on %s (run %s, %s).\n\n"
                  "| quantity | value |\n|---|---|\n| energy (%s) | %s (%.6g J) |\n"
                  "| facility energy (PUE %.3g) | %s |\n| CO2e | %s (%.6g g) |\n"
                  "| grid intensity | %.4g gCO2e/kWh, %s |\n",
                  code, d, host, id, start, wp_json_str(run, WPF_METHOD), e,
                  wp_json_num(energy, WPF_TOTAL_J), wp_json_num(run, WPF_PUE), f, m,
                  wp_json_num(carbon, WPF_EMISSIONS_G),
                  wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH), region);
    wp_rep_footprint(&b, run, false);
    if (json_is_object(work) && wp_json_num(work, WPF_DONE) > 0) {
        char n[48], one[32], unit[200], one_md[200];
        wp_fmt_energy(wp_json_num(work, WPF_ENERGY_PER_UNIT_J), e, sizeof e);
        wp_fmt_count(wp_json_num(work, WPF_DONE), n, sizeof n);
        wp_unit_singular(wp_json_str(work, WPF_UNIT), one, sizeof one);
        wp_md_text(wp_json_str(work, WPF_UNIT), unit, sizeof unit);
        wp_md_text(one, one_md, sizeof one_md);
        wp_buf_printf(&b, "| work | %s %s |\n| energy per %s | %s |\n", n, unit, one_md, e);
        wp_rep_other_counters(&b, work, false);
    }
    wp_buf_printf(&b, "\n### Channels\n\n| component | device | sensor | energy (J) | method |\n"
                      "|---|---|---|---|---|\n");
    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        char comp[100], dev[300], sensor[100], method[100];
        wp_md_text(wp_json_str(ch, WPF_COMPONENT), comp, sizeof comp);
        wp_md_text(wp_json_str(ch, WPF_DEVICE), dev, sizeof dev);
        wp_md_text(wp_json_str(ch, WPF_SENSOR), sensor, sizeof sensor);
        wp_md_text(wp_json_str(ch, WPF_METHOD), method, sizeof method);
        wp_buf_printf(&b, "| %s | %s | %s | %.6g | %s", comp, dev, sensor,
                      wp_json_num(ch, WPF_ENERGY_J), method);
        if (json_array_size(wp_json_get(ch, WPF_ENERGY_RANGE_J)) == 2)
            wp_buf_printf(&b, " (likely %.3g to %.3g J)",
                          json_real_value(json_array_get(wp_json_get(ch, WPF_ENERGY_RANGE_J), 0)),
                          json_real_value(json_array_get(wp_json_get(ch, WPF_ENERGY_RANGE_J), 1)));
        wp_buf_printf(&b, "%s |\n", wp_json_true(ch, WPF_COUNTED) ? "" : ", not added");
    }
    wp_buf_printf(&b, "\n### Assumptions\n\n");
    json_array_foreach(wp_json_get(run, WPF_ASSUMPTIONS), i, a) list_item(&b, json_string_value(a));
    wp_buf_printf(&b,
                  "\nMeasured with wattprint %s: hardware counters (RAPL, NVML, ROCm SMI) "
                  "where readable, published models (labelled estimated) elsewhere; "
                  "CO2e = energy x PUE x grid intensity (Strubell et al. 2019; Patterson "
                  "et al. 2021).\n",
                  WP_VERSION);
    return wp_buf_take(&b, NULL);
}

/* What the runs differ in (wp_rep_differences), made safe for Markdown text;
 * false when they agree. */
static bool md_differences(const struct wp_rep_totals *t, char *out, size_t cap)
{
    char diff[512];

    wp_rep_differences(t, diff, sizeof diff);
    wp_md_text(diff, out, cap);
    return *diff != '\0';
}

char *wp_report_group_markdown(json_t *runs, const struct wp_rep_totals *tp, const char *title)
{
    struct wp_buf b = {0};
    const struct wp_rep_totals t = *tp;
    char d[32], e[32], f[32], m[32], name[1200], range[72], diff[1200];
    json_t *r, *a;
    size_t i;

    wp_md_text(title, name, sizeof name);
    wp_fmt_duration(t.duration, d, sizeof d);
    wp_fmt_energy(t.energy, e, sizeof e);
    wp_fmt_energy(t.facility, f, sizeof f);
    wp_fmt_mass(t.emissions, m, sizeof m);
    wp_buf_printf(&b,
                  "## Energy and carbon of %s\n\n%d runs, %s of running, %.4g device-days.\n\n"
                  "| quantity | value |\n|---|---|\n| energy | %s |\n| facility energy | %s |\n"
                  "| CO2e | %s (%.6g g) |\n",
                  name, t.runs, d, t.device_hours / 24, e, f, m, t.emissions);
    if (wp_rep_range(&t, range, sizeof range))
        wp_buf_printf(&b, "| likely energy range (%d estimated run%s) | %s |\n", t.estimated_runs,
                      t.estimated_runs == 1 ? "" : "s", range);
    if (t.embodied_runs) {
        wp_fmt_mass(t.embodied, m, sizeof m);
        wp_buf_printf(&b, "| embodied CO2e (manufacture; %d of %d runs, estimated) | %s |\n",
                      t.embodied_runs, t.runs, m);
    }
    if (t.water_runs) {
        wp_fmt_volume(t.water_l, m, sizeof m);
        wp_buf_printf(&b, "| water on site (%d of %d runs) | %s |\n", t.water_runs, t.runs, m);
    }
    if (t.offsite_runs) {
        wp_fmt_volume(t.water_offsite_l, m, sizeof m);
        wp_buf_printf(&b, "| water at the power plants (%d of %d runs, estimated) | %s |\n",
                      t.offsite_runs, t.runs, m);
    }
    if (md_differences(&t, diff, sizeof diff))
        wp_buf_printf(&b,
                      "\nThese runs differ in %s: each run's figures use its own; the "
                      "assumptions below are the most recent run's.\n",
                      diff);
    wp_buf_printf(&b, "\n| run | start | status | energy (J) | method | CO2e (g) |\n"
                      "|---|---|---|---|---|---|\n");
    json_array_foreach(runs, i, r)
    {
        if (i == 500)
            break;
        char id[19], code[100], start[200], status[100];
        snprintf(id, sizeof id, "%s", wp_json_str(r, WPF_RUN_ID));
        wp_md_code(id, true, code, sizeof code);
        wp_md_text(wp_json_str(r, WPF_START), start, sizeof start);
        wp_md_text(wp_json_str(r, WPF_STATUS), status, sizeof status);
        wp_buf_printf(&b, "| %s | %s | %s | %.6g | %s | %.6g |\n", code, start, status,
                      wp_json_num(wp_json_get(r, WPF_ENERGY), WPF_TOTAL_J),
                      strcmp(wp_json_str(r, WPF_METHOD), "measured") == 0 ? "measured"
                                                                          : "estimated",
                      wp_json_num(wp_json_get(r, WPF_CARBON), WPF_EMISSIONS_G));
    }
    if (json_array_size(runs) > 0) {
        wp_buf_printf(&b, "\n### Assumptions (most recent run)\n\n");
        json_array_foreach(wp_json_get(json_array_get(runs, 0), WPF_ASSUMPTIONS), i, a)
            list_item(&b, json_string_value(a));
    }
    return wp_buf_take(&b, NULL);
}

/* "8 x NVIDIA H100 80GB HBM3", or the CPU the run measured. */
static void hardware_used(json_t *run, char *out, size_t cap)
{
    json_t *ch;
    size_t i;
    int gpus = 0, pkgs = 0;
    const char *gpu_name = "", *cpu_detail = "";

    json_array_foreach(wp_json_get(run, WPF_CHANNELS), i, ch)
    {
        if (!wp_json_true(ch, WPF_COUNTED))
            continue; /* a share's whole, or a domain inside another: not more hardware */
        if (strcmp(wp_json_str(ch, WPF_COMPONENT), "gpu") == 0) {
            gpus++;
            gpu_name = wp_json_str(ch, WPF_NAME);
        } else if (strcmp(wp_json_str(ch, WPF_COMPONENT), "cpu") == 0) {
            pkgs++;
            cpu_detail = wp_json_str(ch, WPF_DETAIL);
        }
    }
    if (gpus)
        snprintf(out, cap, "%d x %s", gpus, gpu_name);
    else if (strncmp(cpu_detail, "powercap", 8) == 0 || strncmp(cpu_detail, "perf", 4) == 0)
        snprintf(out, cap, "%d CPU package%s (RAPL)", pkgs, pkgs == 1 ? "" : "s");
    else
        snprintf(out, cap, "CPU (%.150s)", cpu_detail);
}

char *wp_report_model_card(json_t *runs, const struct wp_rep_totals *tp, const char *training_type)
{
    struct wp_buf b = {0};
    const struct wp_rep_totals t = *tp;
    json_t *first = json_array_get(runs, 0), *carbon = wp_json_get(first, WPF_CARBON);
    char hw[256], e[32], m[32], d[32], range[72], y_type[400], y_where[400], y_hw[600],
        t_where[600], t_hw[800], t_source[1200], diff[1200];
    bool measured = t.estimated_runs == 0;

    hardware_used(first, hw, sizeof hw);
    wp_fmt_energy(t.energy, e, sizeof e);
    wp_fmt_mass(t.emissions, m, sizeof m);
    wp_fmt_duration(t.duration, d, sizeof d);
    wp_yaml_quoted(training_type, y_type, sizeof y_type);
    wp_yaml_quoted(wp_json_str(carbon, WPF_REGION_NAME), y_where, sizeof y_where);
    wp_yaml_quoted(hw, y_hw, sizeof y_hw);
    wp_md_text(wp_json_str(carbon, WPF_REGION_NAME), t_where, sizeof t_where);
    wp_md_text(hw, t_hw, sizeof t_hw);
    wp_md_text(wp_json_str(carbon, WPF_INTENSITY_SOURCE), t_source, sizeof t_source);
    wp_buf_printf(&b,
                  "---\nco2_eq_emissions:\n  emissions: %.6g\n  source: \"wattprint %s, %s "
                  "energy x PUE %.3g x %.4g gCO2e/kWh\"\n  training_type: \"%s\"\n"
                  "  geographical_location: \"%s\"\n  hardware_used: \"%s\"\n---\n\n",
                  t.emissions, WP_VERSION, measured ? "measured" : "partly estimated",
                  wp_json_num(first, WPF_PUE), wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH), y_type,
                  y_where, y_hw);
    wp_buf_printf(&b,
                  "## Environmental impact\n\nTraining used %s of IT energy over %d run%s "
                  "(%s, %.4g device-hours) on %s, in %s. With a PUE of %.3g and a grid "
                  "intensity of %.4g gCO2e/kWh (%s), this emitted %s CO2e. Energy was %s by "
                  "wattprint %s, which reads RAPL, NVML and ROCm SMI counters where they "
                  "can be read and labels estimates; every assumption is listed in the "
                  "report.\n",
                  e, t.runs, t.runs == 1 ? "" : "s", d, t.device_hours, t_hw, t_where,
                  wp_json_num(first, WPF_PUE), wp_json_num(carbon, WPF_INTENSITY_G_PER_KWH),
                  t_source, m, measured ? "measured" : "partly estimated", WP_VERSION);
    if (md_differences(&t, diff, sizeof diff))
        wp_buf_printf(&b,
                      "\nThe runs differ in %s; each run's CO2e uses its own, and the PUE "
                      "and intensity above are the most recent run's.\n",
                      diff);
    if (wp_rep_range(&t, range, sizeof range))
        wp_buf_printf(&b, "\nThe estimated part puts the IT energy likely at %s.\n", range);
    if (t.embodied_runs) {
        wp_fmt_mass(t.embodied, m, sizeof m);
        wp_buf_printf(&b,
                      "\nBeside it, manufacturing the hardware is estimated at %s CO2e for "
                      "these device-hours (%d of %d runs; the accelerators' and their servers' "
                      "manufacture amortised over their service life, from Luccioni et al. "
                      "2023's figures; not in the emissions above).\n",
                      m, t.embodied_runs, t.runs);
    }
    if (t.water_runs) {
        wp_fmt_volume(t.water_l, m, sizeof m);
        wp_buf_printf(&b, "\nOn-site water: %s (%d of %d runs, from each run's WUE).\n", m,
                      t.water_runs, t.runs);
    }
    if (t.offsite_runs) {
        wp_fmt_volume(t.water_offsite_l, m, sizeof m);
        wp_buf_printf(&b,
                      "\nWater consumed at the power plants that supplied the electricity: "
                      "%s (%d of %d runs; estimated from each country's generation mix, "
                      "WRI 2020 method).\n",
                      m, t.offsite_runs, t.runs);
    }
    return wp_buf_take(&b, NULL);
}

char *wp_report_sci(json_t *run)
{
    struct wp_buf b = {0};
    json_t *sci = wp_json_get(run, WPF_SCI);
    char one[32];

    wp_unit_singular(wp_json_str(sci, WPF_FUNCTIONAL_UNIT), one, sizeof one);
    wp_buf_printf(
        &b,
        "SCI = (E x I + M) / R = %.6g gCO2e per %s\n"
        "  E = %.6g kWh (facility energy), I = %.4g gCO2e/kWh, M = %.6g g (embodied: "
        "%s), R = %.6g %s\n  boundary: %s\n  (Green Software Foundation SCI; ISO/IEC "
        "21031:2024)\n",
        wp_json_num(sci, WPF_SCORE_G_PER_UNIT), one, wp_json_num(sci, WPF_ENERGY_J) / 3.6e6,
        wp_json_num(sci, WPF_INTENSITY_G_PER_KWH), wp_json_num(sci, WPF_EMBODIED_G),
        *wp_json_str(sci, WPF_EMBODIED_FROM) ? wp_json_str(sci, WPF_EMBODIED_FROM) : "as given",
        wp_json_num(sci, WPF_UNITS), wp_json_str(sci, WPF_FUNCTIONAL_UNIT),
        wp_json_str(sci, WPF_BOUNDARY));
    return wp_buf_take(&b, NULL);
}
