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
#include "../util/shortest.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: wattprint export --format csv|json|codecarbon [--output PATH]\n"
    "                        [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                        [--since DATE] [--limit N] [--ledger PATH]\n"
    "\nWrites the runs (oldest first) to PATH, or to stdout. With --format codecarbon\n"
    "and an existing CodeCarbon emissions.csv as PATH, appends the runs it does not\n"
    "hold yet, in its column order.\n";

/* One CSV field, quoted when it must be (RFC 4180); a cell a spreadsheet
 * would evaluate is guarded with a ' (wp_csv_formula_risk). The caller holds
 * f's lock (a row takes it once, not a field's every character). */
static void field(FILE *f, const char *v, bool last)
{
    bool guard = wp_csv_formula_risk(v);

    if (guard || strpbrk(v, ",\"\n\r")) {
        fputs_unlocked(guard ? "\"'" : "\"", f);
        for (; *v; v++) {
            if (*v == '"')
                fputc_unlocked('"', f);
            fputc_unlocked(*v, f);
        }
        fputc_unlocked('"', f);
    } else {
        fputs_unlocked(v, f);
    }
    fputc_unlocked(last ? '\n' : ',', f);
}

static void numf(FILE *f, double v, bool last)
{
    char b[64];

    /* a whole number under 10 digits prints as %.10g would, without its
     * floating-point formatting (exit codes, zeros, PUE 1, intensities) */
    if (v > -1e9 && v < 1e9 && v == (double)(long)v && !(v == 0 && signbit(v)))
        snprintf(b, sizeof b, "%ld", (long)v);
    else
        snprintf(b, sizeof b, "%.10g", v);
    field(f, b, last);
}

/* The CSV's columns: each its header, the run member it reads (the ledger
 * keeps each in a column: no document is read) and how it is written. One
 * table for the header, the members asked for and the row. */
enum col_kind { TEXT, NUM, NUM_OR_EMPTY, COMMAND };
static const struct {
    const char *name, *member;
    enum col_kind kind;
} csv_cols[] = {
    {"run_id", "run_id", TEXT},
    {"start", "start", TEXT},
    {"end", "end", TEXT},
    {"status", "status", TEXT},
    {"exit_code", "exit_code", NUM},
    {"duration_s", "duration_s", NUM},
    {"host", "host", TEXT},
    {"user", "user", TEXT},
    {"project", "project", TEXT},
    {"experiment", "experiment", TEXT},
    {"job", "job", TEXT},
    {"energy_j", "energy.total_j", NUM},
    {"cpu_j", "energy.cpu_j", NUM},
    {"dram_j", "energy.dram_j", NUM},
    {"gpu_j", "energy.gpu_j", NUM},
    {"psys_j", "energy.psys_j", NUM_OR_EMPTY},
    {"method", "method", TEXT},
    {"pue", "pue", NUM},
    {"facility_energy_j", "facility_energy_j", NUM},
    {"region", "carbon.region", TEXT},
    {"intensity_g_per_kwh", "carbon.intensity_g_per_kwh", NUM},
    {"emissions_g", "carbon.emissions_g", NUM},
    {"command", "command", COMMAND},
};
#define N_CSV_COLS (sizeof csv_cols / sizeof *csv_cols)

/* Where the runs go, one at a time as the ledger yields them. */
struct sink {
    struct wp_out out;
    FILE *f;      /* over out (wp_out_stream): the CSV writers' stream */
    int format;   /* 'c' csv, 'j' json, 'x' codecarbon */
    long n;       /* runs written */
    long skipped; /* codecarbon append: runs the file already held */
    const char *cols[WP_CSV_MAX_FIELDS];
    int ncols;
    bool appending; /* codecarbon: to an existing file */
    char **held;    /* codecarbon append: the file's run ids, sorted */
    size_t nheld;
    struct wp_buf b;
};

