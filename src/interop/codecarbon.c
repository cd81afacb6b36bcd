/* CodeCarbon's emissions.csv, written and read. */
#define _GNU_SOURCE
#include "codecarbon.h"

#include "../run/run.h"
#include "../util/jput.h"
#include "../util/shortest.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define J_PER_KWH 3.6e6

const char *const wp_cc_columns[WP_CC_COLUMNS] = {
    "timestamp",
    "project_name",
    "run_id",
    "experiment_id",
    "duration",
    "emissions",
    "emissions_rate",
    "cpu_power",
    "gpu_power",
    "ram_power",
    "cpu_energy",
    "gpu_energy",
    "ram_energy",
    "energy_consumed",
    "water_consumed",
    "country_name",
    "country_iso_code",
    "region",
    "cloud_provider",
    "cloud_region",
    "os",
    "python_version",
    "codecarbon_version",
    "cpu_count",
    "cpu_model",
    "gpu_count",
    "gpu_model",
    "longitude",
    "latitude",
    "ram_total_size",
    "tracking_mode",
    "cpu_utilization_percent",
    "gpu_utilization_percent",
    "ram_utilization_percent",
    "ram_used_gb",
    "on_cloud",
    "pue",
    "wue",
};

/* wp_cc_columns' indexes, in its order (set by name, once, not looked up for
 * each cell of each row) */
enum cc_col {
    CC_TIMESTAMP,
    CC_PROJECT_NAME,
    CC_RUN_ID,
    CC_EXPERIMENT_ID,
    CC_DURATION,
    CC_EMISSIONS,
    CC_EMISSIONS_RATE,
    CC_CPU_POWER,
    CC_GPU_POWER,
    CC_RAM_POWER,
    CC_CPU_ENERGY,
    CC_GPU_ENERGY,
    CC_RAM_ENERGY,
    CC_ENERGY_CONSUMED,
    CC_WATER_CONSUMED,
    CC_COUNTRY_NAME,
    CC_COUNTRY_ISO_CODE,
    CC_REGION,
    CC_CLOUD_PROVIDER,
    CC_CLOUD_REGION,
    CC_OS,
    CC_PYTHON_VERSION,
    CC_CODECARBON_VERSION,
    CC_CPU_COUNT,
    CC_CPU_MODEL,
    CC_GPU_COUNT,
    CC_GPU_MODEL,
    CC_LONGITUDE,
    CC_LATITUDE,
    CC_RAM_TOTAL_SIZE,
    CC_TRACKING_MODE,
    CC_CPU_UTILIZATION_PERCENT,
    CC_GPU_UTILIZATION_PERCENT,
    CC_RAM_UTILIZATION_PERCENT,
    CC_RAM_USED_GB,
    CC_ON_CLOUD,
    CC_PUE,
    CC_WUE,
    CC_N
};
_Static_assert(CC_N == WP_CC_COLUMNS, "one name per column");

/* One CSV field, quoted when it must be (RFC 4180); a cell a spreadsheet
 * would evaluate is guarded with a ' (wp_csv_formula_risk). */
static void field(struct wp_buf *b, const char *v)
{
    bool guard = wp_csv_formula_risk(v);

    if (!guard && !strpbrk(v, ",\"\n\r")) {
        wp_buf_add(b, v, strlen(v));
        return;
    }
    wp_buf_printf(b, guard ? "\"'" : "\"");
    for (; *v; v++)
        wp_buf_printf(b, *v == '"' ? "\"\"" : "%c", *v);
    wp_buf_printf(b, "\"");
}

/* A whole number below 1e15 as "%lld.0" writes it (out holds 32). */
static void whole(char *out, long long w)
{
    char d[24];
    int n = 0;
    unsigned long long u = w < 0 ? 0ULL - (unsigned long long)w : (unsigned long long)w;

    do
        d[n++] = (char)('0' + u % 10);
    while ((u /= 10) > 0);
    if (w < 0)
        *out++ = '-';
    while (n > 0)
        *out++ = d[--n];
    memcpy(out, ".0", 3);
}

