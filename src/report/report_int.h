/* What the report's HTML (report.c) and text (report_text.c) share. */
#ifndef WP_REPORT_INT_H
#define WP_REPORT_INT_H

#include "../util/buf.h"
#include "report.h"

#include <jansson.h>
#include <stdbool.h>

/* The runs' likely energy range, "2.76 J to 8.28 J": false (out untouched)
 * when it is no range (no run estimated). */
bool wp_rep_range(const struct wp_rep_totals *t, char *out, size_t cap);

/* Where the runs differ in PUE, region or method: "PUE (1, 1.56), region
 * (FRA, world)"; "" when they agree. */
void wp_rep_differences(const struct wp_rep_totals *t, char *out, size_t cap);

/* The whole footprint beside the operational CO2e: the hardware's
 * manufacture (embodied_emissions_g), the water on site (water_l) and at the
 * power plants (water_offsite_l), each with its source, as Markdown rows or an HTML paragraph;
 * nothing for a run that carries neither. */
void wp_rep_footprint(struct wp_buf *b, json_t *run, bool html);

/* The totals of an array of runs. */
void wp_rep_totals(json_t *runs, struct wp_rep_totals *t);

/* The counters beside the first one read from a server's metrics page:
 * "N prompt_tokens, E per prompt_token", as HTML (a sentence) or Markdown rows. */
void wp_rep_other_counters(struct wp_buf *b, json_t *work, bool html);

/* Names made safe where they are shown (escape.c); each writes at most cap
 * bytes, cut where it must be:
 * - Markdown text: HTML's < > & as entities, Markdown's \ ` * _ [ ] | ~ ! #
 *   backslash-escaped, control characters as \xNN;
 * - a Markdown code span, backticks included, its fence longer than any run
 *   of backticks inside (CommonMark), | escaped in a table cell;
 * - the inside of a YAML double-quoted string (\" and \\; \xNN). */
void wp_md_text(const char *s, char *out, size_t cap);
void wp_md_code(const char *s, bool in_table, char *out, size_t cap);
void wp_yaml_quoted(const char *s, char *out, size_t cap);

#endif
