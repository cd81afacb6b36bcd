/* wattprint export --format csv|json|codecarbon: the ledger for other tools.
 * codecarbon writes CodeCarbon's emissions.csv (src/interop/codecarbon.c), so
 * dashboards built for it can read wattprint's runs, and appends to an
 * existing one as CodeCarbon itself would. */
#define _GNU_SOURCE
#include "cli.h"
#include "ledger_opts.h"

#include "../interop/codecarbon.h"
#include "../run/run.h"
#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint export --format csv|json|codecarbon [--output PATH]\n"
    "                        [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                        [--since DATE] [--limit N] [--ledger PATH]\n"
    "\nWrites the runs (oldest first) to PATH, or to stdout. With --format codecarbon\n"
    "and an existing CodeCarbon emissions.csv as PATH, appends the runs it does not\n"
    "hold yet, in its column order.\n";

/* One CSV field, quoted when it must be (RFC 4180); a cell a spreadsheet
 * would evaluate is guarded with a ' (wp_csv_formula_risk). */
static void field(FILE *f, const char *v, bool last)
{
    bool guard = wp_csv_formula_risk(v);

    if (guard || strpbrk(v, ",\"\n\r")) {
        fputs(guard ? "\"'" : "\"", f);
        for (; *v; v++) {
            if (*v == '"')
                fputc('"', f);
            fputc(*v, f);
        }
        fputc('"', f);
    } else {
        fputs(v, f);
    }
    fputc(last ? '\n' : ',', f);
}

static void numf(FILE *f, double v, bool last)
{
    char b[64];
    snprintf(b, sizeof b, "%.10g", v);
    field(f, b, last);
}

static void write_csv(FILE *f, json_t *runs)
{
    static const char *const cols[] = {"run_id",
                                       "start",
                                       "end",
                                       "status",
                                       "exit_code",
                                       "duration_s",
                                       "host",
                                       "user",
                                       "project",
                                       "experiment",
                                       "job",
                                       "energy_j",
                                       "cpu_j",
                                       "dram_j",
                                       "gpu_j",
                                       "psys_j",
                                       "method",
                                       "pue",
                                       "facility_energy_j",
                                       "region",
                                       "intensity_g_per_kwh",
                                       "emissions_g",
                                       "command"};
    size_t i, nc = sizeof cols / sizeof *cols;
    json_t *run;

    for (size_t c = 0; c < nc; c++)
        field(f, cols[c], c == nc - 1);
    json_array_foreach(runs, i, run)
    {
        json_t *e = wp_json_get(run, WPF_ENERGY), *c = wp_json_get(run, WPF_CARBON);
        char cmd[4096];
        wp_run_command_text(run, cmd, sizeof cmd);
        field(f, wp_json_str(run, WPF_RUN_ID), false);
        field(f, wp_json_str(run, WPF_START), false);
        field(f, wp_json_str(run, WPF_END), false);
        field(f, wp_json_str(run, WPF_STATUS), false);
        numf(f, wp_json_num(run, WPF_EXIT_CODE), false);
        numf(f, wp_json_num(run, WPF_DURATION_S), false);
        field(f, wp_json_str(run, WPF_HOST), false);
        field(f, wp_json_str(run, WPF_USER), false);
        field(f, wp_json_str(run, WPF_PROJECT), false);
        field(f, wp_json_str(run, WPF_EXPERIMENT), false);
        field(f, wp_json_str(run, WPF_JOB), false);
        numf(f, wp_json_num(e, WPF_TOTAL_J), false);
        numf(f, wp_json_num(e, WPF_CPU_J), false);
        numf(f, wp_json_num(e, WPF_DRAM_J), false);
        numf(f, wp_json_num(e, WPF_GPU_J), false);
        if (json_is_number(wp_json_get(e, WPF_PSYS_J)))
            numf(f, wp_json_num(e, WPF_PSYS_J), false);
        else
            field(f, "", false);
        field(f, wp_json_str(run, WPF_METHOD), false);
        numf(f, wp_json_num(run, WPF_PUE), false);
        numf(f, wp_json_num(run, WPF_FACILITY_ENERGY_J), false);
        field(f, wp_json_str(c, WPF_REGION), false);
        numf(f, wp_json_num(c, WPF_INTENSITY_G_PER_KWH), false);
        numf(f, wp_json_num(c, WPF_EMISSIONS_G), false);
        field(f, cmd, true);
    }
}

/* The file's text, or NULL when it does not exist or is empty (then a new
 * file with the header is written). Returns 0, or -1 with err. */
static int read_existing(const char *path, char **text, size_t *len, char *err, size_t cap)
{
    FILE *f = fopen(path, "r");

    *text = NULL;
    *len = 0;
    if (!f)
        return errno == ENOENT ? 0 : (snprintf(err, cap, "%s: %s", path, strerror(errno)), -1);
    if (getdelim(text, len, '\0', f) < 0) {
        free(*text);
        *text = NULL;
        *len = 0;
    } else {
        *len = strlen(*text);
    }
    fclose(f);
    return 0;
}