/* A float as CodeCarbon's pandas writes one: always with a point ("0.0");
 * out holds at least 32. */
static void real(char *out, size_t cap, double v)
{
    if (!isfinite(v))
        v = 0.0;
    /* a whole number (zeros most of all: half a row's cells) without
     * floating-point formatting: the same text */
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v && !(v == 0 && signbit(v))) {
        whole(out, (long long)v);
        return;
    }
    wp_shortest_g(out, cap, v); /* the shortest that reads back exactly */
    if (!strpbrk(out, ".e"))
        strncat(out, ".0", cap - strlen(out) - 1);
}

/* FNV-1a, for ids that must be the same each time from the same text. */
static uint64_t fnv(const char *s, size_t n, uint64_t h)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return h;
}

/* A UUID (version 8: custom) from text, stable across runs and machines. */
static void uuid_of(const char *s, size_t n, char out[37])
{
    uint64_t a = fnv(s, n, 0xcbf29ce484222325ULL), b = fnv(s, n, a ^ 0x9e3779b97f4a7c15ULL);

    snprintf(out, 37, "%08x-%04x-8%03x-%04x-%012llx", (unsigned)(a >> 32),
             (unsigned)(a >> 16) & 0xffff, (unsigned)a & 0xfff,
             (unsigned)(0x8000 | ((b >> 48) & 0x3fff)),
             (unsigned long long)(b & 0xffffffffffffULL));
}

static bool is_uuid(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";

    if (strlen(s) != 36)
        return false;
    for (int i = 0; i < 36; i++)
        if (shape[i] == '-' ? s[i] != '-' : !strchr("0123456789abcdefABCDEF", s[i]))
            return false;
    return true;
}

void wp_cc_experiment_id(const char *name, char out[37])
{
    if (!name || !*name)
        snprintf(out, 37, "%s", WP_CC_DEFAULT_EXPERIMENT);
    else if (is_uuid(name))
        snprintf(out, 37, "%s", name);
    else {
        char key[512];
        int n = snprintf(key, sizeof key, "wattprint experiment %s", name);
        uuid_of(key, n < (int)sizeof key ? (size_t)n : sizeof key - 1, out);
    }
}

void wp_cc_header(struct wp_buf *b)
{
    for (int i = 0; i < WP_CC_COLUMNS; i++)
        wp_buf_printf(b, "%s%s", wp_cc_columns[i], i + 1 < WP_CC_COLUMNS ? "," : "\n");
}

bool wp_cc_header_matches(const struct wp_csv *hdr)
{
    if (hdr->nfields != WP_CC_COLUMNS)
        return false;
    for (int i = 0; i < WP_CC_COLUMNS; i++)
        if (wp_csv_column(hdr, wp_cc_columns[i]) < 0)
            return false;
    return true;
}

/* A run's 38 values, in wp_cc_columns' order. */
struct cc_row {
    char v[WP_CC_COLUMNS][192];
};

static int col_index(const char *name)
{
    for (int i = 0; i < WP_CC_COLUMNS; i++)
        if (strcmp(wp_cc_columns[i], name) == 0)
            return i;
    return -EINVAL;
}

static void set_text(struct cc_row *r, enum cc_col col, const char *v)
{
    snprintf(r->v[col], sizeof r->v[0], "%s", v ? v : "");
}

static void set_real(struct cc_row *r, enum cc_col col, double v)
{
    real(r->v[col], sizeof r->v[0], v);
}

/* The energies and powers: CodeCarbon's components include PUE and add up
 * to energy_consumed; its powers are the hardware's, without PUE. */
