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
    json_t *energy = json_object_get(run, "energy"), *carbon = json_object_get(run, "carbon");
    json_t *work = json_object_get(run, "work"), *a, *ch;
    char cmd[512], e[32], f[32], m[32], d[32], code[1200], host[800], id[300], start[200];
    char region[600];
    size_t i;

    wp_run_command_text(run, cmd, sizeof cmd);
    wp_md_code(cmd, false, code, sizeof code);
    wp_md_text(wp_json_str(run, "host"), host, sizeof host);
    wp_md_code(wp_json_str(run, "run_id"), false, id, sizeof id);
    wp_md_text(wp_json_str(run, "start"), start, sizeof start);
    wp_md_text(wp_json_str(carbon, "region_name"), region, sizeof region);
    wp_fmt_energy(wp_json_num(energy, "total_j"), e, sizeof e);
    wp_fmt_energy(wp_json_num(run, "facility_energy_j"), f, sizeof f);
    wp_fmt_mass(wp_json_num(carbon, "emissions_g"), m, sizeof m);
    wp_fmt_duration(wp_json_num(run, "duration_s"), d, sizeof d);
    wp_buf_printf(&b,
                  "## Energy and carbon\n\n%s ran for %s on %s (run %s, %s).\n\n"
                  "| quantity | value |\n|---|---|\n| energy (%s) | %s (%.6g J) |\n"
                  "| facility energy (PUE %.3g) | %s |\n| CO2e | %s (%.6g g) |\n"
                  "| grid intensity | %.4g gCO2e/kWh, %s |\n",
                  code, d, host, id, start, wp_json_str(run, "method"), e,
                  wp_json_num(energy, "total_j"), wp_json_num(run, "pue"), f, m,
                  wp_json_num(carbon, "emissions_g"), wp_json_num(carbon, "intensity_g_per_kwh"),
                  region);
    if (json_is_object(work) && wp_json_num(work, "done") > 0) {
        char n[48], one[32], unit[200], one_md[200];
        wp_fmt_energy(wp_json_num(work, "energy_per_unit_j"), e, sizeof e);
        wp_fmt_count(wp_json_num(work, "done"), n, sizeof n);
        wp_unit_singular(wp_json_str(work, "unit"), one, sizeof one);
        wp_md_text(wp_json_str(work, "unit"), unit, sizeof unit);
        wp_md_text(one, one_md, sizeof one_md);
        wp_buf_printf(&b, "| work | %s %s |\n| energy per %s | %s |\n", n, unit, one_md, e);
        wp_rep_other_counters(&b, work, false);
    }
    wp_buf_printf(&b, "\n### Channels\n\n| component | device | sensor | energy (J) | method |\n"
                      "|---|---|---|---|---|\n");
    json_array_foreach(json_object_get(run, "channels"), i, ch)
    {
        char comp[100], dev[300], sensor[100], method[100];
        wp_md_text(wp_json_str(ch, "component"), comp, sizeof comp);
        wp_md_text(wp_json_str(ch, "device"), dev, sizeof dev);
        wp_md_text(wp_json_str(ch, "sensor"), sensor, sizeof sensor);
        wp_md_text(wp_json_str(ch, "method"), method, sizeof method);
        wp_buf_printf(&b, "| %s | %s | %s | %.6g | %s", comp, dev, sensor,
                      wp_json_num(ch, "energy_j"), method);
        if (json_array_size(json_object_get(ch, "energy_range_j")) == 2)
            wp_buf_printf(
                &b, " (likely %.3g to %.3g J)",
                json_real_value(json_array_get(json_object_get(ch, "energy_range_j"), 0)),
                json_real_value(json_array_get(json_object_get(ch, "energy_range_j"), 1)));
        wp_buf_printf(&b, "%s |\n",
                      json_is_true(json_object_get(ch, "counted")) ? "" : ", not added");
    }
    wp_buf_printf(&b, "\n### Assumptions\n\n");
    json_array_foreach(json_object_get(run, "assumptions"), i, a)
        list_item(&b, json_string_value(a));
    wp_buf_printf(&b,
                  "\nMeasured with wattprint %s: hardware counters (RAPL, NVML, ROCm SMI) "
                  "where readable, published models (labelled estimated) elsewhere; "
                  "CO2e = energy x PUE x grid intensity (Strubell et al. 2019; Patterson "
                  "et al. 2021).\n",
                  WP_VERSION);
    return wp_buf_take(&b, NULL);
}