/* Appends to an existing CodeCarbon file the runs it does not hold yet, in
 * its own column order, as CodeCarbon's own appends are positional. */
static int append_codecarbon(const char *path, const char *text, size_t len, json_t *runs)
{
    static struct wp_csv hdr, row;
    struct wp_buf b = {0};
    const char *cols[WP_CSV_MAX_FIELDS];
    size_t i, skipped = 0;
    json_t *run;
    FILE *f;
    int n;

    wp_csv_init(&hdr, text, len);
    if (wp_csv_next(&hdr) != 1 || !wp_cc_header_matches(&hdr)) {
        fprintf(stderr,
                "wattprint export: %s is not a CodeCarbon 3.x emissions.csv (its header is not "
                "CodeCarbon's %d columns); it was left as it was: give a new file\n",
                path, WP_CC_COLUMNS);
        return 2;
    }
    for (n = 0; n < hdr.nfields; n++)
        cols[n] = hdr.field[n];
    if (len && text[len - 1] != '\n')
        wp_buf_printf(&b, "\n");
    json_array_foreach(runs, i, run)
    {
        bool seen = false;
        wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
        while (!seen && wp_csv_next(&row) >= 0 && row.nfields > 0)
            seen = strcmp(wp_csv_get(&hdr, &row, "run_id"), wp_json_str(run, WPF_RUN_ID)) == 0;
        if (seen)
            skipped++;
        else
            wp_cc_row(&b, run, cols, n);
    }
    f = fopen(path, "a");
    if (!f || (b.len && fwrite(b.p, 1, b.len, f) != b.len) || fclose(f) != 0) {
        fprintf(stderr, "wattprint export: cannot append to %s: %s\n", path, strerror(errno));
        free(b.p);
        return 1;
    }
    fprintf(stderr, "wattprint export: appended %zu run%s to %s (%zu already there)\n",
            json_array_size(runs) - skipped, json_array_size(runs) - skipped == 1 ? "" : "s", path,
            skipped);
    free(b.p);
    return 0;
}

/* CodeCarbon's emissions.csv: to stdout, a new file, or appended to one. */
static int export_codecarbon(const char *path, json_t *runs)
{
    struct wp_buf b = {0};
    char err[1024], *text;
    size_t i, len;
    json_t *run;
    int rc = 0;

    if (path && read_existing(path, &text, &len, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: --output: %s\n", err);
        return 1;
    }
    if (path && text && len) {
        rc = append_codecarbon(path, text, len, runs);
        free(text);
        return rc;
    }
    free(path ? text : NULL);
    wp_cc_header(&b);
    json_array_foreach(runs, i, run) wp_cc_row(&b, run, wp_cc_columns, WP_CC_COLUMNS);
    if (!path)
        rc = fwrite(b.p, 1, b.len, stdout) == b.len ? 0 : 1;
    else if (wp_out_write(path, b.p, b.len, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: cannot write %s\n", err);
        rc = 1;
    }
    free(b.p);
    return rc;
}

int wp_cmd_export(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    json_t *runs, *rev;
    FILE *f = stdout;
    char *text = NULL;
    size_t len = 0;
    int first = wp_cli_ledger_parse("wattprint export", usage, "flx", argc, argv, &o), rc = 0;

    if (first < 0)
        return 2;
    if (first < argc || !o.format ||
        (strcmp(o.format, "csv") && strcmp(o.format, "json") && strcmp(o.format, "codecarbon"))) {
        fprintf(stderr, "wattprint export: --format must be csv, json or codecarbon\n");
        return 2;
    }
    if (o.output && wp_out_check(o.output, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: --output: %s\n", err);
        return 2;
    }
    if (!(l = wp_cli_ledger_open("wattprint export", &o, WP_LEDGER_READ)))
        return 1;
    runs = wp_ledger_list(l, &o.q, false, err, sizeof err);
    wp_ledger_close(l);
    if (!runs) {
        fprintf(stderr, "wattprint export: %s\n", err);
        return 1;
    }
    rev = json_array(); /* oldest first, as a log is read */
    for (size_t i = json_array_size(runs); i-- > 0;)
        wp_cli_push(rev, json_incref(json_array_get(runs, i)));
    json_decref(runs);
    if (strcmp(o.format, "codecarbon") == 0) {
        rc = export_codecarbon(o.output, rev);
        json_decref(rev);
        return rc;
    }
    /* the whole export in memory, then one write: a failure leaves no half file */
    if (o.output && !(f = open_memstream(&text, &len))) {
        fprintf(stderr, "wattprint export: out of memory\n");
        json_decref(rev);
        return 1;
    }
    if (strcmp(o.format, "json") == 0) {
        json_dumpf(rev, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', f);
    } else {
        write_csv(f, rev);
    }
    if (f != stdout && fclose(f) != 0) {
        fprintf(stderr, "wattprint export: out of memory\n");
        rc = 1;
    } else if (f != stdout && wp_out_write(o.output, text, len, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: cannot write %s\n", err);
        rc = 1;
    }
    if (f != stdout)
        free(text);
    json_decref(rev);
    return rc;
}