static void fill_numbers(const struct wp_cc_run *in, struct cc_row *r)
{
    double d = in->duration_s, pue = in->pue > 0 ? in->pue : 1.0, kg = in->emissions_g / 1000.0;
    double cpu = in->cpu_j, gpu = in->gpu_j, ram = in->dram_j;

    set_real(r, CC_DURATION, d);
    set_real(r, CC_EMISSIONS, kg);
    set_real(r, CC_EMISSIONS_RATE, d > 0 ? kg / d : 0);
    set_real(r, CC_CPU_POWER, d > 0 ? cpu / d : 0);
    set_real(r, CC_GPU_POWER, d > 0 ? gpu / d : 0);
    set_real(r, CC_RAM_POWER, d > 0 ? ram / d : 0);
    set_real(r, CC_CPU_ENERGY, cpu * pue / J_PER_KWH);
    set_real(r, CC_GPU_ENERGY, gpu * pue / J_PER_KWH);
    set_real(r, CC_RAM_ENERGY, ram * pue / J_PER_KWH);
    set_real(r, CC_ENERGY_CONSUMED, (cpu + gpu + ram) * pue / J_PER_KWH);
    set_real(r, CC_WATER_CONSUMED, in->water_l);
    set_real(r, CC_RAM_TOTAL_SIZE, in->ram_total_gib);
    set_real(r, CC_CPU_UTILIZATION_PERCENT, 0);
    set_real(r, CC_GPU_UTILIZATION_PERCENT, 0);
    set_real(r, CC_RAM_UTILIZATION_PERCENT, 0);
    set_real(r, CC_RAM_USED_GB, 0);
    set_real(r, CC_PUE, pue);
    set_real(r, CC_WUE, in->wue_l_per_kwh);
    snprintf(r->v[CC_CPU_COUNT], sizeof r->v[0], "%.0f", in->cpu_count);
}

static void fill_texts(const struct wp_cc_run *in, struct cc_row *r)
{
    const char *region = in->region ? in->region : "", *colon = strchr(region, ':');
    const char *end = in->end && *in->end ? in->end : in->start ? in->start : "";
    char id[37];

    snprintf(r->v[CC_TIMESTAMP], sizeof r->v[0], "%.19s", end); /* no zone, as CodeCarbon */
    set_text(r, CC_PROJECT_NAME, in->project && *in->project ? in->project : "wattprint");
    set_text(r, CC_RUN_ID, in->run_id);
    wp_cc_experiment_id(in->experiment, id);
    set_text(r, CC_EXPERIMENT_ID, id);
    set_text(r, CC_COUNTRY_NAME, colon || in->assumed ? "" : in->region_name);
    set_text(r, CC_COUNTRY_ISO_CODE, colon || in->assumed ? "" : region);
    if (colon) {
        snprintf(r->v[CC_CLOUD_PROVIDER], sizeof r->v[0], "%.*s", (int)(colon - region), region);
        set_text(r, CC_CLOUD_REGION, colon + 1);
        set_text(r, CC_REGION, colon + 1);
    }
    set_text(r, CC_OS, in->os);
    set_text(r, CC_CODECARBON_VERSION, "");
    set_text(r, CC_CPU_MODEL, in->cpu_model);
    snprintf(r->v[CC_GPU_COUNT], sizeof r->v[0], "%d", in->gpus);
    set_text(r, CC_GPU_MODEL, in->gpu_model);
    set_text(r, CC_TRACKING_MODE, in->shared ? "process" : "machine");
    set_text(r, CC_ON_CLOUD, colon ? "Y" : "N");
}

void wp_cc_row_of(struct wp_buf *b, const struct wp_cc_run *in, const char *const *cols, int n)
{
    struct cc_row r; /* 7 kB: each cell "" until set, not the whole zeroed */
    /* a run imported from CodeCarbon goes back as it came, column for column */
    json_t *kept = in->kept;

    for (int k = 0; k < WP_CC_COLUMNS; k++)
        r.v[k][0] = '\0';
    fill_numbers(in, &r);
    fill_texts(in, &r);
    for (int i = 0; i < n; i++) {
        /* a file's columns are mostly in CodeCarbon's order: no search then */
        int k =
            i < WP_CC_COLUMNS && strcmp(cols[i], wp_cc_columns[i]) == 0 ? i : col_index(cols[i]);
        json_t *cell = kept ? json_object_get(kept, cols[i]) : NULL;
        field(b, json_is_string(cell) ? json_string_value(cell) : k >= 0 ? r.v[k] : "");
        wp_buf_add(b, i + 1 < n ? "," : "\n", 1);
    }
}

