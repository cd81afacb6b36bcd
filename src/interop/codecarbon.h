/* CodeCarbon's emissions.csv: wattprint's runs written as CodeCarbon rows,
 * and CodeCarbon rows read back as runs. The columns, their order and units
 * are CodeCarbon 3.x's EmissionsData (kWh, kg, kg/s, W, GiB, s, L); its
 * component energies include PUE and add up to energy_consumed. */
#ifndef WP_CODECARBON_H
#define WP_CODECARBON_H

#include "../data/csv.h"
#include "../util/buf.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define WP_CC_COLUMNS 38
extern const char *const wp_cc_columns[WP_CC_COLUMNS];

/* CodeCarbon's experiment_id when none is given. */
#define WP_CC_DEFAULT_EXPERIMENT "5b0fa12a-3dd7-45bb-9766-cc326314d9f1"

/* Appends CodeCarbon's header, in its order, to b. */
void wp_cc_header(struct wp_buf *b);

/* What a row is written from: a run's members (absent ones 0, "" or NULL),
 * from its document (wp_cc_row) or as a ledger's columns hold them. */
struct wp_cc_run {
    const char *run_id, *project, *experiment, *start, *end; /* NULL: none */
    const char *region, *region_name, *os, *cpu_model, *gpu_model;
    double duration_s, pue, emissions_g, cpu_j, gpu_j, dram_j, water_l, wue_l_per_kwh;
    double ram_total_gib, cpu_count;
    int gpus;     /* counted */
    bool assumed; /* the grid's intensity assumed, not the run's region's */
    bool shared;  /* a channel is the process's share (--attribute process) */
    json_t *kept; /* an imported row's own cells (an object); NULL: none */
};

/* Appends one run (the ledger's run object) as a row to b, its fields in the
 * order of cols[0..n) (a file's own header, or wp_cc_columns). */
void wp_cc_row(struct wp_buf *b, json_t *run, const char *const *cols, int n);
/* The same from its members. */
void wp_cc_row_of(struct wp_buf *b, const struct wp_cc_run *run, const char *const *cols, int n);

/* Whether the header hdr holds exactly CodeCarbon 3.x's columns, in any
 * order (CodeCarbon's own test before it appends to a file). */
bool wp_cc_header_matches(const struct wp_csv *hdr);

/* The stable UUID CodeCarbon's experiment_id gets for an experiment name:
 * the name itself when it is a UUID, the default when it is empty. */
void wp_cc_experiment_id(const char *name, char out[37]);

/* A run object (as the ledger stores it) from one row under header hdr, for
 * `wattprint import --format codecarbon`. line is the row's line, for the
 * message. Returns NULL with the reason in err. */
json_t *wp_cc_run_from_row(const struct wp_csv *hdr, const struct wp_csv *row, const char *line,
                           size_t line_len, char *err, size_t cap);

#endif
