/* Reports people read: self-contained HTML (inline CSS and SVG), Markdown,
 * a Hugging Face model card block, and the SCI score, from runs as the
 * ledger returns them (the run JSON, with samples). */
#ifndef WP_REPORT_H
#define WP_REPORT_H

#include <jansson.h>

/* Each returns a malloc'd string the caller frees, or NULL (out of memory). */

/* One run: power over time stacked by component, energy breakdown, CO2e and
 * equivalents, energy per unit of work, the region's energy mix, every
 * assumption, and the method. */
char *wp_report_run_html(json_t *run);
char *wp_report_run_markdown(json_t *run);

/* Many runs (an experiment or a project): totals, a chart and a table.
 * title names them ("experiment sweep-3"). */
char *wp_report_group_html(json_t *runs, const char *title);
char *wp_report_group_markdown(json_t *runs, const char *title);

/* The Hugging Face model card's co2_eq_emissions YAML block and its
 * "Environmental impact" section, for a run (or the sum of runs). */
char *wp_report_model_card(json_t *runs, const char *training_type);

/* The SCI score with its functional unit and boundary. */
char *wp_report_sci(json_t *run);

#endif