void wp_cc_row(struct wp_buf *b, json_t *run, const char *const *cols, int n)
{
    json_t *e = wp_json_get(run, WPF_ENERGY), *m = wp_json_get(run, WPF_MACHINE),
           *c = wp_json_get(run, WPF_CARBON), *kept = wp_json_get(run, WPF_CODECARBON);
    struct wp_cc_run in = {
        .run_id = wp_json_str(run, WPF_RUN_ID),
        .project = wp_json_str(run, WPF_PROJECT),
        .experiment = wp_json_str(run, WPF_EXPERIMENT),
        .start = wp_json_str(run, WPF_START),
        .end = wp_json_str(run, WPF_END),
        .region = wp_json_str(c, WPF_REGION),
        .region_name = wp_json_str(c, WPF_REGION_NAME),
        .os = wp_json_str(m, WPF_OS),
        .cpu_model = wp_json_str(m, WPF_CPU_MODEL),
        .duration_s = wp_json_num(run, WPF_DURATION_S),
        .pue = wp_json_num(run, WPF_PUE),
        .emissions_g = wp_json_num(c, WPF_EMISSIONS_G),
        .cpu_j = wp_json_num(e, WPF_CPU_J),
        .gpu_j = wp_json_num(e, WPF_GPU_J),
        .dram_j = wp_json_num(e, WPF_DRAM_J),
        .water_l = wp_json_num(c, WPF_WATER_L),
        .wue_l_per_kwh = wp_json_num(c, WPF_WUE_L_PER_KWH),
        .ram_total_gib = wp_json_num(m, WPF_RAM_TOTAL_GIB),
        .cpu_count = wp_json_num(m, WPF_CPU_COUNT),
        .assumed = wp_json_true(c, WPF_ASSUMED),
        .shared = wp_run_json_shared(run),
        .kept = json_is_object(kept) ? kept : NULL,
    };

    in.gpus = wp_run_json_gpus(run, &in.gpu_model);
    wp_cc_row_of(b, &in, cols, n);
}

/* A number under column name: 0 where empty (when optional). Returns 0, or
 * a negative errno with the reason when it is required and missing, or not a number. */
static int num(const struct wp_csv *h, const struct wp_csv *r, const char *name, bool required,
               double *out, char *err, size_t cap)
{
    const char *s = wp_csv_get(h, r, name);

    *out = 0;
    if (!*s) {
        if (required)
            snprintf(err, cap, "%s is empty", name);
        return required ? -EINVAL : 0;
    }
    if (wp_parse_double(s, out) != 0 || !isfinite(*out) || *out < 0) {
        snprintf(err, cap, "%s '%.40s' is not a number of 0 or more", name, s);
        return -EINVAL;
    }
    return 0;
}

/* The components back to IT energy (CodeCarbon's include PUE). */
static json_t *channels_of(const double kwh[3], double pue, double d, const char *version)
{
    static const char *const comp[3] = {"cpu", "gpu", "dram"};
    static const char *const method[3] = {"estimated", "measured", "estimated"};
    json_t *arr = json_array();
    char detail[160];
    int bad = 0;

    for (int i = 0; i < 3; i++) {
        double j = kwh[i] * J_PER_KWH / pue;
        if (!(kwh[i] > 0))
            continue;
        snprintf(detail, sizeof detail, "imported from CodeCarbon%s%s: %.6g kWh with PUE %.3g",
                 *version ? " " : "", version, kwh[i], pue);
        wp_jpush(&bad, arr,
                 json_pack("{s:s, s:s, s:s, s:f, s:f, s:s, s:b, s:i, s:b, s:s}", "sensor",
                           "codecarbon", "component", comp[i], "device", comp[i], "energy_j", j,
                           "mean_power_w", d > 0 ? j / d : 0.0, "method", method[i], "counted", 1,
                           "wraps", 0, "lost", 0, "detail", detail));
    }
    return wp_jdone(bad, arr);
}