/* A row from the members' values, in the table's order. */
static int csv_row(const struct wp_ledger_value *v, int n, void *arg)
{
    struct sink *k = arg;
    FILE *f = k->f;

    flockfile(f);
    for (int i = 0; i < n; i++) {
        bool last = i == n - 1;
        switch (csv_cols[i].kind) {
        case TEXT:
        case COMMAND:
            field(f, v[i].kind == WP_VALUE_TEXT ? v[i].text : "", last);
            break;
        case NUM_OR_EMPTY:
            if (v[i].kind != WP_VALUE_NUM) {
                field(f, "", last);
                break;
            }
            /* fall through */
        case NUM:
            numf(f, v[i].kind == WP_VALUE_NUM ? v[i].num : 0.0, last);
            break;
        }
    }
    funlockfile(f);
    k->n++;
    return ferror(f) || k->out.err ? -EIO : 0;
}

static int by_text(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* What a CodeCarbon row reads of each run (struct wp_cc_run), as the ledger
 * keeps it: its columns, and a few members SQLite takes out of the
 * document without the whole being parsed. */
enum cc_member {
    M_RUN_ID,
    M_PROJECT,
    M_EXPERIMENT,
    M_START,
    M_END,
    M_REGION,
    M_REGION_NAME,
    M_OS,
    M_CPU_MODEL,
    M_GPU_MODEL,
    M_DURATION,
    M_PUE,
    M_EMISSIONS,
    M_CPU_J,
    M_GPU_J,
    M_DRAM_J,
    M_WATER,
    M_WUE,
    M_RAM,
    M_CPU_COUNT,
    M_GPUS,
    M_ASSUMED,
    M_SHARED,
    M_KEPT,
    N_CC_MEMBERS
};
static const char *const cc_members[N_CC_MEMBERS] = {
    [M_RUN_ID] = "run_id",
    [M_PROJECT] = "project",
    [M_EXPERIMENT] = "experiment",
    [M_START] = "start",
    [M_END] = "end",
    [M_REGION] = "carbon.region",
    [M_REGION_NAME] = "carbon.region_name",
    [M_OS] = "machine.os",
    [M_CPU_MODEL] = "machine.cpu_model",
    [M_GPU_MODEL] = "gpu_model",
    [M_DURATION] = "duration_s",
    [M_PUE] = "pue",
    [M_EMISSIONS] = "carbon.emissions_g",
    [M_CPU_J] = "energy.cpu_j",
    [M_GPU_J] = "energy.gpu_j",
    [M_DRAM_J] = "energy.dram_j",
    [M_WATER] = "carbon.water_l",
    [M_WUE] = "carbon.wue_l_per_kwh",
    [M_RAM] = "machine.ram_total_gib",
    [M_CPU_COUNT] = "machine.cpu_count",
    [M_GPUS] = "gpus",
    [M_ASSUMED] = "carbon.assumed",
    [M_SHARED] = "shared",
    [M_KEPT] = "codecarbon",
};

static const char *text_of(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_TEXT ? v->text : NULL;
}

static double num_of(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_NUM ? v->num : 0.0;
}

/* A number as the run's document holds it, for CodeCarbon's cells, which
 * print every digit a number has: a document's numbers are written with 10
 * significant digits (as jansson's JSON_REAL_PRECISION(10) writes them), a
 * column's keep all of theirs, and SQLite's reading of a document's number
 * (json_extract) may be a unit in the last place from strtod's. */
static double as_stored(const struct wp_ledger_value *v)
{
    return v->kind == WP_VALUE_NUM ? wp_round_g(v->num, 10) : 0.0;
}

/* A CodeCarbon row from the members' values, in cc_members' order. */
static int cc_row(const struct wp_ledger_value *v, int n, void *arg)
{
    struct sink *k = arg;
    const char *id = text_of(&v[M_RUN_ID]);
    struct wp_cc_run r = {
        .run_id = id,
        .project = text_of(&v[M_PROJECT]),
        .experiment = text_of(&v[M_EXPERIMENT]),
        .start = text_of(&v[M_START]),
        .end = text_of(&v[M_END]),
        .region = text_of(&v[M_REGION]),
        .region_name = text_of(&v[M_REGION_NAME]),
        .os = text_of(&v[M_OS]),
        .cpu_model = text_of(&v[M_CPU_MODEL]),
        .gpu_model = text_of(&v[M_GPU_MODEL]),
        .duration_s = as_stored(&v[M_DURATION]),
        .pue = as_stored(&v[M_PUE]),
        .emissions_g = as_stored(&v[M_EMISSIONS]),
        .cpu_j = as_stored(&v[M_CPU_J]),
        .gpu_j = as_stored(&v[M_GPU_J]),
        .dram_j = as_stored(&v[M_DRAM_J]),
        .water_l = as_stored(&v[M_WATER]),
        .wue_l_per_kwh = as_stored(&v[M_WUE]),
        .ram_total_gib = as_stored(&v[M_RAM]),
        .cpu_count = as_stored(&v[M_CPU_COUNT]),
        .gpus = (int)num_of(&v[M_GPUS]),
        .assumed = num_of(&v[M_ASSUMED]) != 0,
        .shared = num_of(&v[M_SHARED]) != 0,
    };

    (void)n; /* N_CC_MEMBERS, asked for */
    if (id && k->nheld && bsearch(&id, k->held, k->nheld, sizeof *k->held, by_text)) {
        k->skipped++;
        return 0;
    }
    /* an imported row's own cells: the only document part parsed, and only
     * for runs that have one (an object; anything else is not kept cells) */
    if (text_of(&v[M_KEPT]) && (r.kept = json_loads(text_of(&v[M_KEPT]), 0, NULL)) &&
        !json_is_object(r.kept)) {
        json_decref(r.kept);
        r.kept = NULL;
    }
    k->b.len = 0;
    wp_cc_row_of(&k->b, &r, k->cols, k->ncols);
    json_decref(r.kept);
    if (k->b.failed)
        return -ENOMEM;
    fwrite(k->b.p, 1, k->b.len, k->f);
    k->n++;
    return ferror(k->f) || k->out.err ? -EIO : 0;
}

static int json_run(json_t *run, void *arg)
{
    struct sink *k = arg;

    if (wp_cli_json_element(k->f, run, k->n == 0) != 0)
        return -ENOMEM;
    k->n++;
    return ferror(k->f) || k->out.err ? -EIO : 0;
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

/* An existing CodeCarbon file: its columns (CodeCarbon's own appends are
 * positional) and its run ids, sorted; the new file starts with its text. */
static int codecarbon_existing(struct sink *k, const char *path, const char *text, size_t len)
{
    static struct wp_csv hdr, row;
    size_t cap = 0;

    wp_csv_init(&hdr, text, len);
    if (wp_csv_next(&hdr) != 1 || !wp_cc_header_matches(&hdr)) {
        fprintf(stderr,
                "wattprint export: %s is not a CodeCarbon 3.x emissions.csv (its header is not "
                "CodeCarbon's %d columns); it was left as it was: give a new file\n",
                path, WP_CC_COLUMNS);
        return 2;
    }
    for (k->ncols = 0; k->ncols < hdr.nfields; k->ncols++)
        k->cols[k->ncols] = hdr.field[k->ncols];
    wp_csv_init(&row, hdr.p, (size_t)(hdr.end - hdr.p));
    while (wp_csv_next(&row) >= 0 && row.nfields > 0) {
        if (k->nheld == cap) {
            char **more = realloc(k->held, (cap = cap ? 2 * cap : 256) * sizeof *more);
            if (!more)
                return 1;
            k->held = more;
        }
        if (!(k->held[k->nheld] = strdup(wp_csv_get(&hdr, &row, "run_id"))))
            return 1;
        k->nheld++;
    }
    if (k->nheld)
        qsort(k->held, k->nheld, sizeof *k->held, by_text);
    k->appending = true;
    fwrite(text, 1, len, k->f);
    if (len && text[len - 1] != '\n')
        fputc('\n', k->f);
    return 0;
}

/* What comes before the first run. Returns 0, or an exit status. */
static int start(struct sink *k, const char *path)
{
    char err[1024], *text = NULL;
    size_t len = 0;
    int rc = 0;

    if (k->format == 'c') {
        for (size_t c = 0; c < N_CSV_COLS; c++)
            field(k->f, csv_cols[c].name, c == N_CSV_COLS - 1);
    } else if (k->format == 'j') {
        fputc('[', k->f);
    } else if (path && read_existing(path, &text, &len, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: --output: %s\n", err);
        rc = 1;
    } else if (text && len) {
        rc = codecarbon_existing(k, path, text, len);
    } else {
        memcpy(k->cols, wp_cc_columns, sizeof wp_cc_columns);
        k->ncols = WP_CC_COLUMNS;
        wp_cc_header(&k->b);
        fwrite(k->b.p, 1, k->b.len, k->f);
    }
    free(text);
    return rc;
}

static void release(struct sink *k)
{
    for (size_t i = 0; i < k->nheld; i++)
        free(k->held[i]);
    free(k->held);
    free(k->b.p);
    free(k);
}

/* The runs, written as they are read: a ledger of any size in constant
 * memory; a file appears whole (renamed when done) or not at all. */
static int stream(struct wp_ledger *l, const struct wp_ledger_opts *o, int format)
{
    struct sink *k = calloc(1, sizeof *k); /* 64 KiB of output buffer: not the stack */
    char err[1024];
    int rc;

    if (!k) {
        fprintf(stderr, "wattprint export: out of memory\n");
        return 1;
    }
    k->format = format;
    if (wp_out_open(&k->out, o->output, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: cannot write %s\n", err);
        free(k);
        return 1;
    }
    if (!(k->f = wp_out_stream(&k->out))) {
        wp_out_abort(&k->out);
        release(k);
        fprintf(stderr, "wattprint export: out of memory\n");
        return 1;
    }
    const char *members[N_CSV_COLS]; /* what the CSV reads of each run */
    for (size_t i = 0; i < N_CSV_COLS; i++)
        members[i] = csv_cols[i].member;
    if ((rc = start(k, o->output)) == 0) {
        rc = format == 'c'   ? wp_ledger_each_values(l, &o->q, 0, members, (int)N_CSV_COLS, csv_row,
                                                     k, err, sizeof err)
             : format == 'x' ? wp_ledger_each_values(l, &o->q, 0, cc_members, N_CC_MEMBERS, cc_row,
                                                     k, err, sizeof err)
                             : wp_ledger_each(l, &o->q, 0, json_run, k, err, sizeof err);
        if (rc == 0 && format == 'j')
            fputs(k->n ? "\n]\n" : "]\n", k->f);
    }
    if (fclose(k->f) != 0 && rc == 0) /* the last of it into out */
        rc = -EIO;
    if (rc == 0 && wp_out_close(&k->out, err, sizeof err) != 0) {
        fprintf(stderr, "wattprint export: cannot write %s\n", err);
        rc = 1;
    } else if (rc == 0 && k->appending) {
        fprintf(stderr, "wattprint export: appended %ld run%s to %s (%ld already there)\n", k->n,
                k->n == 1 ? "" : "s", o->output, k->skipped);
    } else if (rc != 0) {
        if (k->out.err)
            fprintf(stderr, "wattprint export: cannot write %s: %s\n", k->out.path,
                    strerror(k->out.err));
        else if (rc == -ENOMEM)
            fprintf(stderr, "wattprint export: out of memory\n");
        else if (rc < 0 && k->out.in_place) /* written as it went: say how far */
            fprintf(stderr,
                    "wattprint export: %s; the export to %s stopped after %ld run%s and is "
                    "incomplete: run it again when the ledger can be read\n",
                    err, k->out.path, k->n, k->n == 1 ? "" : "s");
        else if (rc < 0)
            fprintf(stderr, "wattprint export: %s (%s is left as it was)\n", err, k->out.path);
        wp_out_abort(&k->out); /* a file is left as it was */
    }
    release(k);
    return rc == 0 ? 0 : rc > 0 ? rc : 1;
}

int wp_cmd_export(int argc, char **argv)
{
    struct wp_ledger_opts o;
    struct wp_ledger *l;
    char err[1024];
    int first = wp_cli_ledger_parse("wattprint export", usage, "flx", argc, argv, &o), rc;

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
    rc = stream(l, &o,
                strcmp(o.format, "csv") == 0    ? 'c'
                : strcmp(o.format, "json") == 0 ? 'j'
                                                : 'x');
    wp_ledger_close(l);
    return rc;
}
