/* Reports people read: self-contained HTML (inline CSS and SVG), Markdown,
 * a Hugging Face model card block, and the SCI score, from runs as the
 * ledger returns them (the run JSON, with samples). */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include <jansson.h>
#include <stdbool.h>

/* Each returns a malloc'd string the caller frees, or NULL (out of memory). */

/* One run: power over time stacked by component, energy breakdown, CO2e and
 * equivalents, energy per unit of work, the region's energy mix, every
 * assumption, and the method. */
char *wp_report_run_html(json_t *run);
char *wp_report_run_markdown(json_t *run);

/* Totals over runs, added one run at a time: a group of any size is walked
 * once and never held (wp_rep_totals_add as the ledger yields each run). */
struct wp_rep_totals {
    int runs;
    double duration, device_hours, energy, facility, emissions;
    double embodied, water_l, water_offsite_l;   /* summed over the runs that carry them */
    int embodied_runs, water_runs, offsite_runs; /* how many do */
    double energy_lo, energy_hi; /* the runs' ranges summed (their energy where none) */
    int estimated_runs;          /* runs whose energy is partly estimated */
    /* the distinct PUEs, regions and methods met, in order ("1, 1.56") */
    char pue[160], region[160], method[64];
    int n_pue, n_region, n_method;
};
void wp_rep_totals_add(struct wp_rep_totals *t, json_t *run);

/* One run's part of the totals, however it was read (a whole run above, or
 * a ledger's columns: cmd_report.c). */
struct wp_rep_run {
    double duration, device_hours, energy, facility, emissions, pue;
    bool has_range, has_embodied, has_water, has_offsite;
    double lo, hi; /* the energy's range, where it has one */
    double embodied, water_l, water_offsite_l;
    const char *method, *region;
};
void wp_rep_totals_add_run(struct wp_rep_totals *t, const struct wp_rep_run *r);

/* Many runs (an experiment or a project): totals t over all of them, a chart
 * and a table of newest (the most recent runs, newest first; the first 500
 * are listed, the first 200 charted). title names them ("experiment sweep-3"). */
char *wp_report_group_html(json_t *newest, const struct wp_rep_totals *t, const char *title);
char *wp_report_group_markdown(json_t *newest, const struct wp_rep_totals *t, const char *title);

/* The Hugging Face model card's co2_eq_emissions YAML block and its
 * "Environmental impact" section, for a run or the sum of runs: totals t, and
 * the newest run's place, hardware and factors. */
char *wp_report_model_card(json_t *newest, const struct wp_rep_totals *t,
                           const char *training_type);

/* The SCI score with its functional unit and boundary. */
char *wp_report_sci(json_t *run);

#endif
