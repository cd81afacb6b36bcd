/* wattprint export --format csv|json|codecarbon: the ledger for other tools.
 * codecarbon writes CodeCarbon's emissions.csv columns and units (kWh, kg),
 * so dashboards built for it can read wattprint's runs. */
#define _GNU_SOURCE
#include "cli.h"
#include "ledger_opts.h"

#include "../run/run.h"
#include "../util/outfile.h"
#include "../util/util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

static const char usage[] =
    "usage: wattprint export --format csv|json|codecarbon [--output PATH]\n"
    "                        [--project P] [--experiment E] [--job J] [--tag K=V]...\n"
    "                        [--since DATE] [--limit N] [--ledger PATH]\n"
    "\nWrites the runs (oldest first) to PATH, or to stdout.\n";

/* One CSV field, quoted when it must be (RFC 4180). */
static void field(FILE *f, const char *v, bool last)
{
    if (strpbrk(v, ",\"\n\r")) {
        fputc('"', f);
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
        json_t *e = json_object_get(run, "energy"), *c = json_object_get(run, "carbon");
        char cmd[4096];
        wp_run_command_text(run, cmd, sizeof cmd);
        field(f, wp_json_str(run, "run_id"), false);
        field(f, wp_json_str(run, "start"), false);
        field(f, wp_json_str(run, "end"), false);
        field(f, wp_json_str(run, "status"), false);
        numf(f, wp_json_num(run, "exit_code"), false);
        numf(f, wp_json_num(run, "duration_s"), false);
        field(f, wp_json_str(run, "host"), false);
        field(f, wp_json_str(run, "user"), false);
        field(f, wp_json_str(run, "project"), false);
        field(f, wp_json_str(run, "experiment"), false);
        field(f, wp_json_str(run, "job"), false);
        numf(f, wp_json_num(e, "total_j"), false);
        numf(f, wp_json_num(e, "cpu_j"), false);
        numf(f, wp_json_num(e, "dram_j"), false);
        numf(f, wp_json_num(e, "gpu_j"), false);
        if (json_is_number(json_object_get(e, "psys_j")))
            numf(f, wp_json_num(e, "psys_j"), false);
        else
            field(f, "", false);
        field(f, wp_json_str(run, "method"), false);
        numf(f, wp_json_num(run, "pue"), false);
        numf(f, wp_json_num(run, "facility_energy_j"), false);
        field(f, wp_json_str(c, "region"), false);
        numf(f, wp_json_num(c, "intensity_g_per_kwh"), false);
        numf(f, wp_json_num(c, "emissions_g"), false);
        field(f, cmd, true);
    }
}

/* Mean power of a component over the run, W. */
static double component_power(json_t *run, const char *comp)
{
    double d = wp_json_num(run, "duration_s");
    return d > 0 ? wp_json_num(json_object_get(run, "energy"), comp) / d : 0;
}

static void write_codecarbon(FILE *f, json_t *runs)
{
    static const char header[] =
        "timestamp,project_name,run_id,experiment_id,duration,emissions,emissions_rate,"
        "cpu_power,gpu_power,ram_power,cpu_energy,gpu_energy,ram_energy,energy_consumed,"
        "country_name,country_iso_code,region,cloud_provider,cloud_region,os,python_version,"
        "codecarbon_version,cpu_count,cpu_model,gpu_count,gpu_model,longitude,latitude,"
        "ram_total_size,tracking_mode,on_cloud,pue\n";
    struct utsname u;
    char os[256] = "";
    size_t i, k;
    json_t *run, *ch;

    if (uname(&u) == 0)
        snprintf(os, sizeof os, "%s-%s-%s", u.sysname, u.release, u.machine);
    fputs(header, f);
    json_array_foreach(runs, i, run)
    {
        json_t *e = json_object_get(run, "energy"), *c = json_object_get(run, "carbon");
        const char *region = wp_json_str(c, "region");
        bool cloud = strchr(region, ':') != NULL;
        char provider[32] = "", cloud_region[64] = "", gpu_model[64] = "", ts[32];
        double kg = wp_json_num(c, "emissions_g") / 1000.0, d = wp_json_num(run, "duration_s");
        int gpus = 0;

        json_array_foreach(json_object_get(run, "channels"), k, ch)
        {
            if (strcmp(wp_json_str(ch, "component"), "gpu") == 0) {
                gpus++;
                snprintf(gpu_model, sizeof gpu_model, "%s", wp_json_str(ch, "name"));
            }
        }
        if (cloud) {
            snprintf(provider, sizeof provider, "%.*s", (int)strcspn(region, ":"), region);
            snprintf(cloud_region, sizeof cloud_region, "%s", strchr(region, ':') + 1);
        }
        /* CodeCarbon stamps the end of the run, without a zone suffix. */
        snprintf(ts, sizeof ts, "%.19s",
                 *wp_json_str(run, "end") ? wp_json_str(run, "end") : wp_json_str(run, "start"));
        field(f, ts, false);
        field(f, *wp_json_str(run, "project") ? wp_json_str(run, "project") : "wattprint", false);
        field(f, wp_json_str(run, "run_id"), false);
        field(f, wp_json_str(run, "experiment"), false);
        numf(f, d, false);
        numf(f, kg, false);
        numf(f, d > 0 ? kg / d : 0, false);
        numf(f, component_power(run, "cpu_j"), false);
        numf(f, component_power(run, "gpu_j"), false);
        numf(f, component_power(run, "dram_j"), false);
        numf(f, wp_json_num(e, "cpu_j") / 3.6e6, false);
        numf(f, wp_json_num(e, "gpu_j") / 3.6e6, false);
        numf(f, wp_json_num(e, "dram_j") / 3.6e6, false);
        /* the energy the emissions were computed from: facility energy, PUE included */
        numf(f, wp_json_num(run, "facility_energy_j") / 3.6e6, false);
        field(f, cloud ? "" : wp_json_str(c, "region_name"), false);
        field(f, cloud || json_is_true(json_object_get(c, "assumed")) ? "" : region, false);
        field(f, "", false);
        field(f, provider, false);
        field(f, cloud_region, false);
        field(f, os, false);
        field(f, "", false);
        field(f, "", false);
        field(f, "", false);
        field(f, "", false);
        numf(f, gpus, false);
        field(f, gpu_model, false);
        field(f, "", false);
        field(f, "", false);
        field(f, "", false);
        field(f, "machine", false);
        field(f, cloud ? "Y" : "N", false);
        numf(f, wp_json_num(run, "pue"), true);
    }
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
        json_array_append(rev, json_array_get(runs, i));
    json_decref(runs);
    /* the whole export in memory, then one write: a failure leaves no half file */
    if (o.output && !(f = open_memstream(&text, &len))) {
        fprintf(stderr, "wattprint export: out of memory\n");
        json_decref(rev);
        return 1;
    }
    if (strcmp(o.format, "json") == 0) {
        json_dumpf(rev, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10));
        fputc('\n', f);
    } else if (strcmp(o.format, "csv") == 0) {
        write_csv(f, rev);
    } else {
        write_codecarbon(f, rev);
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
