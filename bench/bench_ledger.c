/* Benchmark: the ledger at scale. Inserts 1,000,000 runs (each the JSON of a
 * real `wattprint run` on the machine, with its id, start, project and
 * experiment varied), then times `summary --by experiment` and
 * `ls --limit 100` over them, and measures what one run adds to a ledger:
 * 1 s, 1 h and 24 h long. Usage: bench_ledger RUN.json [RUNS]. */
#define _GNU_SOURCE
#include "ledger/ledger.h"
#include "ledger/ledger_int.h"
#include "meter/meter.h"
#include "util/util.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double since(double t0)
{
    return wp_mono_s() - t0;
}

static long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

/* A constant-power sensor standing in for hardware in the long runs: a CPU
 * package, its DRAM and two GPUs (the channels of a typical training node). */
static void steady_read(struct wp_sensor *s, double now, uint64_t *e, bool *ok)
{
    for (int c = 0; c < s->n_channels; c++) {
        e[c] = (uint64_t)(now * (c + 1) * 50e6); /* 50, 100, 150, 200 W */
        ok[c] = true;
    }
}

static void steady_close(struct wp_sensor *s)
{
    wp_sensor_free(s);
}

static const struct wp_sensor_ops steady_ops = {"steady", 1u << WP_CPU, NULL, steady_read,
                                                steady_close};

/* The bytes of the ledger's pages in use, its WAL checkpointed into it: a
 * file grows by whole pages (16 KiB), which a few small runs may not fill. */
static long ledger_bytes(const char *path)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    long v[3] = {0, 0, 0};
    static const char *const q[] = {"PRAGMA page_count", "PRAGMA freelist_count",
                                    "PRAGMA page_size"};

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
        sqlite3_close(db);
        return file_size(path);
    }
    sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
    for (int i = 0; i < 3; i++)
        if (sqlite3_prepare_v2(db, q[i], -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW)
                v[i] = sqlite3_column_int64(st, 0);
            sqlite3_finalize(st);
        }
    sqlite3_close(db);
    return (v[0] - v[1]) * v[2];
}

/* One run of seconds sampled at hz, added to the ledger at path: the bytes
 * it adds (the ledger already holds a run, so fixed costs are paid). */
static long run_of(const char *path, double seconds, double hz, int *kept)
{
    static const char *const devices[] = {"package-0", "dram-0", "gpu-0", "gpu-1"};
    struct wp_sensor **list = calloc(1, sizeof *list);
    struct wp_run run = {0};
    struct wp_ledger *l;
    struct wp_meter *m;
    struct wp_reading r;
    char *argv[] = {"train", NULL}, err[1024];
    long before = ledger_bytes(path), samples = (long)(seconds * hz);

    list[0] = wp_sensor_alloc(&steady_ops, 4);
    for (int c = 0; c < 4; c++) {
        list[0]->channels[c] = (struct wp_channel){.sensor = "steady",
                                                   .component = c == 0   ? WP_CPU
                                                                : c == 1 ? WP_DRAM
                                                                         : WP_GPU,
                                                   .counted = true};
        snprintf(list[0]->channels[c].device, sizeof list[0]->channels[c].device, "%s", devices[c]);
    }
    wp_meter_create(list, 1, 0, NULL, &m);
    wp_meter_start(m);
    for (long i = 0; i < samples; i++)
        wp_meter_sample(m);
    wp_meter_stop(m);
    wp_uuid7(run.run_id);
    run.argc = 1;
    run.argv = argv;
    run.start_wall_s = wp_wall_s();
    run.end_wall_s = run.start_wall_s + seconds;
    wp_region_world(&run.assume.region);
    run.assume.pue = 1.0;
    if (wp_meter_read(m, true, &r) != 0) {
        fprintf(stderr, "bench_ledger: out of memory\n");
        exit(1);
    }
    wp_run_set_reading(&run, &r);
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &l, err, sizeof err) ||
        wp_ledger_begin(l, &run, err, sizeof err) || wp_ledger_finish(l, &run, err, sizeof err)) {
        fprintf(stderr, "bench_ledger: %s\n", err);
        exit(1);
    }
    wp_ledger_close(l);
    *kept = run.reading.n_samples;
    wp_run_release(&run);
    wp_meter_free(m);
    return ledger_bytes(path) - before;
}

/* What one run costs the ledger: 1 s, 1 h and 24 h at the default 1 s
 * interval, and a day at 10 Hz, each beside the others in one file: the
 * pages in use after 500 (1 s) or 20 (longer) runs alike, per run. */
static void run_sizes(const char *dir)
{
    static const struct {
        const char *what;
        double seconds, hz;
    } runs[] = {{"a 1-second run", 1, 1},
                {"a 1-hour run", 3600, 1},
                {"a 24-hour run", 86400, 1},
                {"a 24-hour run at 10 Hz", 86400, 10}};
    char path[512];
    int kept;

    snprintf(path, sizeof path, "%s/sizes.db", dir);
    run_of(path, 1, 1, &kept); /* the schema and the first pages */
    for (size_t i = 0; i < sizeof runs / sizeof *runs; i++) {
        long bytes = 0;
        int alike = i == 0 ? 500 : 20; /* the mean over many pages' worth */
        for (int k = 0; k < alike; k++)
            bytes += run_of(path, runs[i].seconds, runs[i].hz, &kept);
        printf("%s (4 channels, %ld readings, the meter kept %d, the ledger at most %d): %.3g kB "
               "of ledger a run%s\n",
               runs[i].what, (long)(runs[i].seconds * runs[i].hz), kept, WP_LEDGER_SAMPLES,
               (double)bytes / alike / 1e3, i == 0 ? " (target <= 1 kB)" : "");
    }
}