char *wp_report_group_markdown(json_t *runs, const char *title)
{
    struct wp_buf b = {0};
    struct wp_rep_totals t;
    char d[32], e[32], f[32], m[32], name[1200];
    json_t *r, *a;
    size_t i;

    wp_rep_totals(runs, &t);
    wp_md_text(title, name, sizeof name);
    wp_fmt_duration(t.duration, d, sizeof d);
    wp_fmt_energy(t.energy, e, sizeof e);
    wp_fmt_energy(t.facility, f, sizeof f);
    wp_fmt_mass(t.emissions, m, sizeof m);
    wp_buf_printf(&b,
                  "## Energy and carbon of %s\n\n%d runs, %s of running, %.4g device-days.\n\n"
                  "| quantity | value |\n|---|---|\n| energy | %s |\n| facility energy | %s |\n"
                  "| CO2e | %s (%.6g g) |\n\n| run | start | status | energy (J) | CO2e (g) |\n"
                  "|---|---|---|---|---|\n",
                  name, t.runs, d, t.device_hours / 24, e, f, m, t.emissions);
    json_array_foreach(runs, i, r)
    {
        if (i == 500)
            break;
        char id[19], code[100], start[200], status[100];
        snprintf(id, sizeof id, "%s", wp_json_str(r, "run_id"));
        wp_md_code(id, true, code, sizeof code);
        wp_md_text(wp_json_str(r, "start"), start, sizeof start);
        wp_md_text(wp_json_str(r, "status"), status, sizeof status);
        wp_buf_printf(&b, "| %s | %s | %s | %.6g | %.6g |\n", code, start, status,
                      wp_json_num(json_object_get(r, "energy"), "total_j"),
                      wp_json_num(json_object_get(r, "carbon"), "emissions_g"));
    }
    if (json_array_size(runs) > 0) {
        wp_buf_printf(&b, "\n### Assumptions (most recent run)\n\n");
        json_array_foreach(json_object_get(json_array_get(runs, 0), "assumptions"), i, a)
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

    json_array_foreach(json_object_get(run, "channels"), i, ch)
    {
        if (strcmp(wp_json_str(ch, "component"), "gpu") == 0) {
            gpus++;
            gpu_name = wp_json_str(ch, "name");
        } else if (strcmp(wp_json_str(ch, "component"), "cpu") == 0) {
            pkgs++;
            cpu_detail = wp_json_str(ch, "detail");
        }
    }
    if (gpus)
        snprintf(out, cap, "%d x %s", gpus, gpu_name);
    else if (strncmp(cpu_detail, "powercap", 8) == 0 || strncmp(cpu_detail, "perf", 4) == 0)
        snprintf(out, cap, "%d CPU package%s (RAPL)", pkgs, pkgs == 1 ? "" : "s");
    else
        snprintf(out, cap, "CPU (%.150s)", cpu_detail);
}

char *wp_report_model_card(json_t *runs, const char *training_type)
{
    struct wp_buf b = {0};
    struct wp_rep_totals t;
    json_t *first = json_array_get(runs, 0), *carbon = json_object_get(first, "carbon");
    char hw[256], e[32], m[32], d[32], y_type[400], y_where[400], y_hw[600], t_where[600],
        t_hw[800], t_source[1200];
    bool measured = true;
    json_t *r;
    size_t i;

    wp_rep_totals(runs, &t);
    json_array_foreach(runs, i, r) measured &= strcmp(wp_json_str(r, "method"), "measured") == 0;
    hardware_used(first, hw, sizeof hw);
    wp_fmt_energy(t.energy, e, sizeof e);
    wp_fmt_mass(t.emissions, m, sizeof m);
    wp_fmt_duration(t.duration, d, sizeof d);
    wp_yaml_quoted(training_type, y_type, sizeof y_type);
    wp_yaml_quoted(wp_json_str(carbon, "region_name"), y_where, sizeof y_where);
    wp_yaml_quoted(hw, y_hw, sizeof y_hw);
    wp_md_text(wp_json_str(carbon, "region_name"), t_where, sizeof t_where);
    wp_md_text(hw, t_hw, sizeof t_hw);
    wp_md_text(wp_json_str(carbon, "intensity_source"), t_source, sizeof t_source);
    wp_buf_printf(&b,
                  "---\nco2_eq_emissions:\n  emissions: %.6g\n  source: \"wattprint %s, %s "
                  "energy x PUE %.3g x %.4g gCO2e/kWh\"\n  training_type: \"%s\"\n"
                  "  geographical_location: \"%s\"\n  hardware_used: \"%s\"\n---\n\n",
                  t.emissions, WP_VERSION, measured ? "measured" : "partly estimated",
                  wp_json_num(first, "pue"), wp_json_num(carbon, "intensity_g_per_kwh"), y_type,
                  y_where, y_hw);
    wp_buf_printf(&b,
                  "## Environmental impact\n\nTraining used %s of IT energy over %d run%s "
                  "(%s, %.4g device-hours) on %s, in %s. With a PUE of %.3g and a grid "
                  "intensity of %.4g gCO2e/kWh (%s), this emitted %s CO2e. Energy was %s by "
                  "wattprint %s, which reads RAPL, NVML and ROCm SMI counters where they "
                  "can be read and labels estimates; every assumption is listed in the "
                  "report.\n",
                  e, t.runs, t.runs == 1 ? "" : "s", d, t.device_hours, t_hw, t_where,
                  wp_json_num(first, "pue"), wp_json_num(carbon, "intensity_g_per_kwh"), t_source,
                  m, measured ? "measured" : "partly estimated", WP_VERSION);
    return wp_buf_take(&b, NULL);
}

char *wp_report_sci(json_t *run)
{
    struct wp_buf b = {0};
    json_t *sci = json_object_get(run, "sci");
    char one[32];

    wp_unit_singular(wp_json_str(sci, "functional_unit"), one, sizeof one);
    wp_buf_printf(&b,
                  "SCI = (E x I + M) / R = %.6g gCO2e per %s\n"
                  "  E = %.6g kWh (facility energy), I = %.4g gCO2e/kWh, M = %.6g g (embodied), "
                  "R = %.6g %s\n  boundary: %s\n  (Green Software Foundation SCI; ISO/IEC "
                  "21031:2024)\n",
                  wp_json_num(sci, "score_g_per_unit"), one, wp_json_num(sci, "energy_j") / 3.6e6,
                  wp_json_num(sci, "intensity_g_per_kwh"), wp_json_num(sci, "embodied_g"),
                  wp_json_num(sci, "units"), wp_json_str(sci, "functional_unit"),
                  wp_json_str(sci, "boundary"));
    return wp_buf_take(&b, NULL);
}