struct cc_in {
    double end_s, d, kg, kwh[3], total_kwh, pue;
};

/* The numbers of a row, checked. Returns 0 or a negative errno with err. */
static int read_numbers(const struct wp_csv *h, const struct wp_csv *r, struct cc_in *in, char *err,
                        size_t cap)
{
    /* CodeCarbon writes its machine's local time without a zone: read as UTC */
    if (wp_parse_utc(wp_csv_get(h, r, "timestamp"), &in->end_s) != 0) {
        snprintf(err, cap, "timestamp '%.40s' is not YYYY-MM-DDTHH:MM:SS",
                 wp_csv_get(h, r, "timestamp"));
        return -EINVAL;
    }
    if (num(h, r, "duration", true, &in->d, err, cap) ||
        num(h, r, "emissions", true, &in->kg, err, cap) ||
        num(h, r, "cpu_energy", false, &in->kwh[0], err, cap) ||
        num(h, r, "gpu_energy", false, &in->kwh[1], err, cap) ||
        num(h, r, "ram_energy", false, &in->kwh[2], err, cap) ||
        num(h, r, "energy_consumed", false, &in->total_kwh, err, cap) ||
        num(h, r, "pue", false, &in->pue, err, cap))
        return -EINVAL;
    if (in->d > 3.2e8) { /* ten years: a unit mistake, not a run */
        snprintf(err, cap, "duration %.3g s is more than ten years", in->d);
        return -EINVAL;
    }
    if (!*wp_csv_get(h, r, "energy_consumed"))
        in->total_kwh = in->kwh[0] + in->kwh[1] + in->kwh[2];
    if (in->pue == 0)
        in->pue = 1.0; /* before CodeCarbon wrote a pue column, none was applied */
    if (in->pue < 1.0) {
        snprintf(err, cap, "pue %.3g is below 1", in->pue);
        return -EINVAL;
    }
    return 0;
}

static json_t *machine_of(const struct wp_csv *h, const struct wp_csv *r)
{
    double ram = 0, cpus = 0;
    char scratch[8];

    num(h, r, "ram_total_size", false, &ram, scratch, sizeof scratch);
    num(h, r, "cpu_count", false, &cpus, scratch, sizeof scratch);
    if (cpus > 1e7) /* not a count of CPUs: none said */
        cpus = 0;
    return json_pack("{s:s, s:i, s:f, s:s}", "cpu_model", wp_csv_get(h, r, "cpu_model"),
                     "cpu_count", (int)cpus, "ram_total_gib", ram, "os", wp_csv_get(h, r, "os"));
}

static json_t *carbon_of(const struct wp_csv *h, const struct wp_csv *r, const struct cc_in *in)
{
    const char *iso = wp_csv_get(h, r, "country_iso_code"),
               *prov = wp_csv_get(h, r, "cloud_provider");
    char region[96];

    if (*prov && *wp_csv_get(h, r, "cloud_region"))
        snprintf(region, sizeof region, "%.30s:%.60s", prov, wp_csv_get(h, r, "cloud_region"));
    else
        snprintf(region, sizeof region, "%.60s", iso);
    return json_pack("{s:s, s:s, s:f, s:s, s:f, s:b}", "region", region, "region_name",
                     *prov ? region : wp_csv_get(h, r, "country_name"), "intensity_g_per_kwh",
                     in->total_kwh > 0 ? in->kg * 1000.0 / in->total_kwh : 0.0, "intensity_source",
                     "as CodeCarbon computed it (imported)", "emissions_g", in->kg * 1000.0,
                     "assumed", 0);
}

/* Every cell of the row, as written, under its column's name: what the run
 * does not otherwise hold (water, WUE, utilisation, coordinates, versions,
 * CodeCarbon's own cpu_power and ram_power) is kept, and an export gives
 * the row back. */