int main(int argc, char **argv)
{
    long n = argc > 2 ? atol(argv[2]) : 1000000;
    char dir[] = "/tmp/wattprint-bench-ledger-XXXXXX", path[512], err[1024];
    json_error_t je;
    json_t *tmpl;
    struct wp_ledger *l;
    double t0, base = wp_wall_s() - (double)n;

    if (argc < 2 || !(tmpl = json_load_file(argv[1], 0, &je))) {
        fprintf(stderr, "usage: bench_ledger RUN.json [RUNS [LEDGER]]   (LEDGER: a postgresql:// "
                        "URI; default a new SQLite file)\n");
        return 2;
    }
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    if (argc > 3)
        snprintf(path, sizeof path, "%s", argv[3]);
    else
        snprintf(path, sizeof path, "%s/ledger.db", dir);
    if (wp_ledger_open(path, WP_LEDGER_WRITE, &l, err, sizeof err)) {
        fprintf(stderr, "bench_ledger: %s\n", err);
        return 1;
    }
    /* The real run's JSON with fixed-width fields to vary in place. */
    json_object_set_new(tmpl, "run_id", json_string("RUNID-0000-7000-8000-000000000000000"));
    json_object_set_new(tmpl, "start", json_string("SSSSSSSSSSSSSSSSSSSS"));
    json_object_set_new(tmpl, "project", json_string("project-XX"));
    json_object_set_new(tmpl, "experiment", json_string("experiment-XXX"));
    json_object_del(tmpl, "equivalents"); /* stored as the ledger stores runs */
    json_object_del(tmpl, "sci");
    json_object_del(tmpl, "assumptions");
    char *text = json_dumps(tmpl, JSON_COMPACT | JSON_REAL_PRECISION(10));
    char *pid = strstr(text, "RUNID"), *pstart = strstr(text, "SSSSSSSSSSSSSSSSSSSS");
    char *pproj = strstr(text, "project-XX"), *pexp = strstr(text, "experiment-XXX");
    t0 = wp_mono_s();
    for (long i = 0; i < n; i++) {
        char buf[64];
        if (i % 10000 == 0 && (i ? wp_ledger_end_batch(l) : 0) == 0)
            wp_ledger_begin_batch(l);
        snprintf(buf, sizeof buf, "%08lx-0000-7000-8000-%012lx", (unsigned long)i,
                 (unsigned long)i);
        memcpy(pid, buf, 36);
        wp_iso8601(base + (double)i, buf, sizeof buf);
        memcpy(pstart, buf, 20);
        snprintf(buf, sizeof buf, "project-%02ld", i % 10);
        memcpy(pproj, buf, 10);
        snprintf(buf, sizeof buf, "experiment-%03ld", i % 100);
        memcpy(pexp, buf, 14);
        char id[37], project[16], experiment[16];
        memcpy(id, pid, 36);
        id[36] = '\0';
        memcpy(project, pproj, 10);
        project[10] = '\0';
        memcpy(experiment, pexp, 14);
        experiment[14] = '\0';
        struct wp_ledger_row row = {.id = id,
                                    .status = "completed",
                                    .start_s = base + (double)i,
                                    .duration_s = 1.5,
                                    .host = "bench",
                                    .project = project,
                                    .experiment = experiment,
                                    .energy_j = 20.0,
                                    .facility_energy_j = 22.0,
                                    .emissions_g = 0.003};
        /* the export's columns, as a writer takes them from the run (its
         * start and end are those the row's times write: NULL, as a real
         * run's; the template's are placeholders) */
        wp_ledger_row_export(tmpl, &row);
        row.x.text[2] = row.x.text[3] = NULL;
        if (wp_ledger_insert_row(l, &row, text, err, sizeof err) < 0) {
            fprintf(stderr, "bench_ledger: %s\n", err);
            return 1;
        }
    }
    free(text);
    wp_ledger_end_batch(l);
    if (argc > 3)
        printf("insert %ld runs into %s: %.1f s\n", n, wp_ledger_is_uri(path) ? "PostgreSQL" : path,
               since(t0));
    else
        printf("insert %ld runs: %.1f s (target < 30 s); ledger %.0f MB\n", n, since(t0),
               (file_size(path) + file_size(strcat(strcpy(err, path), "-wal"))) / 1e6);

    t0 = wp_mono_s();
    json_t *groups = wp_ledger_summary(l, "experiment", NULL, err, sizeof err);
    printf("summary --by experiment over %ld runs: %.3f s, %zu groups (target < 0.5 s)\n", n,
           since(t0), json_array_size(groups) - 1);
    json_decref(groups);

    t0 = wp_mono_s();
    struct wp_query q = {.limit = 100};
    json_t *runs = wp_ledger_list(l, &q, false, err, sizeof err);
    printf("ls --limit 100 over %ld runs: %.1f ms, %zu runs (target < 50 ms)\n", n, since(t0) * 1e3,
           json_array_size(runs));
    json_decref(runs);
    wp_ledger_close(l);

    run_sizes(dir);
    snprintf(err, sizeof err, "rm -rf %s", dir);
    if (system(err) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    json_decref(tmpl);
    return 0;
}