static json_t *cells_of(const struct wp_csv *h, const struct wp_csv *r)
{
    json_t *o = json_object();
    int bad = 0;

    for (int i = 0; o && i < h->nfields; i++) {
        char key[128], value[4 * 1024];
        wp_utf8_clean(h->field[i], key, sizeof key);
        wp_utf8_clean(i < r->nfields ? r->field[i] : "", value, sizeof value);
        wp_jput(&bad, o, key, json_string(value));
    }
    return wp_jdone(bad, o);
}

json_t *wp_cc_run_from_row(const struct wp_csv *h, const struct wp_csv *r, const char *line,
                           size_t line_len, char *err, size_t cap)
{
    const char *version = wp_csv_get(h, r, "codecarbon_version"), *id = wp_csv_get(h, r, "run_id");
    struct cc_in in;
    char start[32], end[32], run_id[64], imported[96];
    json_t *run;
    int bad = 0;

    if (read_numbers(h, r, &in, err, cap))
        return NULL;
    /* A row without a run id (older CodeCarbon), or with "None" (CodeCarbon
     * writes it when the tracker had none), gets one from its text, so a
     * second import finds it again. */
    if (is_uuid(id))
        snprintf(run_id, sizeof run_id, "%s", id);
    else
        uuid_of(line, line_len, run_id);
    wp_iso8601(in.end_s - in.d, start, sizeof start);
    wp_iso8601(in.end_s, end, sizeof end);
    snprintf(imported, sizeof imported, "imported from CodeCarbon%s%.40s", *version ? " " : "",
             version);
    run = json_pack("{s:s, s:s, s:n, s:n, s:s, s:s, s:f, s:f, s:[], s:s, s:s, s:s, s:s, s:n, "
                    "s:{}, s:[], s:f, s:f, s:s, s:f, s:s, s:n, s:n, s:s}",
                    "run_id", run_id, "status", "completed", "exit_code", "signal", "start", start,
                    "end", end, "duration_s", in.d, "interval_s", 0.0, "command", "cwd", "", "host",
                    "", "user", "", "project", wp_csv_get(h, r, "project_name"), "job", "tags",
                    "settings", "pue", in.pue, "facility_energy_j", in.total_kwh * J_PER_KWH,
                    "pue_source", imported, "embodied_g", 0.0, "method",
                    in.kwh[0] > 0 || in.kwh[2] > 0 ? "estimated" : "measured", "work", "cloud",
                    "imported", imported);
    if (!run) {
        snprintf(err, cap, "out of memory");
        return NULL;
    }
    wp_jput(&bad, run, "codecarbon", cells_of(h, r));
    wp_jput(&bad, run, "experiment", json_string(wp_csv_get(h, r, "experiment_id")));
    wp_jput(&bad, run, "tracking_mode", json_string(wp_csv_get(h, r, "tracking_mode")));
    wp_jput(&bad, run, "machine", machine_of(h, r));
    wp_jput(&bad, run, "carbon", carbon_of(h, r, &in));
    wp_jput(&bad, run, "channels", channels_of(in.kwh, in.pue, in.d, version));
    wp_jput(&bad, run, "energy",
            json_pack("{s:f, s:f, s:f, s:f, s:n}", "total_j", in.total_kwh * J_PER_KWH / in.pue,
                      "cpu_j", in.kwh[0] * J_PER_KWH / in.pue, "dram_j",
                      in.kwh[2] * J_PER_KWH / in.pue, "gpu_j", in.kwh[1] * J_PER_KWH / in.pue,
                      "psys_j"));
    if (bad) {
        snprintf(err, cap, "out of memory");
        json_decref(run);
        return NULL;
    }
    if (wp_run_doc_check(run, err, cap) != 0) { /* what the ledger will read back */
        json_decref(run);
        return NULL;
    }
    if (wp_run_json_derive(run) != 0) {
        snprintf(err, cap, "out of memory");
        json_decref(run);
        return NULL;
    }
    return run;
}
